//! [`UploadOptions`] (the `allow_upload` options) and `accept` matching.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::external::{Presigner, SharedPresigner};
use crate::storage::{TempFileStorage, UploadStorage};

/// Phoenix's default `max_entries`.
pub const DEFAULT_MAX_ENTRIES: usize = 1;
/// Phoenix's default `max_file_size` in bytes.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 8_000_000;
/// Phoenix's default `chunk_size` in bytes.
pub const DEFAULT_CHUNK_SIZE: u64 = 64_000;
/// Phoenix's default `chunk_timeout` in milliseconds.
pub const DEFAULT_CHUNK_TIMEOUT_MS: u64 = 10_000;

/// What a selection that would pass `max_entries` does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaxEntriesMode {
    /// Phoenix's behaviour: every selected entry is listed (up to
    /// [`EXTRA_ENTRIES`](crate::EXTRA_ENTRIES) past the limit) and the config carries
    /// [`EntryError::TooManyFiles`](crate::EntryError::TooManyFiles) until the user removes
    /// some; the form cannot be submitted meanwhile.
    #[default]
    Error,
    /// Entries past `max_entries` are dropped as they are selected (the client forgets
    /// them: they are not among the input's active refs); the ones kept upload normally.
    KeepFirst,
}

/// Options of an upload config, as given to `allow_upload` (Phoenix: the options of
/// `allow_upload/3`; LiveViewJS: `UploadConfigOptions`).
///
/// Build with [`UploadOptions::new`] (or `default()`) and the chained
/// setters:
///
/// ```
/// use liveview_upload::{MemoryStorage, UploadOptions};
/// let opts = UploadOptions::new()
///     .accept([".jpg", "image/png"])
///     .max_entries(3)
///     .max_file_size(2_000_000)
///     .auto_upload(true)
///     .storage(MemoryStorage::default());
/// assert_eq!(opts.chunk_size, 64_000);
/// ```
///
/// Where the files go: [`storage`](Self::storage) (or its shorthand
/// [`temp_dir`](Self::temp_dir)) for this config; else the endpoint's default storage; else
/// temporary files in the system temp directory. [`external`](Self::external) makes the
/// client upload the files elsewhere itself, so the server stores nothing.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UploadOptions {
    /// Accepted files: extensions (`".jpg"`) or MIME types (`"image/png"`,
    /// wildcards `"image/*"`). Empty accepts anything.
    pub accept: Vec<String>,
    /// Maximum number of entries (default 1).
    pub max_entries: usize,
    /// Maximum size of one file in bytes (default 8 000 000).
    pub max_file_size: u64,
    /// Chunk size the client uses, in bytes (default 64 000).
    pub chunk_size: u64,
    /// Milliseconds without a chunk after which the upload channel is stopped
    /// (default 10 000). Enforced by the transport.
    pub chunk_timeout: u64,
    /// Upload right after selection instead of on submit (default false).
    pub auto_upload: bool,
    /// What a selection past `max_entries` does (default [`MaxEntriesMode::Error`]).
    pub max_entries_mode: MaxEntriesMode,
    /// This config's storage; `None` for the endpoint's default.
    pub(crate) storage: Option<Arc<dyn UploadStorage>>,
    /// Set for external uploads.
    pub(crate) external: Option<SharedPresigner>,
}

impl PartialEq for UploadOptions {
    /// Equal limits, and the same storage and presigner (the same `Arc`), if any.
    fn eq(&self, other: &Self) -> bool {
        let same_storage = match (&self.storage, &other.storage) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        self.accept == other.accept
            && self.max_entries == other.max_entries
            && self.max_file_size == other.max_file_size
            && self.chunk_size == other.chunk_size
            && self.chunk_timeout == other.chunk_timeout
            && self.auto_upload == other.auto_upload
            && self.max_entries_mode == other.max_entries_mode
            && same_storage
            && self.external == other.external
    }
}

impl Eq for UploadOptions {}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            accept: Vec::new(),
            max_entries: DEFAULT_MAX_ENTRIES,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            chunk_size: DEFAULT_CHUNK_SIZE,
            chunk_timeout: DEFAULT_CHUNK_TIMEOUT_MS,
            auto_upload: false,
            max_entries_mode: MaxEntriesMode::Error,
            storage: None,
            external: None,
        }
    }
}

