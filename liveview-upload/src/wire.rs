//! Serde types of the upload messages on the `lv:` channel: the
//! `allow_upload` request and reply (§10.3) and the `progress` request
//! (§10.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::entry::ClientEntry;
use crate::error::EntryError;
use crate::external::ExternalUpload;
use crate::token::UploadToken;

/// The payload of an `allow_upload` push:
/// `{"ref": <config ref>, "entries": [...], "cid"?: N}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllowUploadRequest {
    /// The upload config ref.
    #[serde(rename = "ref")]
    pub upload_ref: String,
    /// The entries to preflight.
    pub entries: Vec<ClientEntry>,
    /// The component owning the upload, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<u32>,
}

/// The `config` object of an `allow_upload` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientConfig {
    /// Chunk size in bytes.
    pub chunk_size: u64,
    /// Chunk timeout in milliseconds.
    pub chunk_timeout: u64,
    /// Maximum number of entries.
    pub max_entries: usize,
    /// Maximum file size in bytes.
    pub max_file_size: u64,
}

/// The `response` of the `allow_upload` reply (status is `ok` in both
/// forms). The transport adds `"diff"` (and `"cid"`) next to these fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PreflightReply {
    /// Entries were preflighted (some may be rejected in `errors`).
    Ok(PreflightOk),
    /// The whole request failed (non-auto uploads with errors).
    Error(PreflightError),
}

impl PreflightReply {
    /// Whether this is the [`PreflightReply::Ok`] form.
    pub fn is_ok(&self) -> bool {
        matches!(self, PreflightReply::Ok(_))
    }

    /// The reply as a JSON object (to which the transport adds `"diff"`).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => unreachable!("a preflight reply serializes to an object"),
        }
    }
}

/// `{"ref", "config", "entries": {ref: token or meta}, "errors": {ref: [reason]}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreflightOk {
    /// The upload config ref.
    #[serde(rename = "ref")]
    pub upload_ref: String,
    /// Limits the client applies.
    pub config: ClientConfig,
    /// Entry ref → what the client uploads with, for each accepted entry: a token for the
    /// `lvu:` join, or the uploader and its fields for an external upload.
    pub entries: BTreeMap<String, PreflightEntry>,
    /// Entry ref → reasons, for each rejected entry (left out of `entries`;
    /// the client cancels them).
    pub errors: BTreeMap<String, Vec<EntryError>>,
}

/// One accepted entry of a preflight reply (Phoenix: a value of the reply's `entries`): the
/// client's `UploadEntry.meta`, from which `uploader(uploaders)` picks the channel uploader
/// (a token string) or the external uploader named by `meta.uploader`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PreflightEntry {
    /// Upload over the `lvu:<entry ref>` channel, joining with this token.
    Token(UploadToken),
    /// Upload with the client uploader the config's presigner named.
    External(ExternalUpload),
}

impl PreflightEntry {
    /// The channel token, if the entry is uploaded over the socket.
    pub fn token(&self) -> Option<&str> {
        match self {
            PreflightEntry::Token(token) => Some(token.as_str()),
            PreflightEntry::External(_) => None,
        }
    }

    /// The external uploader's instructions, if the entry is uploaded by the client.
    pub fn external(&self) -> Option<&ExternalUpload> {
        match self {
            PreflightEntry::External(external) => Some(external),
            PreflightEntry::Token(_) => None,
        }
    }
}

/// `{"ref", "error": [[ref, reason], …]}`: the client cancels the named
/// entries, or all of them when the ref is the config ref.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreflightError {
    /// The upload config ref.
    #[serde(rename = "ref")]
    pub upload_ref: String,
    /// `[entry or config ref, reason]` pairs.
    pub error: Vec<(String, EntryError)>,
}

/// The `progress` field of a `progress` push: a percentage, or
/// `{"error": reason}` when the client-side upload failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProgressUpdate {
    /// Percent complete (the client sends integers 0..=100).
    Percent(u64),
    /// The client reported a failure.
    Error {
        /// The client's reason.
        error: String,
    },
}

/// The payload of a `progress` push:
/// `{"event": null|name, "ref": <config ref>, "entry_ref", "progress", "cid"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressRequest {
    /// The input's `phx-progress` event name, or null.
    #[serde(default)]
    pub event: Option<String>,
    /// The upload config ref.
    #[serde(rename = "ref")]
    pub upload_ref: String,
    /// The entry ref.
    pub entry_ref: String,
    /// The progress.
    pub progress: ProgressUpdate,
    /// The component owning the upload, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_allow_upload() {
        let req: AllowUploadRequest = serde_json::from_str(
            r#"{"ref":"phx-F1","entries":[{"last_modified":1700000000000,"name":"a.txt","size":12,"type":"text/plain","ref":"0"}]}"#,
        )
        .unwrap();
        assert_eq!(req.upload_ref, "phx-F1");
        assert_eq!(req.entries[0].entry_ref, "0");
        assert_eq!(req.cid, None);
    }

    #[test]
    fn parse_progress() {
        let p: ProgressRequest =
            serde_json::from_str(r#"{"event":null,"ref":"phx-F1","entry_ref":"0","progress":33}"#)
                .unwrap();
        assert_eq!(p.progress, ProgressUpdate::Percent(33));
        assert_eq!(p.event, None);
        let p: ProgressRequest = serde_json::from_str(
            r#"{"event":"prog","ref":"phx-F1","entry_ref":"0","progress":{"error":"boom"},"cid":2}"#,
        )
        .unwrap();
        assert_eq!(
            p.progress,
            ProgressUpdate::Error {
                error: "boom".into()
            }
        );
        assert_eq!(p.cid, Some(2));
    }
}
