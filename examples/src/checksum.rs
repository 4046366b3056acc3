//! `/upload/checksum`: uploads into a storage of the application's own. [`ContentAddressed`]
//! implements [`UploadStorage`] outside the framework: each file is hashed (SHA-256) while
//! its chunks are written, and kept under its checksum once the page saves it, so identical
//! files are stored once. `consume_uploaded_entries` hands back what the storage made
//! ([`Checksummed`], through `Stored::downcast`), and the page commits it off the view's
//! task (`spawn_blocking`).

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use liveview_core::upload::{BoxFuture, StorageWriter, Stored, UploadStorage};
use liveview_core::{
    html, LiveView, Meta, Params, Rendered, Session, Socket, UploadEntry, UploadOptions, ViewResult,
};
use sha2::{Digest, Sha256};

use crate::upload::{entry_list, megabytes};

/// A content-addressed file store: `<dir>/<sha256>` holds the file whose SHA-256 is
/// `<sha256>`; files being uploaded wait in `<dir>/incoming/` (both made on first use).
/// Keeps the `max_blobs` most recently stored files (older ones are evicted), so it never
/// grows without bound.
#[derive(Debug, Clone)]
pub struct ContentAddressed {
    root: Arc<Root>,
}

#[derive(Debug)]
struct Root {
    dir: PathBuf,
    max_blobs: usize,
}

impl ContentAddressed {
    /// A store in `dir` keeping at most `max_blobs` files.
    pub fn new(dir: impl Into<PathBuf>, max_blobs: usize) -> Self {
        ContentAddressed {
            root: Arc::new(Root {
                dir: dir.into(),
                max_blobs: max_blobs.max(1),
            }),
        }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.root.dir
    }

    /// Where the file with this checksum is (or would be).
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        self.root.dir.join(sha256)
    }
}

impl UploadStorage for ContentAddressed {
    fn open<'a>(
        &'a self,
        entry: &'a UploadEntry,
    ) -> BoxFuture<'a, io::Result<Box<dyn StorageWriter>>> {
        // The entry's server-side UUID names the incoming file: never the client's name.
        let incoming = self
            .root
            .dir
            .join("incoming")
            .join(format!("{}.part", entry.uuid));
        let root = self.root.clone();
        Box::pin(async move {
            let path = incoming.clone();
            let file = blocking(move || {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir)?;
                }
                File::create_new(path)
            })
            .await?;
            Ok(Box::new(Incoming {
                open: Some((file, Sha256::new())),
                path: Some(incoming),
                size: 0,
                root,
            }) as Box<dyn StorageWriter>)
        })
    }
}

/// A file being uploaded, hashed as it is written.
struct Incoming {
    /// The file and the running hash; away on the blocking pool during a write.
    open: Option<(File, Sha256)>,
    /// The incoming file, until it is handed to a [`Checksummed`] or deleted.
    path: Option<PathBuf>,
    size: u64,
    root: Arc<Root>,
}

impl StorageWriter for Incoming {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            let (mut file, mut hash) = self
                .open
                .take()
                .ok_or_else(|| io::Error::other("an earlier write failed"))?;
            let len = chunk.len() as u64;
            let (file, hash) = blocking(move || {
                file.write_all(&chunk)?;
                hash.update(&chunk);
                Ok((file, hash))
            })
            .await?;
            self.open = Some((file, hash));
            self.size += len;
            Ok(())
        })
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, io::Result<Stored>> {
        Box::pin(async move {
            let (file, hash) = self
                .open
                .take()
                .ok_or_else(|| io::Error::other("an earlier write failed"))?;
            blocking(move || file.sync_all()).await?;
            let sha256 = hex(&hash.finalize());
            Ok(Stored::custom(Checksummed {
                sha256,
                size: self.size,
                incoming: self.path.take(),
                root: self.root.clone(),
            }))
        })
    }

    fn abort(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        let open = self.open.take();
        let path = self.path.take();
        Box::pin(async move {
            let _ = blocking(move || {
                drop(open);
                match path {
                    Some(path) => fs::remove_file(path),
                    None => Ok(()),
                }
            })
            .await;
        })
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // Neither finished nor aborted (the process is going down): do not leave it behind.
        if let Some(path) = self.path.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// A completely received file and its SHA-256, not in the store yet: [`commit`](Self::commit)
/// puts it there; dropping it (the entry was cancelled, or never saved) deletes it.
#[derive(Debug)]
pub struct Checksummed {
    sha256: String,
    size: u64,
    incoming: Option<PathBuf>,
    root: Arc<Root>,
}

/// A file in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// The SHA-256 of the contents, in hex: the file's name in the store.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// The same contents were stored already: this upload took no more room.
    pub duplicate: bool,
}