impl UploadOptions {
    /// The defaults (Phoenix's).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the accepted extensions / MIME types.
    pub fn accept<I, S>(mut self, accept: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.accept = accept.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `max_entries`.
    pub fn max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// Sets `max_file_size` in bytes.
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// Sets `chunk_size` in bytes.
    pub fn chunk_size(mut self, bytes: u64) -> Self {
        self.chunk_size = bytes;
        self
    }

    /// Sets `chunk_timeout` in milliseconds.
    pub fn chunk_timeout(mut self, ms: u64) -> Self {
        self.chunk_timeout = ms;
        self
    }

    /// Sets `auto_upload`.
    pub fn auto_upload(mut self, auto_upload: bool) -> Self {
        self.auto_upload = auto_upload;
        self
    }

    /// Sets what a selection past `max_entries` does ([`MaxEntriesMode`]).
    ///
    /// ```
    /// use liveview_upload::{ClientEntry, MaxEntriesMode, UploadConfig, UploadOptions};
    /// let options = UploadOptions::new()
    ///     .max_entries(2)
    ///     .max_entries_mode(MaxEntriesMode::KeepFirst);
    /// let mut config = UploadConfig::with_ref("photos", "phx-1", options).unwrap();
    /// config.put_entries(&[
    ///     ClientEntry::new("0", "a.png", "image/png", 3),
    ///     ClientEntry::new("1", "b.png", "image/png", 3),
    ///     ClientEntry::new("2", "c.png", "image/png", 3),
    /// ]);
    /// // The first two are kept, the third is dropped, and nothing is in error.
    /// assert_eq!(config.entries().len(), 2);
    /// assert!(!config.has_errors());
    /// ```
    pub fn max_entries_mode(mut self, mode: MaxEntriesMode) -> Self {
        self.max_entries_mode = mode;
        self
    }

    /// Stores this config's files in temporary files in `dir`: short for
    /// `.storage(TempFileStorage::new_in(dir))`.
    pub fn temp_dir(self, dir: impl Into<PathBuf>) -> Self {
        self.storage(TempFileStorage::new_in(dir))
    }

    /// Stores this config's files with `storage` instead of the endpoint's default
    /// (Phoenix: `allow_upload`'s `writer:` option). Pass an `Arc` to share one storage
    /// between configs.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use liveview_upload::{MemoryStorage, UploadConfig, UploadOptions};
    /// let shared = Arc::new(MemoryStorage::with_limit(16 << 20));
    /// let avatars = UploadConfig::new("avatar", UploadOptions::new().storage(shared.clone()))?;
    /// let covers = UploadConfig::new("cover", UploadOptions::new().storage(shared))?;
    /// assert!(avatars.storage().is_some() && covers.storage().is_some());
    /// # Ok::<(), liveview_upload::Error>(())
    /// ```
    pub fn storage(mut self, storage: impl UploadStorage) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    /// Makes this an external upload (Phoenix: `allow_upload`'s `external:` option): the
    /// preflight asks `presigner` how the client uploads each entry, the client's uploader
    /// sends the file there itself and reports its progress, and the server receives no
    /// chunk. See [`Presigner`] and [`ExternalUpload`](crate::ExternalUpload). Cannot be
    /// combined with [`storage`](Self::storage).
    pub fn external(mut self, presigner: impl Presigner) -> Self {
        self.external = Some(SharedPresigner(Arc::new(presigner)));
        self
    }

    pub(crate) fn validate(&self) -> Result<Accept> {
        if self.max_entries == 0 {
            return Err(Error::InvalidOptions("max_entries must be positive".into()));
        }
        if self.max_file_size == 0 {
            return Err(Error::InvalidOptions(
                "max_file_size must be positive".into(),
            ));
        }
        if self.chunk_size == 0 {
            return Err(Error::InvalidOptions("chunk_size must be positive".into()));
        }
        if self.chunk_timeout == 0 {
            return Err(Error::InvalidOptions(
                "chunk_timeout must be positive".into(),
            ));
        }
        if self.storage.is_some() && self.external.is_some() {
            return Err(Error::InvalidOptions(
                "an external upload stores nothing on the server: set a storage or \
                 external, not both"
                    .into(),
            ));
        }
        Accept::parse(&self.accept)
    }
}

/// Parsed `accept` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Accept {
    /// `None` = anything is accepted.
    filters: Option<Filters>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Filters {
    /// Lower-case MIME types (exact), including those implied by extensions.
    types: Vec<String>,
    /// Lower-case wildcard prefixes, e.g. `"image/"` for `"image/*"`.
    wildcards: Vec<String>,
    /// Lower-case extensions including the dot.
    exts: Vec<String>,
}

impl Accept {
    pub(crate) fn parse(accept: &[String]) -> Result<Self> {
        if accept.is_empty() {
            return Ok(Accept { filters: None });
        }
        let mut f = Filters::default();
        for raw in accept {
            let item = raw.trim().to_ascii_lowercase();
            if let Some(ext) = item.strip_prefix('.') {
                if ext.is_empty() || ext.contains(['/', '.', ' ']) {
                    return Err(Error::InvalidOptions(format!(
                        "invalid accept extension {raw:?}"
                    )));
                }
                f.exts.push(item.clone());
                for mime in mime_guess::from_ext(ext).iter_raw() {
                    let mime = mime.to_ascii_lowercase();
                    if !f.types.contains(&mime) {
                        f.types.push(mime);
                    }
                }
            } else if let Some((top, sub)) = item.split_once('/') {
                if top.is_empty() || sub.is_empty() || item.contains([' ', ';', ',']) {
                    return Err(Error::InvalidOptions(format!(
                        "invalid accept MIME type {raw:?}"
                    )));
                }
                if sub == "*" {
                    if top == "*" {
                        return Ok(Accept { filters: None });
                    }
                    f.wildcards.push(format!("{top}/"));
                } else if top == "*" {
                    return Err(Error::InvalidOptions(format!(
                        "invalid accept MIME type {raw:?}"
                    )));
                } else {
                    f.types.push(item);
                }
            } else {
                return Err(Error::InvalidOptions(format!(
                    "accept filter {raw:?} is neither an extension (\".jpg\") nor a MIME type"
                )));
            }
        }
        Ok(Accept { filters: Some(f) })
    }

