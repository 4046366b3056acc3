//! Signed tokens (HMAC-SHA256): the `data-phx-session` token and other server-issued secrets.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::socket::Flash;

type HmacSha256 = Hmac<Sha256>;

/// Signs and verifies tokens with a secret key: `base64url(payload) "." base64url(hmac)`.
///
/// Verification compares the MAC in constant time. The payload is readable by the client (it
/// is signed, not encrypted): never put secrets in it.
///
/// ```
/// use liveview_core::Signer;
/// let signer = Signer::new(b"a secret key of at least 32 bytes!!").unwrap();
/// let token = signer.sign(b"hello");
/// assert_eq!(signer.verify(&token).as_deref(), Some(&b"hello"[..]));
/// assert_eq!(signer.verify(&token.replace('.', "x")), None);
/// ```
#[derive(Clone)]
pub struct Signer {
    mac: HmacSha256,
}

/// The minimum secret key length in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// The secret key is too short.
///
/// ```
/// let error = liveview_core::Signer::new(&[7; 31]).unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "the secret key is 31 bytes long; it must be at least 32 bytes \
///      (e.g. 64 random characters from `openssl rand -base64 48`)"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[error(
    "the secret key is {len} bytes long; it must be at least {MIN_SECRET_LEN} bytes \
     (e.g. 64 random characters from `openssl rand -base64 48`)"
)]
pub struct WeakSecret {
    /// The length of the key that was given.
    pub len: usize,
}

impl Signer {
    /// Creates a signer; the key must be at least [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &[u8]) -> Result<Self, WeakSecret> {
        let weak = WeakSecret { len: secret.len() };
        if secret.len() < MIN_SECRET_LEN {
            return Err(weak);
        }
        let mac = HmacSha256::new_from_slice(secret).map_err(|_| weak)?;
        Ok(Self { mac })
    }

    /// Creates a signer with a random key (for development and tests: tokens do not survive a
    /// restart and are not shared between nodes).
    pub fn random() -> Self {
        Self::new(&random_bytes::<32>()).expect("32 bytes is long enough")
    }

    /// Signs `payload`.
    pub fn sign(&self, payload: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(payload);
        let tag = mac.finalize().into_bytes();
        let mut token = URL_SAFE_NO_PAD.encode(payload);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut token);
        token
    }

    /// Verifies `token` and returns its payload.
    pub fn verify(&self, token: &str) -> Option<Vec<u8>> {
        let (payload, tag) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = self.mac.clone();
        mac.update(&payload);
        mac.verify_slice(&tag).ok()?;
        Some(payload)
    }

    /// Signs a serializable value that expires `max_age_secs` from now.
    pub fn sign_json<T: Serialize>(&self, value: &T, max_age_secs: u64) -> String {
        let envelope = Envelope {
            exp: now_secs().saturating_add(max_age_secs),
            data: value,
        };
        let payload = serde_json::to_vec(&envelope).expect("token payloads serialize");
        self.sign(&payload)
    }

    /// Verifies a token made by [`Signer::sign_json`].
    pub fn verify_json<T: DeserializeOwned>(&self, token: &str) -> Result<T, TokenError> {
        let payload = self.verify(token).ok_or(TokenError::Invalid)?;
        let envelope: Envelope<T> =
            serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)?;
        if envelope.exp < now_secs() {
            return Err(TokenError::Expired);
        }
        Ok(envelope.data)
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer { .. }")
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Forged, truncated or not ours.
    #[error("invalid token")]
    Invalid,
    /// Past its expiry.
    #[error("expired token")]
    Expired,
}

/// Signs upload entry tokens (for `lvu:` channel joins) with the endpoint's key, valid 1 day.
pub(crate) struct UploadTokens<'a>(pub(crate) &'a Signer);

#[derive(Serialize, Deserialize)]
struct UploadClaim {
    upload: String,
}

impl liveview_upload::EntryTokens for UploadTokens<'_> {
    fn sign(&self, payload: &[u8]) -> String {
        let claim = UploadClaim {
            upload: String::from_utf8_lossy(payload).into_owned(),
        };
        self.0.sign_json(&claim, 24 * 3600)
    }

    fn verify(&self, token: &str) -> Option<Vec<u8>> {
        let claim: UploadClaim = self.0.verify_json(token).ok()?;
        Some(claim.upload.into_bytes())
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    exp: u64,
    data: T,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

/// A random URL-safe identifier of `N` random bytes.
pub(crate) fn random_id<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// The claims in a page's signed `data-phx-session` token.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SessionClaims {
    /// The view id (the container's DOM id; the topic is `lv:<id>`).
    pub(crate) id: String,
    /// The route pattern the page was rendered for.
    pub(crate) route: String,
    /// The CSRF token of the page; the join must carry it.
    pub(crate) csrf: String,
    /// Session data.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(crate) session: Map<String, Value>,
    /// The flash of the HTTP render, shown again by the first join.
    #[serde(default, skip_serializing_if = "Flash::is_empty")]
    pub(crate) flash: Flash,
    /// For a nested view's token: which view, and its parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nested: Option<crate::nested::NestedClaims>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused() {
        assert!(Signer::new(b"short").is_err());
    }

    #[test]
    fn tokens_from_another_key_are_refused() {
        let a = Signer::random();
        let b = Signer::random();
        assert_eq!(b.verify(&a.sign(b"x")), None);
        assert_eq!(
            b.verify_json::<u32>(&a.sign_json(&1u32, 60)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn expired_tokens_are_refused() {
        let signer = Signer::random();
        let envelope = Envelope { exp: 1, data: 5u32 };
        let token = signer.sign(&serde_json::to_vec(&envelope).unwrap());
        assert_eq!(signer.verify_json::<u32>(&token), Err(TokenError::Expired));
        assert_eq!(
            signer.verify_json::<u32>(&signer.sign_json(&5u32, 60)),
            Ok(5)
        );
    }
}
