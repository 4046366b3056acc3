//! HTML escaping of dynamic values and the explicit raw escape hatch.

use std::borrow::Cow;
use std::fmt;

/// Appends `text` to `out`, escaping `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
pub fn escape_into(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, byte) in bytes.iter().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[start..index]);
        out.push_str(replacement);
        start = index + 1;
    }
    out.push_str(&text[start..]);
}

/// Escapes `text` for HTML, borrowing it when nothing needs escaping.
///
/// ```
/// use liveview_diff::escape;
/// assert_eq!(escape("a < b & 'c'"), "a &lt; b &amp; &#39;c&#39;");
/// assert!(matches!(escape("plain"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn escape(text: &str) -> Cow<'_, str> {
    if text
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
    {
        let mut out = String::with_capacity(text.len() + 8);
        escape_into(text, &mut out);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// HTML that is inserted as is, without escaping: the explicit escape hatch.
///
/// Only wrap HTML you produced or sanitised yourself; user input in a `Raw` is an XSS hole.
///
/// ```
/// use liveview_diff::{Dynamic, IntoDynamic, Raw};
/// assert_eq!(Raw("<b>bold</b>").into_dynamic(), Dynamic::raw("<b>bold</b>"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw<T>(pub T);

impl<T: fmt::Display> fmt::Display for Raw<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
