//! Entry tokens: issued in the `allow_upload` reply, presented on the
//! `lvu:<entry ref>` join.
//!
//! This crate does not hold a secret: the caller (core) passes an
//! [`EntryTokens`] implementation that signs and verifies opaque payloads.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Signs and verifies entry-token payloads. Implemented by the owner of the
/// signing secret (core); verification must be constant-time and should
/// enforce an expiry.
pub trait EntryTokens {
    /// Signs `payload`, returning an opaque, URL-safe token.
    fn sign(&self, payload: &[u8]) -> String;
    /// Verifies a token, returning the signed payload, or `None` if the token
    /// is forged, malformed or expired.
    fn verify(&self, token: &str) -> Option<Vec<u8>>;
}

impl<T: EntryTokens + ?Sized> EntryTokens for &T {
    fn sign(&self, payload: &[u8]) -> String {
        (**self).sign(payload)
    }
    fn verify(&self, token: &str) -> Option<Vec<u8>> {
        (**self).verify(token)
    }
}

impl<T: EntryTokens + ?Sized> EntryTokens for std::sync::Arc<T> {
    fn sign(&self, payload: &[u8]) -> String {
        (**self).sign(payload)
    }
    fn verify(&self, token: &str) -> Option<Vec<u8>> {
        (**self).verify(token)
    }
}

/// A signed entry token as sent to the client (serializes as a string).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UploadToken(pub String);

impl UploadToken {
    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UploadToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an entry token identifies: the LiveView that issued it, the upload
/// config and the entry (and the component, when the upload lives in one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadTokenPayload {
    /// The id of the LiveView (its `lv:` topic id) that issued the token.
    #[serde(rename = "v")]
    pub view_id: String,
    /// The upload config ref.
    #[serde(rename = "u")]
    pub config_ref: String,
    /// The entry ref.
    #[serde(rename = "e")]
    pub entry_ref: String,
    /// The component id, when the upload belongs to a live component.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<u32>,
}

impl UploadTokenPayload {
    /// Signs this payload.
    pub fn sign(&self, tokens: &dyn EntryTokens) -> UploadToken {
        let bytes = serde_json::to_vec(self).expect("token payload serializes");
        UploadToken(tokens.sign(&bytes))
    }

    /// Verifies `token` and decodes its payload; [`Error::InvalidToken`] when
    /// it does not verify or does not decode.
    pub fn verify(tokens: &dyn EntryTokens, token: &str) -> Result<Self> {
        let bytes = tokens.verify(token).ok_or(Error::InvalidToken)?;
        serde_json::from_slice(&bytes).map_err(|_| Error::InvalidToken)
    }

    /// Verifies `token` for a join of `lvu:<topic_entry_ref>` on a socket
    /// where the issuing view is `view_id`: the token must verify, name that
    /// view and that entry. Returns the payload (its `config_ref` selects the
    /// config to call [`register_upload`](crate::UploadConfig::register_upload)
    /// on).
    pub fn verify_for(
        tokens: &dyn EntryTokens,
        token: &str,
        view_id: &str,
        topic_entry_ref: &str,
    ) -> Result<Self> {
        let payload = Self::verify(tokens, token)?;
        if payload.view_id != view_id || payload.entry_ref != topic_entry_ref {
            return Err(Error::InvalidToken);
        }
        Ok(payload)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A toy signer for tests: "sig." + hex(payload) with a fixed key check.
    #[derive(Debug)]
    pub(crate) struct ToySigner;

    impl EntryTokens for ToySigner {
        fn sign(&self, payload: &[u8]) -> String {
            let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
            format!("sig.{hex}")
        }
        fn verify(&self, token: &str) -> Option<Vec<u8>> {
            let hex = token.strip_prefix("sig.")?;
            if hex.len() % 2 != 0 {
                return None;
            }
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                .collect()
        }
    }

    #[test]
    fn sign_verify() {
        let p = UploadTokenPayload {
            view_id: "phx-F0x".into(),
            config_ref: "phx-F1".into(),
            entry_ref: "0".into(),
            cid: Some(3),
        };
        let t = p.sign(&ToySigner);
        assert_eq!(
            UploadTokenPayload::verify(&ToySigner, t.as_str()).unwrap(),
            p
        );
        assert_eq!(
            UploadTokenPayload::verify_for(&ToySigner, t.as_str(), "phx-F0x", "0").unwrap(),
            p
        );
        assert!(matches!(
            UploadTokenPayload::verify_for(&ToySigner, t.as_str(), "phx-other", "0"),
            Err(Error::InvalidToken)
        ));
        assert!(matches!(
            UploadTokenPayload::verify_for(&ToySigner, t.as_str(), "phx-F0x", "1"),
            Err(Error::InvalidToken)
        ));
        assert!(matches!(
            UploadTokenPayload::verify(&ToySigner, "garbage"),
            Err(Error::InvalidToken)
        ));
        // verifies but is not a payload
        assert!(matches!(
            UploadTokenPayload::verify(&ToySigner, "sig.00"),
            Err(Error::InvalidToken)
        ));
        assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
    }
}
