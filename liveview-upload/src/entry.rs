//! Upload entries: the client's description of a selected file
//! ([`ClientEntry`]) and the server's state of it ([`UploadEntry`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::EntryError;

/// A file as described by the client, in the `uploads` map of a form
/// `event` (§10.2) and in the `entries` list of `allow_upload` (§10.3).
///
/// ```
/// use liveview_upload::ClientEntry;
/// let e: ClientEntry = serde_json::from_str(
///     r#"{"path":"avatar","ref":"0","last_modified":1700000000000,
///         "name":"a.txt","type":"text/plain","size":12}"#,
/// ).unwrap();
/// assert_eq!(e.entry_ref, "0");
/// assert_eq!(e.size, 12);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientEntry {
    /// The client-generated entry ref (`"0"`, `"1"`, …).
    #[serde(rename = "ref")]
    pub entry_ref: String,
    /// The file name.
    pub name: String,
    /// The MIME type the browser reported (may be `""`).
    #[serde(rename = "type", default)]
    pub mime_type: String,
    /// The declared size in bytes.
    pub size: u64,
    /// Last modification time, milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<u64>,
    /// The input's name (present in form `event`s, absent in `allow_upload`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The relative path for directory uploads (`""` in browsers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_path: Option<String>,
    /// Client-attached metadata (`file.meta()`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

impl ClientEntry {
    /// A client entry with the required fields; the rest empty.
    pub fn new(
        entry_ref: impl Into<String>,
        name: impl Into<String>,
        mime_type: impl Into<String>,
        size: u64,
    ) -> Self {
        ClientEntry {
            entry_ref: entry_ref.into(),
            name: name.into(),
            mime_type: mime_type.into(),
            size,
            last_modified: None,
            path: None,
            relative_path: None,
            meta: None,
        }
    }
}

/// The server's state of one selected file of an upload config.
///
/// Entries are read through [`UploadConfig`](crate::UploadConfig)
/// (`entries()`, `uploaded_entries()`); the fields are public for templates
/// but changing a copy has no effect on the config.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UploadEntry {
    /// The client-generated entry ref.
    #[serde(rename = "ref")]
    pub entry_ref: String,
    /// The ref of the upload config the entry belongs to.
    pub upload_ref: String,
    /// The name of the upload config.
    pub upload_config: String,
    /// The file name reported by the client.
    pub client_name: String,
    /// The MIME type reported by the client (may be `""`).
    pub client_type: String,
    /// The size declared by the client, in bytes.
    pub client_size: u64,
    /// Last modification time reported by the client (ms since epoch).
    pub client_last_modified: Option<u64>,
    /// Relative path reported by the client (directory uploads).
    pub client_relative_path: Option<String>,
    /// Client-attached metadata.
    pub client_meta: Option<serde_json::Value>,
    /// Upload progress in percent, `0..=100`; only grows.
    pub progress: u8,
    /// The entry passed `allow_upload`.
    pub preflighted: bool,
    /// The upload finished: progress 100 and the file is stored (for an external upload:
    /// the client reported progress 100).
    pub done: bool,
    /// The entry was cancelled (only set on entries returned by cancel
    /// operations; cancelled entries are removed from the config).
    pub cancelled: bool,
    /// The entry passed validation (no entry errors).
    pub valid: bool,
    /// Validation and upload errors of this entry.
    pub errors: Vec<EntryError>,
    /// A server-generated UUID (v4) for the entry, e.g. for storage names.
    pub uuid: String,
    /// The stored file once all bytes were received, if the storage keeps files
    /// ([`Stored::File`](crate::Stored::File)); `None` for other storages and external
    /// uploads.
    pub path: Option<PathBuf>,
    /// An upload channel is registered for the entry.
    #[serde(skip)]
    pub(crate) registered: bool,
}

impl UploadEntry {
    /// The server's state of a newly selected file of the config named `config_name` whose
    /// ref is `upload_ref` (an [`UploadConfig`](crate::UploadConfig) makes these itself;
    /// this is for testing a storage or a presigner on its own).
    ///
    /// ```
    /// use liveview_upload::{ClientEntry, UploadEntry};
    /// let entry = UploadEntry::new(&ClientEntry::new("0", "a.txt", "text/plain", 5), "phx-F1", "files");
    /// assert_eq!((entry.client_size, entry.progress, entry.done), (5, 0, false));
    /// ```
    pub fn new(client: &ClientEntry, upload_ref: &str, config_name: &str) -> Self {
        Self::from_client(client, upload_ref, config_name)
    }

    pub(crate) fn from_client(client: &ClientEntry, upload_ref: &str, config_name: &str) -> Self {
        UploadEntry {
            entry_ref: client.entry_ref.clone(),
            upload_ref: upload_ref.to_owned(),
            upload_config: config_name.to_owned(),
            client_name: client.name.clone(),
            client_type: client.mime_type.clone(),
            client_size: client.size,
            client_last_modified: client.last_modified,
            client_relative_path: client.relative_path.clone(),
            client_meta: client.meta.clone(),
            progress: 0,
            preflighted: false,
            done: false,
            cancelled: false,
            valid: true,
            errors: Vec::new(),
            uuid: crate::id::uuid_v4(),
            path: None,
            registered: false,
        }
    }

    /// Whether an upload channel is registered for this entry.
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// The file extension of the client name, lower-case with the dot
    /// (`".jpg"`), if any.
    pub fn client_extension(&self) -> Option<String> {
        let base = self
            .client_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&self.client_name);
        match base.rfind('.') {
            Some(i) if i > 0 && i + 1 < base.len() => Some(base[i..].to_ascii_lowercase()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_entry_from_form_event() {
        let v = serde_json::json!({"path":"avatar","ref":"0","last_modified":1700000000000u64,
            "name":"a.txt","type":"text/plain","size":12,"relative_path":""});
        let e: ClientEntry = serde_json::from_value(v).unwrap();
        assert_eq!(e.path.as_deref(), Some("avatar"));
        assert_eq!(e.mime_type, "text/plain");
        assert_eq!(e.last_modified, Some(1_700_000_000_000));
        assert_eq!(e.relative_path.as_deref(), Some(""));
        let back = serde_json::to_value(&e).unwrap();
        assert_eq!(back["ref"], "0");
        assert_eq!(back["type"], "text/plain");
    }

    #[test]
    fn client_entry_minimal() {
        let e: ClientEntry = serde_json::from_str(r#"{"ref":"3","name":"x","size":0}"#).unwrap();
        assert_eq!(e.mime_type, "");
        assert_eq!(e.last_modified, None);
    }

    #[test]
    fn upload_entry_json() {
        let c = ClientEntry::new("1", "Photo.JPG", "image/jpeg", 5);
        let e = UploadEntry::from_client(&c, "phx-x", "avatar");
        assert_eq!(e.client_extension().as_deref(), Some(".jpg"));
        assert_eq!(e.uuid.len(), 36);
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["ref"], "1");
        assert_eq!(v["upload_ref"], "phx-x");
        assert!(v.get("registered").is_none());
    }
}
