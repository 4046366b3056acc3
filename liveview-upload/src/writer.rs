//! Writing one entry: [`UploadTarget`] (what a registered `lvu:` channel stores into) and
//! the size-enforcing [`EntryWriter`] around a [`StorageWriter`].

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::entry::UploadEntry;
use crate::error::{Error, Result};
use crate::storage::{StorageWriter, Stored, UploadStorage};

/// Where one registered entry goes: its storage, the entry, and the limits its channel
/// enforces. Returned by [`UploadConfig::register_upload`](crate::UploadConfig::register_upload)
/// when an `lvu:` channel joins; the channel then [`open`](Self::open)s it on its own task.
///
/// Phoenix: the `{writer, writer_opts}`, `max_file_size` and `chunk_timeout` an
/// `UploadChannel` gets from `register_upload`.
#[derive(Clone)]
pub struct UploadTarget {
    storage: Arc<dyn UploadStorage>,
    entry: UploadEntry,
    max_file_size: u64,
    chunk_timeout: Duration,
}

impl UploadTarget {
    /// A target (the config builds these; tests and other transports may too).
    pub fn new(
        storage: Arc<dyn UploadStorage>,
        entry: UploadEntry,
        max_file_size: u64,
        chunk_timeout: Duration,
    ) -> Self {
        UploadTarget {
            storage,
            entry,
            max_file_size,
            chunk_timeout,
        }
    }

    /// The entry, as it was when its channel registered.
    pub fn entry(&self) -> &UploadEntry {
        &self.entry
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn UploadStorage> {
        &self.storage
    }

    /// The config's `max_file_size`.
    pub fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// How long the channel waits for a chunk before it stops the upload.
    pub fn chunk_timeout(&self) -> Duration {
        self.chunk_timeout
    }

    /// Opens the storage for the entry ([`UploadStorage::open`]); [`Error::Writer`] if it
    /// fails.
    pub async fn open(&self) -> Result<EntryWriter> {
        let writer = self
            .storage
            .open(&self.entry)
            .await
            .map_err(Error::Writer)?;
        Ok(EntryWriter::new(
            self.entry.entry_ref.clone(),
            self.entry.client_size,
            self.max_file_size,
            writer,
        ))
    }
}

impl fmt::Debug for UploadTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadTarget")
            .field("storage", &self.storage)
            .field("entry", &self.entry.entry_ref)
            .field("max_file_size", &self.max_file_size)
            .field("chunk_timeout", &self.chunk_timeout)
            .finish()
    }
}

/// Whether an entry has received all its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkStatus {
    /// More bytes are expected.
    Incomplete {
        /// Bytes received so far.
        received: u64,
    },
    /// Received bytes == declared size: call [`EntryWriter::finish`].
    Complete,
}

/// Writes the chunks of one entry into a [`StorageWriter`], enforcing the declared size and
/// the config's `max_file_size` (Phoenix: the byte counting of `UploadChannel`).
///
/// A chunk that would take the byte count past either limit is refused (nothing of it is
/// written) with [`Error::FileSizeLimitExceeded`]; storage failures are [`Error::Writer`].
/// Either way the storage writer is aborted at once (its partial data deleted) and the
/// writer refuses every later chunk.
///
/// ```
/// use bytes::Bytes;
/// use liveview_upload::{ChunkStatus, ClientEntry, EntryWriter, MemoryStorage, UploadEntry, UploadStorage};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let entry = UploadEntry::new(&ClientEntry::new("0", "a.txt", "text/plain", 5), "phx-F1", "files");
/// let storage = MemoryStorage::default();
/// let mut writer = EntryWriter::new("0", 5, 8_000_000, storage.open(&entry).await?);
/// assert_eq!(writer.write_chunk(Bytes::from_static(b"hel")).await?, ChunkStatus::Incomplete { received: 3 });
/// assert_eq!(writer.write_chunk(Bytes::from_static(b"lo")).await?, ChunkStatus::Complete);
/// let stored = writer.finish().await?;
/// assert_eq!(stored.bytes().unwrap().as_ref(), b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct EntryWriter {
    entry_ref: String,
    declared_size: u64,
    max_file_size: u64,
    received: u64,
    /// `None` once the writer failed (the storage writer was aborted).
    writer: Option<Box<dyn StorageWriter>>,
}

impl EntryWriter {
    /// A writer for entry `entry_ref` declared as `declared_size` bytes, storing into
    /// `writer`.
    pub fn new(
        entry_ref: impl Into<String>,
        declared_size: u64,
        max_file_size: u64,
        writer: Box<dyn StorageWriter>,
    ) -> Self {
        EntryWriter {
            entry_ref: entry_ref.into(),
            declared_size,
            max_file_size,
            received: 0,
            writer: Some(writer),
        }
    }

