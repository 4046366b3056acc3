//! Reading request cookies, and a signed cookie holding the user's session
//! ([`SessionCookie`]), for a login route and [`LiveService::session`](crate::LiveService::session).

use std::time::Duration;

use hyper::header::{HeaderValue, COOKIE};
use hyper::HeaderMap;
use liveview_core::Signer;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The value of cookie `name` in the request's `Cookie` headers (the first non-empty one).
///
/// ```
/// let mut headers = hyper::HeaderMap::new();
/// headers.insert("cookie", "a=1; session=abc".parse().unwrap());
/// assert_eq!(liveview_hyper::request_cookie(&headers, "session").as_deref(), Some("abc"));
/// assert_eq!(liveview_hyper::request_cookie(&headers, "b"), None);
/// ```
pub fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// A cookie holding a serde value signed with HMAC-SHA256 (the endpoint's [`Signer`], or one
/// of its own) with an expiry: what a login route sets and the session function reads (Plug's
/// signed session cookie). The value is readable by the browser (signed, not encrypted): put
/// an id or a name in it, never a secret. A forged, tampered or expired cookie reads as
/// `None`.
///
/// The cookie is `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when asked
/// ([`SessionCookie::secure`], for HTTPS deployments).
///
/// ```
/// use liveview_hyper::SessionCookie;
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct User { name: String }
/// let cookie = SessionCookie::new("user", liveview_core::Signer::random());
/// let set = cookie.set(&User { name: "alice".into() });
/// let value = set.to_str().unwrap().split(';').next().unwrap().to_owned(); // "user=…"
/// let mut headers = hyper::HeaderMap::new();
/// headers.insert("cookie", value.parse().unwrap());
/// assert_eq!(cookie.read::<User>(&headers), Some(User { name: "alice".into() }));
/// // A tampered cookie is refused.
/// headers.insert("cookie", value.replace(".", ".x").parse().unwrap());
/// assert_eq!(cookie.read::<User>(&headers), None);
/// assert!(cookie.clear().to_str().unwrap().contains("Max-Age=0"));
/// ```
#[derive(Debug, Clone)]
pub struct SessionCookie {
    name: String,
    signer: Signer,
    max_age: Duration,
    secure: bool,
}

impl SessionCookie {
    /// A cookie named `name` (letters, digits, `_` and `-`) signed by `signer`, valid 14 days.
    ///
    /// # Panics
    ///
    /// If `name` is empty or has another character.
    pub fn new(name: &str, signer: Signer) -> Self {
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "a cookie name is letters, digits, `_` and `-`"
        );
        Self {
            name: name.to_owned(),
            signer,
            max_age: Duration::from_secs(14 * 24 * 3600),
            secure: false,
        }
    }

    /// How long a set cookie is valid (its `Max-Age` and the signed expiry).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Marks the cookie `Secure` (sent over HTTPS only).
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value the request's cookie holds, if it is there, ours, untampered and unexpired.
    pub fn read<T: DeserializeOwned>(&self, headers: &HeaderMap) -> Option<T> {
        let token = request_cookie(headers, &self.name)?;
        self.signer.verify_json(&token).ok()
    }

    /// A `Set-Cookie` header value holding `value`, signed.
    pub fn set<T: Serialize>(&self, value: &T) -> HeaderValue {
        let token = self.signer.sign_json(value, self.max_age.as_secs());
        self.header(&token, self.max_age.as_secs())
    }

    /// A `Set-Cookie` header value that deletes the cookie (logout).
    pub fn clear(&self) -> HeaderValue {
        self.header("", 0)
    }

    fn header(&self, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let header = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.name
        );
        HeaderValue::from_str(&header).expect("cookie names and tokens are header-safe")
    }
}
