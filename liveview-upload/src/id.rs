//! Random identifiers.

use base64::Engine as _;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system random source failed");
    buf
}

/// A fresh upload config ref: `"phx-"` + 12 random bytes in url-safe base64.
pub(crate) fn config_ref() -> String {
    let bytes: [u8; 12] = random_bytes();
    format!(
        "phx-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A random version 4 UUID in its hyphenated lower-case form.
pub(crate) fn uuid_v4() -> String {
    let mut b: [u8; 16] = random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_random_and_url_safe() {
        let a = config_ref();
        let b = config_ref();
        assert_ne!(a, b);
        assert!(a.starts_with("phx-"));
        assert_eq!(a.len(), 4 + 16);
        assert!(a[4..]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn uuid_shape() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