    /// The entry ref.
    pub fn entry_ref(&self) -> &str {
        &self.entry_ref
    }

    /// The declared size in bytes.
    pub fn declared_size(&self) -> u64 {
        self.declared_size
    }

    /// Bytes accepted so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether all declared bytes were received.
    pub fn is_complete(&self) -> bool {
        self.writer.is_some() && self.received == self.declared_size
    }

    /// The effective byte limit: the smaller of the declared size and
    /// `max_file_size` (the `limit` of a `file_size_limit_exceeded` reply).
    pub fn limit(&self) -> u64 {
        self.declared_size.min(self.max_file_size)
    }

    /// Progress in percent (floored), as the client computes it.
    pub fn progress(&self) -> u8 {
        if self.declared_size == 0 {
            return 100;
        }
        // received <= declared_size, so this is at most 100
        (u128::from(self.received) * 100 / u128::from(self.declared_size)) as u8
    }

    /// Accepts one chunk. Empty chunks are accepted and change nothing.
    pub async fn write_chunk(&mut self, chunk: Bytes) -> Result<ChunkStatus> {
        if self.writer.is_none() {
            return Err(failed_earlier());
        }
        let limit = self.limit();
        let new_total = self.received.saturating_add(chunk.len() as u64);
        if new_total > limit {
            self.abort_storage().await;
            return Err(Error::FileSizeLimitExceeded { limit });
        }
        if let (false, Some(writer)) = (chunk.is_empty(), self.writer.as_mut()) {
            if let Err(error) = writer.write(chunk).await {
                self.abort_storage().await;
                return Err(Error::Writer(error));
            }
            self.received = new_total;
        }
        Ok(self.status())
    }

    fn status(&self) -> ChunkStatus {
        if self.received == self.declared_size {
            ChunkStatus::Complete
        } else {
            ChunkStatus::Incomplete {
                received: self.received,
            }
        }
    }

    async fn abort_storage(&mut self) {
        if let Some(writer) = self.writer.take() {
            writer.abort().await;
        }
    }

    /// Finishes a complete entry and returns what the storage made of it. Fails with
    /// [`Error::Writer`] if bytes are missing (the storage writer is then aborted) or the
    /// writer failed earlier.
    pub async fn finish(mut self) -> Result<Stored> {
        if self.writer.is_none() {
            return Err(failed_earlier());
        }
        if self.received != self.declared_size {
            self.abort_storage().await;
            return Err(Error::Writer(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "entry {:?} received {} of {} bytes",
                    self.entry_ref, self.received, self.declared_size
                ),
            )));
        }
        let writer = self.writer.take().expect("checked above");
        writer.finish().await.map_err(Error::Writer)
    }

    /// Stops the upload: the storage deletes what it received.
    pub async fn abort(mut self) {
        self.abort_storage().await;
    }
}

impl fmt::Debug for EntryWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntryWriter")
            .field("entry_ref", &self.entry_ref)
            .field("declared_size", &self.declared_size)
            .field("max_file_size", &self.max_file_size)
            .field("received", &self.received)
            .field("failed", &self.writer.is_none())
            .finish()
    }
}