impl Checksummed {
    /// The SHA-256 of the contents, in hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Moves the file to its address in the store (blocking: call it off async tasks), then
    /// evicts the oldest files past the store's limit.
    pub fn commit(mut self) -> io::Result<Blob> {
        let incoming = self
            .incoming
            .take()
            .expect("a checksummed file is incoming");
        let dest = self.root.dir.join(&self.sha256);
        let duplicate = dest.exists();
        if duplicate {
            fs::remove_file(&incoming)?;
            // Still wanted: the eviction keeps the most recently stored files.
            File::options()
                .append(true)
                .open(&dest)?
                .set_modified(SystemTime::now())?;
        } else {
            fs::rename(&incoming, &dest)?;
        }
        evict(&self.root, &self.sha256)?;
        Ok(Blob {
            sha256: self.sha256.clone(),
            size: self.size,
            duplicate,
        })
    }
}

impl Drop for Checksummed {
    fn drop(&mut self) {
        if let Some(incoming) = self.incoming.take() {
            let _ = fs::remove_file(incoming);
        }
    }
}

/// Deletes the oldest files of the store past its limit (never `keep`).
fn evict(root: &Root, keep: &str) -> io::Result<()> {
    let mut blobs = Vec::new();
    for entry in fs::read_dir(&root.dir)? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        if metadata.is_file() && entry.file_name() != keep {
            blobs.push((metadata.modified()?, entry.path()));
        }
    }
    if blobs.len() >= root.max_blobs {
        blobs.sort();
        for (_, path) in &blobs[..=blobs.len() - root.max_blobs] {
            fs::remove_file(path)?;
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)?
}

/// The checksum upload view.
#[derive(Debug)]
pub struct ChecksumUpload {
    store: ContentAddressed,
}

impl ChecksumUpload {
    /// The view, storing into `store`.
    pub fn new(store: ContentAddressed) -> Self {
        ChecksumUpload { store }
    }

    /// The view with a store of 100 files in the system temp directory (kept across runs:
    /// the same file is stored once however often it is uploaded).
    pub fn in_temp_dir() -> Self {
        let dir = std::env::temp_dir().join("liveview-examples-checksum");
        Self::new(ContentAddressed::new(dir, 100))
    }
}

/// A saved upload.
#[derive(Debug, Clone)]
pub struct Saved {
    name: String,
    result: Result<Blob, String>,
}

/// The checksum upload view's state.
#[derive(Debug, Default)]
pub struct State {
    saved: Vec<Saved>,
}

/// The same events as the plain upload page (select, cancel, save).
pub use crate::upload::Event;

