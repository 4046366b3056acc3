//! External (client-side) uploads: the browser sends the file straight to object storage,
//! with what a [`Presigner`] returns for each entry ([`ExternalUpload`]).

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::entry::UploadEntry;
use crate::error::EntryError;
use crate::storage::BoxFuture;

/// What the client needs to upload one entry itself: the name of the JavaScript uploader
/// that does it and any fields it reads (a presigned URL, form fields, an object key).
///
/// Phoenix: the `meta` map an `external:` function returns, `%{uploader: "S3", url: …}`.
/// The preflight reply carries it as the entry's value in `entries` (instead of a channel
/// token), the client calls `liveSocket`'s `uploaders[uploader](entries, onViewError)` with
/// the entries (`entry.meta` is this object), and the uploader reports `entry.progress(n)`
/// (sent as `progress` events; 100 completes the entry) or `entry.error(reason)`.
/// `consume_uploaded_entries` hands it back as [`Stored::External`](crate::Stored::External).
///
/// ```
/// use liveview_upload::ExternalUpload;
/// let upload = ExternalUpload::new("S3")
///     .field("url", "https://bucket.s3.example.com/photos/1.jpg?X-Amz-Signature=…")
///     .field("key", "photos/1.jpg");
/// assert_eq!(upload.uploader(), "S3");
/// assert_eq!(upload.get("key").and_then(|v| v.as_str()), Some("photos/1.jpg"));
/// assert_eq!(
///     serde_json::to_value(&upload).unwrap(),
///     serde_json::json!({"uploader": "S3", "url": "https://bucket.s3.example.com/photos/1.jpg?X-Amz-Signature=…", "key": "photos/1.jpg"}),
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalUpload {
    uploader: String,
    fields: Map<String, Value>,
}

impl ExternalUpload {
    /// Instructions for the client uploader registered as `uploader` (the key in the
    /// `uploaders` option of the client's `LiveSocket`).
    pub fn new(uploader: impl Into<String>) -> Self {
        ExternalUpload {
            uploader: uploader.into(),
            fields: Map::new(),
        }
    }

    /// Adds a field the uploader reads (`entry.meta.<key>` in JavaScript). The key
    /// `"uploader"` is reserved: such a field is ignored.
    pub fn field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let key = key.into();
        if key != "uploader" {
            self.fields.insert(key, value.into());
        }
        self
    }

    /// The client uploader's name.
    pub fn uploader(&self) -> &str {
        &self.uploader
    }

    /// One field.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// Every field but `uploader`.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }
}

impl Serialize for ExternalUpload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len() + 1))?;
        map.serialize_entry("uploader", &self.uploader)?;
        for (key, value) in &self.fields {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Makes an upload config external: for each entry of the preflight (`allow_upload`), says
/// how the client uploads it ([`ExternalUpload`]), typically with a presigned URL of your
/// object storage. The server then receives no chunk for the config's entries, only the
/// client's `progress` events.
///
/// Phoenix: `allow_upload(socket, :avatar, external: &presign_upload/2)`, whose function
/// returns `{:ok, meta, socket}` or `{:error, meta, socket}`; LiveViewJS has no external
/// uploads. Set with [`UploadOptions::external`](crate::UploadOptions::external).
///
/// An `Err` marks the entry with that error: the whole preflight fails for a config without
/// `auto_upload` (as every entry error does), else the entry is left out and reported in
/// `errors`. The progress the client reports is its word only: before you trust an entry,
/// check that the object arrived (its size, its checksum).
///
/// Any `Fn(&UploadEntry) -> Result<ExternalUpload, EntryError>` closure is a presigner (it
/// runs in the view's turn: keep it quick, as signing a URL is). Implement the trait
/// yourself when presigning needs IO (starting a resumable upload session, fetching
/// credentials):
///
/// ```
/// use liveview_upload::{BoxFuture, EntryError, ExternalUpload, Presigner, UploadEntry, UploadOptions};
///
/// // A closure: sign locally.
/// let options = UploadOptions::new().external(|entry: &UploadEntry| {
///     let key = format!("uploads/{}", entry.uuid);
///     Ok(ExternalUpload::new("S3").field("url", format!("https://bucket.example/{key}?sig=…")).field("key", key))
/// });
/// # let _ = options;
///
/// // A type: ask a service first.
/// struct ResumableSessions;
/// impl Presigner for ResumableSessions {
///     fn presign<'a>(&'a self, entry: &'a UploadEntry)
///         -> BoxFuture<'a, Result<ExternalUpload, EntryError>>
///     {
///         Box::pin(async move {
///             // let link = video_service.start_session(entry.client_size).await?;
///             let link = format!("https://videos.example/sessions/{}", entry.uuid);
///             Ok(ExternalUpload::new("UpChunk").field("entrypoint", link))
///         })
///     }
/// }
/// let options = UploadOptions::new().external(ResumableSessions);
/// # let _ = options;
/// ```
pub trait Presigner: Send + Sync + 'static {
    /// The client's instructions for one entry, or the error to put on it.
    fn presign<'a>(
        &'a self,
        entry: &'a UploadEntry,
    ) -> BoxFuture<'a, Result<ExternalUpload, EntryError>>;
}

impl<F> Presigner for F
where
    F: Fn(&UploadEntry) -> Result<ExternalUpload, EntryError> + Send + Sync + 'static,
{
    fn presign<'a>(
        &'a self,
        entry: &'a UploadEntry,
    ) -> BoxFuture<'a, Result<ExternalUpload, EntryError>> {
        let result = self(entry);
        Box::pin(std::future::ready(result))
    }
}

/// A shared presigner, printable (closures are not `Debug`).
#[derive(Clone)]
pub(crate) struct SharedPresigner(pub(crate) std::sync::Arc<dyn Presigner>);

impl fmt::Debug for SharedPresigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Presigner")
    }
}

impl PartialEq for SharedPresigner {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedPresigner {}