fn failed_earlier() -> Error {
    Error::Writer(io::Error::other("the upload writer failed earlier"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::ClientEntry;
    use crate::storage::{BoxFuture, MemoryStorage, TempFileStorage};

    fn entry(size: u64) -> UploadEntry {
        UploadEntry::from_client(&ClientEntry::new("0", "a", "", size), "r", "c")
    }

    async fn memory_writer(size: u64, max: u64) -> (EntryWriter, MemoryStorage) {
        let storage = MemoryStorage::default();
        let writer = storage.open(&entry(size)).await.unwrap();
        (EntryWriter::new("0", size, max, writer), storage)
    }

    fn chunk(bytes: &'static [u8]) -> Bytes {
        Bytes::from_static(bytes)
    }

    #[tokio::test]
    async fn multi_chunk_exact_size() {
        let (mut w, _storage) = memory_writer(10, 100).await;
        assert_eq!(w.progress(), 0);
        let statuses = [
            w.write_chunk(chunk(b"0123")).await.unwrap(),
            w.write_chunk(chunk(b"4567")).await.unwrap(),
            w.write_chunk(chunk(b"")).await.unwrap(),
        ];
        assert_eq!(
            statuses,
            [4, 8, 8].map(|received| ChunkStatus::Incomplete { received })
        );
        assert_eq!(w.progress(), 80);
        assert_eq!(
            w.write_chunk(chunk(b"89")).await.unwrap(),
            ChunkStatus::Complete
        );
        assert!(w.is_complete());
        assert_eq!(w.progress(), 100);
        let stored = w.finish().await.unwrap();
        assert_eq!(stored.bytes().unwrap().as_ref(), b"0123456789");
    }

    #[tokio::test]
    async fn over_declared_size_is_refused_and_the_data_goes() {
        let (mut w, storage) = memory_writer(5, 100).await;
        w.write_chunk(chunk(b"abc")).await.unwrap();
        let err = w.write_chunk(chunk(b"def")).await.unwrap_err();
        assert!(matches!(err, Error::FileSizeLimitExceeded { limit: 5 }));
        assert_eq!(
            serde_json::to_value(err.reply()).unwrap(),
            serde_json::json!({"reason":"file_size_limit_exceeded","limit":5})
        );
        assert_eq!(w.received(), 3, "nothing of the refused chunk is counted");
        assert_eq!(
            (storage.open_writers(), storage.buffered_bytes()),
            (0, 0),
            "the storage writer was aborted at once"
        );
        // the writer stays failed
        assert!(matches!(
            w.write_chunk(chunk(b"de")).await,
            Err(Error::Writer(_))
        ));
        assert!(matches!(w.finish().await, Err(Error::Writer(_))));
    }

    #[tokio::test]
    async fn over_max_file_size_is_refused() {
        let (mut w, _storage) = memory_writer(50, 8).await;
        assert_eq!(w.limit(), 8);
        w.write_chunk(chunk(b"12345678")).await.unwrap();
        assert!(matches!(
            w.write_chunk(chunk(b"9")).await,
            Err(Error::FileSizeLimitExceeded { limit: 8 })
        ));
    }

    #[tokio::test]
    async fn chunk_after_complete_is_refused() {
        let (mut w, _storage) = memory_writer(2, 100).await;
        assert_eq!(
            w.write_chunk(chunk(b"ab")).await.unwrap(),
            ChunkStatus::Complete
        );
        assert!(matches!(
            w.write_chunk(chunk(b"c")).await,
            Err(Error::FileSizeLimitExceeded { limit: 2 })
        ));
    }

    #[tokio::test]
    async fn zero_size() {
        let dir = tempfile::tempdir().unwrap();
        let storage = TempFileStorage::new_in(dir.path());
        let mut w = EntryWriter::new("0", 0, 100, storage.open(&entry(0)).await.unwrap());
        assert!(w.is_complete());
        assert_eq!(w.progress(), 100);
        assert_eq!(
            w.write_chunk(chunk(b"")).await.unwrap(),
            ChunkStatus::Complete
        );
        assert!(matches!(
            w.write_chunk(chunk(b"x")).await,
            Err(Error::FileSizeLimitExceeded { limit: 0 })
        ));
        let w = EntryWriter::new("1", 0, 100, storage.open(&entry(0)).await.unwrap());
        let f = w.finish().await.unwrap().into_file().unwrap();
        assert_eq!(f.read().unwrap(), b"");
    }

    #[tokio::test]
    async fn incomplete_finish_fails_and_aborts() {
        let (mut w, storage) = memory_writer(4, 100).await;
        w.write_chunk(chunk(b"ab")).await.unwrap();
        let err = w.finish().await.unwrap_err();
        assert_eq!(err.reason(), "writer_error");
        assert_eq!(storage.open_writers(), 0);
    }

    struct FailingWriter;
    impl StorageWriter for FailingWriter {
        fn write(&mut self, _: Bytes) -> BoxFuture<'_, io::Result<()>> {
            Box::pin(async { Err(io::Error::other("disk full")) })
        }
        fn finish(self: Box<Self>) -> BoxFuture<'static, io::Result<Stored>> {
            Box::pin(async { Ok(Stored::custom(())) })
        }
        fn abort(self: Box<Self>) -> BoxFuture<'static, ()> {
            Box::pin(async {})
        }
    }

    #[tokio::test]
    async fn storage_errors_are_writer_errors() {
        let mut w = EntryWriter::new("0", 4, 100, Box::new(FailingWriter));
        let err = w.write_chunk(chunk(b"ab")).await.unwrap_err();
        assert_eq!(err.reason(), "writer_error");
        assert_eq!(
            serde_json::to_value(err.reply()).unwrap(),
            serde_json::json!({"reason":"writer_error"})
        );
        assert!(!w.is_complete());
    }

    #[tokio::test]
    async fn abort_releases_the_storage() {
        let (mut w, storage) = memory_writer(4, 100).await;
        w.write_chunk(chunk(b"ab")).await.unwrap();
        w.abort().await;
        assert_eq!((storage.open_writers(), storage.buffered_bytes()), (0, 0));
    }
}