impl LiveView for ChecksumUpload {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Upload with checksums");
        socket.allow_upload(
            "files",
            UploadOptions::new()
                .max_entries(3)
                .max_file_size(2_000_000)
                .chunk_size(16_000)
                .storage(self.store.clone()),
        )?;
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Validate => {}
            Event::Cancel { r#ref } => socket.cancel_upload("files", &r#ref)?,
            Event::Save => {
                let finished = socket.consume_uploaded_entries("files", |stored, entry| {
                    (entry.client_name.clone(), stored.downcast::<Checksummed>())
                })?;
                // Renaming and evicting are filesystem calls: on the blocking pool, not in the
                // view's turn.
                let saved = tokio::task::spawn_blocking(move || {
                    finished
                        .into_iter()
                        .map(|(name, checksummed)| Saved {
                            name,
                            result: match checksummed {
                                Ok(file) => file
                                    .commit()
                                    .map_err(|error| format!("It could not be stored: {error}.")),
                                Err(_) => Err("It was not stored by the checksum storage.".into()),
                            },
                        })
                        .collect::<Vec<_>>()
                })
                .await?;
                socket.assign(|state| state.saved.extend(saved));
            }
        }
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        let Some(config) = meta.uploads.get("files") else {
            return html! { h1 { "Upload with checksums" } };
        };
        let options = config.options();
        html! {
            h1 { "Upload with checksums" }
            p #limits {
                "Up to " (options.max_entries) " files of any kind, at most "
                (megabytes(options.max_file_size)) " each. Each file is stored under its SHA-256: "
                "the same contents are stored once."
            }
            form #upload-form phx-change="validate" phx-submit="save" {
                (meta.uploads.file_input("files"))
                (entry_list(config))
                button type="submit" { "Store" }
            }
            h2 { "Stored" }
            ul #stored {
                @for saved in &state.saved {
                    @match &saved.result {
                        Ok(blob) => {
                            li.blob data-sha256=(&blob.sha256) {
                                (&saved.name) " (" (blob.size) " bytes): sha256 "
                                code { (&blob.sha256) }
                                @if blob.duplicate { " " span.duplicate { "already stored: no new copy" } }
                            }
                        }
                        Err(message) => {
                            li.error { (&saved.name) ": " (message) }
                        }
                    }
                }
            }
            p { a href="/upload" { "Uploads to temporary files" } " · " a href="/" { "All examples" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liveview_core::upload::ClientEntry;

    fn entry(name: &str) -> UploadEntry {
        UploadEntry::new(&ClientEntry::new("0", name, "", 5), "phx-F1", "files")
    }

    async fn upload(store: &ContentAddressed, chunks: &[&'static [u8]]) -> Checksummed {
        let mut writer = store.open(&entry("a.txt")).await.unwrap();
        for chunk in chunks {
            writer.write(Bytes::from_static(chunk)).await.unwrap();
        }
        writer.finish().await.unwrap().downcast().unwrap()
    }

    fn files(dir: &Path) -> usize {
        fs::read_dir(dir)
            .unwrap()
            .filter(|entry| entry.as_ref().unwrap().metadata().unwrap().is_file())
            .count()
    }

    #[tokio::test]
    async fn the_same_contents_are_stored_once() {
        let dir = tempfile_dir("once");
        let store = ContentAddressed::new(&dir, 10);
        let first = upload(&store, &[b"hel", b"lo"]).await;
        // sha256("hello")
        let hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert_eq!((first.sha256(), first.size()), (hello, 5));
        let blob = tokio::task::spawn_blocking(move || first.commit())
            .await
            .unwrap()
            .unwrap();
        assert!(!blob.duplicate);
        assert_eq!(fs::read(store.blob_path(hello)).unwrap(), b"hello");
        let again = upload(&store, &[b"hello"]).await;
        let blob = tokio::task::spawn_blocking(move || again.commit())
            .await
            .unwrap()
            .unwrap();
        assert!(blob.duplicate);
        assert_eq!(files(&dir), 1);
        assert_eq!(files(&dir.join("incoming")), 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn aborted_and_uncommitted_uploads_leave_nothing() {
        let dir = tempfile_dir("abort");
        let store = ContentAddressed::new(&dir, 10);
        let mut writer = store.open(&entry("a.txt")).await.unwrap();
        writer.write(Bytes::from_static(b"par")).await.unwrap();
        assert_eq!(files(&dir.join("incoming")), 1);
        writer.abort().await;
        assert_eq!(files(&dir.join("incoming")), 0);
        drop(upload(&store, &[b"never saved"]).await);
        assert_eq!(files(&dir.join("incoming")), 0);
        assert_eq!(files(&dir), 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_oldest_files_are_evicted_past_the_limit() {
        let dir = tempfile_dir("evict");
        let store = ContentAddressed::new(&dir, 2);
        for contents in [&b"one"[..], b"two", b"three"] {
            let mut writer = store.open(&entry("a")).await.unwrap();
            writer.write(Bytes::from_static(contents)).await.unwrap();
            let file: Checksummed = writer.finish().await.unwrap().downcast().unwrap();
            tokio::task::spawn_blocking(move || file.commit())
                .await
                .unwrap()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(files(&dir), 2);
        let one = hex(&Sha256::digest(b"one"));
        assert!(!store.blob_path(&one).exists(), "the oldest went");
        let _ = fs::remove_dir_all(&dir);
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lv-cas-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }
}
