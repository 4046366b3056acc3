//! [`Text`]: the HTML text of a dynamic slot, stored without a heap allocation when it is static
//! or short (integers, short words).

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

/// The longest text stored inline (without a heap allocation).
const INLINE: usize = 22;

/// HTML text held by a dynamic slot (already escaped, or deliberately raw).
///
/// Static strings are borrowed, texts of up to 22 bytes (every integer, most short words) are
/// stored inline, longer texts on the heap: rendering a number never allocates. It dereferences
/// to `str` and compares by content.
///
/// ```
/// use liveview_diff::Text;
/// let text = Text::from(String::from("42"));
/// assert_eq!(&*text, "42");
/// assert_eq!(text, Text::from("42"));
/// ```
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<str>),
}

impl Text {
    /// The empty text.
    pub const EMPTY: Text = Text(Repr::Static(""));

    /// Wraps a static string (no copy).
    pub const fn from_static(text: &'static str) -> Self {
        Text(Repr::Static(text))
    }

    /// Copies `text`: inline when it is short, else on the heap.
    pub fn copy_from(text: &str) -> Self {
        if text.len() <= INLINE {
            let mut buf = [0; INLINE];
            buf[..text.len()].copy_from_slice(text.as_bytes());
            Text(Repr::Inline {
                len: text.len() as u8,
                buf,
            })
        } else {
            Text(Repr::Heap(text.into()))
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(text) => text,
            Repr::Inline { len, buf } => {
                // SAFETY: `buf[..len]` is a copy of a whole `&str` (see `copy_from`).
                unsafe { std::str::from_utf8_unchecked(&buf[..*len as usize]) }
            }
            Repr::Heap(text) => text,
        }
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&'static str> for Text {
    fn from(text: &'static str) -> Self {
        Text::from_static(text)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        if text.len() <= INLINE {
            Text::copy_from(&text)
        } else {
            Text(Repr::Heap(text.into_boxed_str()))
        }
    }
}

impl From<Cow<'static, str>> for Text {
    fn from(text: Cow<'static, str>) -> Self {
        match text {
            Cow::Borrowed(text) => Text::from_static(text),
            Cow::Owned(text) => Text::from(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn representations_compare_by_content() {
        let long = "a".repeat(INLINE + 1);
        assert!(matches!(Text::copy_from("12345").0, Repr::Inline { .. }));
        assert!(matches!(Text::copy_from(&long).0, Repr::Heap(_)));
        assert!(matches!(Text::from("x").0, Repr::Static(_)));
        assert_eq!(Text::copy_from("é漢"), Text::from("é漢"));
        assert_eq!(Text::from(long.clone()), Text::copy_from(&long));
        assert_eq!(Text::copy_from(&"b".repeat(INLINE)).len(), INLINE);
        assert_eq!(std::mem::size_of::<Text>(), 24);
    }
}
