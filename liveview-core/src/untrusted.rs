//! [`Untrusted`]: client-supplied text made safe for a log line.

use std::fmt;

/// How many characters of a client-supplied string a log line shows.
pub const LOG_TEXT_LIMIT: usize = 200;

/// Client-supplied text (a topic, an event name, a header, an error message quoting client
/// input) as it may appear in a log line: at most [`LOG_TEXT_LIMIT`] characters, then
/// `…(+N bytes)`; control characters, quotes and backslashes escaped as in Rust string
/// literals (`\n`, `\u{1b}`), so a client can neither flood the log nor forge a line or a
/// terminal escape.
///
/// ```
/// use liveview_core::Untrusted;
/// assert_eq!(Untrusted("inc").to_string(), "inc");
/// assert_eq!(Untrusted("a\nINFO forged\u{1b}[31m").to_string(), "a\\nINFO forged\\u{1b}[31m");
/// let long = "x".repeat(10_000);
/// let shown = Untrusted(&long).to_string();
/// assert!(shown.len() < 220 && shown.ends_with("…(+9800 bytes)"), "{shown}");
/// ```
#[derive(Clone, Copy)]
pub struct Untrusted<'a>(pub &'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (shown, (index, c)) in self.0.char_indices().enumerate() {
            if shown == LOG_TEXT_LIMIT {
                return write!(f, "…(+{} bytes)", self.0.len() - index);
            }
            match c {
                // Printable ASCII other than the escapes: as is (the common case).
                ' '..='~' if c != '\\' && c != '"' => f.write_str(c.encode_utf8(&mut [0; 4]))?,
                _ if !c.is_control() && !c.is_ascii() && !is_format_char(c) => {
                    f.write_str(c.encode_utf8(&mut [0; 4]))?
                }
                _ => write!(f, "{}", c.escape_default())?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Invisible characters that can reorder or hide text in a terminal (bidi overrides,
/// zero-width characters, line and paragraph separators).
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_forge_a_line() {
        assert_eq!(Untrusted("a\r\nb").to_string(), "a\\r\\nb");
        assert_eq!(Untrusted("q\"uote\\").to_string(), "q\\\"uote\\\\");
        assert_eq!(Untrusted("\u{202e}evil").to_string(), "\\u{202e}evil");
        assert_eq!(Untrusted("héllo wörld").to_string(), "héllo wörld");
    }

    #[test]
    fn cuts_long_text_on_a_char_boundary() {
        let text = "é".repeat(LOG_TEXT_LIMIT + 50);
        let shown = Untrusted(&text).to_string();
        assert!(shown.starts_with(&"é".repeat(LOG_TEXT_LIMIT)));
        assert!(shown.ends_with("…(+100 bytes)"), "{shown}");
    }
}