    /// Whether a file with this client name and client MIME type is accepted.
    ///
    /// Matches Phoenix: the MIME type against wildcards and exact types
    /// (including the types implied by accepted extensions), or the file
    /// name's extension against the accepted extensions.
    pub(crate) fn accepts(&self, name: &str, mime: &str) -> bool {
        let Some(f) = &self.filters else {
            return true;
        };
        let mime = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !mime.is_empty() {
            if f.wildcards.iter().any(|w| mime.starts_with(w.as_str())) {
                return true;
            }
            if f.types.contains(&mime) {
                return true;
            }
        }
        match extension(name) {
            Some(ext) => f.exts.contains(&ext),
            None => false,
        }
    }
}

/// The lower-case extension of a file name including the dot, like Elixir's
/// `Path.extname` (`"a.tar.gz"` → `".gz"`, `".bashrc"` → none).
fn extension(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let idx = base.rfind('.')?;
    if idx == 0 || idx + 1 == base.len() {
        return None;
    }
    Some(base[idx..].to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(items: &[&str]) -> Accept {
        Accept::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn defaults() {
        let o = UploadOptions::default();
        assert_eq!(o.max_entries, 1);
        assert_eq!(o.max_file_size, 8_000_000);
        assert_eq!(o.chunk_size, 64_000);
        assert_eq!(o.chunk_timeout, 10_000);
        assert!(!o.auto_upload);
        assert!(o.accept.is_empty());
    }

    #[test]
    fn empty_accept_accepts_anything() {
        let a = accept(&[]);
        assert!(a.accepts("x.exe", ""));
        assert!(accept(&["*/*"]).accepts("x", "application/x-anything"));
    }

    #[test]
    fn extension_accept() {
        let a = accept(&[".jpg"]);
        assert!(a.accepts("photo.JPG", ""));
        assert!(a.accepts("photo.jpg", "application/octet-stream"));
        // the MIME type implied by .jpg is accepted too (Phoenix behaviour)
        assert!(a.accepts("photo.jpeg", "image/jpeg"));
        assert!(!a.accepts("photo.png", "image/png"));
        assert!(!a.accepts("jpg", ""));
        assert!(!a.accepts(".jpg", ""));
    }

    #[test]
    fn mime_accept_and_wildcards() {
        let a = accept(&["image/*", "text/plain"]);
        assert!(a.accepts("a.bin", "image/png"));
        assert!(a.accepts("a.bin", "IMAGE/WEBP"));
        assert!(a.accepts("a.txt", "text/plain; charset=utf-8"));
        assert!(!a.accepts("a.txt", "text/html"));
        assert!(!a.accepts("a.png", ""));
        assert!(!a.accepts("a.mp4", "video/mp4"));
        assert!(accept(&["video/*"]).accepts("a.mp4", "video/mp4"));
    }

    #[test]
    fn invalid_accept() {
        for bad in ["jpg", ".", "image/", "/png", "*/png", "text/plain; q=1"] {
            assert!(
                Accept::parse(&[bad.to_string()]).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn invalid_limits() {
        assert!(UploadOptions::new().max_entries(0).validate().is_err());
        assert!(UploadOptions::new().max_file_size(0).validate().is_err());
        assert!(UploadOptions::new().chunk_size(0).validate().is_err());
        assert!(UploadOptions::new().chunk_timeout(0).validate().is_err());
        assert!(UploadOptions::new().validate().is_ok());
    }

    #[test]
    fn storage_or_external_not_both() {
        let presign = |_: &crate::UploadEntry| Ok(crate::ExternalUpload::new("S3"));
        let both = UploadOptions::new()
            .storage(crate::MemoryStorage::default())
            .external(presign);
        let Err(Error::InvalidOptions(message)) = both.validate() else {
            panic!("storage and external together are refused");
        };
        assert!(message.contains("not both"), "{message}");
        assert!(UploadOptions::new().external(presign).validate().is_ok());
    }

    #[test]
    fn equality_compares_storages_by_identity() {
        let storage = Arc::new(crate::MemoryStorage::default());
        let a = UploadOptions::new().storage(storage.clone());
        assert_eq!(a, a.clone());
        assert_ne!(a, UploadOptions::new().storage(storage));
        assert_ne!(a, UploadOptions::new());
        assert_eq!(UploadOptions::new(), UploadOptions::new());
    }

    #[test]
    fn extname() {
        assert_eq!(extension("a.tar.gz").as_deref(), Some(".gz"));
        assert_eq!(extension(".bashrc"), None);
        assert_eq!(extension("dir.d/file"), None);
        assert_eq!(extension("file."), None);
    }
}
