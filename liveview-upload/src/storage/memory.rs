//! [`MemoryStorage`]: uploads kept in memory, with an optional cap on the bytes being
//! received at once. Also the test double of [`UploadStorage`].

use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::{BoxFuture, StorageWriter, Stored, UploadStorage};
use crate::entry::UploadEntry;

/// An [`UploadStorage`] that keeps each file in memory; `consume_uploaded_entries` gets a
/// [`Stored::Memory`] with the bytes.
///
/// For small files (avatars, CSV imports) that go to a database or another service anyway:
/// no disk, no cleanup. Memory is bounded by the configs (`max_file_size` per entry,
/// `max_entries` per config) and, across every upload sharing this storage (clones share),
/// by [`with_limit`](Self::with_limit): a chunk that would pass it fails the upload
/// (`writer_error`, [`EntryError::WriterFailure`](crate::EntryError::WriterFailure)).
/// Phoenix: a custom `UploadWriter` keeping chunks in its state; LiveViewJS has none.
///
/// [`open_writers`](Self::open_writers) and [`buffered_bytes`](Self::buffered_bytes) say what
/// unfinished uploads hold, which makes it the test double for code that must release
/// storage (cancel, timeouts).
///
/// ```
/// use liveview_upload::{MemoryStorage, UploadOptions};
/// let storage = MemoryStorage::with_limit(64 << 20);
/// let options = UploadOptions::new().storage(storage.clone());
/// # let _ = options;
/// assert_eq!(storage.open_writers(), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// Most bytes held by unfinished uploads at once; `None` for no cap.
    limit: Option<u64>,
    buffered: AtomicU64,
    open: AtomicUsize,
}

impl MemoryStorage {
    /// A memory storage whose unfinished uploads hold at most `bytes` together.
    pub fn with_limit(bytes: u64) -> Self {
        MemoryStorage {
            shared: Arc::new(Shared {
                limit: Some(bytes),
                ..Shared::default()
            }),
        }
    }

    /// The cap given to [`with_limit`](Self::with_limit).
    pub fn limit(&self) -> Option<u64> {
        self.shared.limit
    }

    /// Writers opened and not yet finished, aborted or dropped.
    pub fn open_writers(&self) -> usize {
        self.shared.open.load(Ordering::Acquire)
    }

    /// Bytes held by unfinished uploads.
    pub fn buffered_bytes(&self) -> u64 {
        self.shared.buffered.load(Ordering::Acquire)
    }
}

impl UploadStorage for MemoryStorage {
    fn open<'a>(
        &'a self,
        _entry: &'a UploadEntry,
    ) -> BoxFuture<'a, io::Result<Box<dyn StorageWriter>>> {
        self.shared.open.fetch_add(1, Ordering::AcqRel);
        let writer = MemoryWriter {
            buffer: BytesMut::new(),
            shared: self.shared.clone(),
        };
        Box::pin(async move { Ok(Box::new(writer) as Box<dyn StorageWriter>) })
    }
}

struct MemoryWriter {
    buffer: BytesMut,
    shared: Arc<Shared>,
}

impl StorageWriter for MemoryWriter {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, io::Result<()>> {
        let len = chunk.len() as u64;
        let held = self.shared.buffered.fetch_add(len, Ordering::AcqRel) + len;
        let result = match self.shared.limit {
            Some(limit) if held > limit => {
                self.shared.buffered.fetch_sub(len, Ordering::AcqRel);
                Err(io::Error::new(
                    io::ErrorKind::OutOfMemory,
                    format!("the memory upload storage is full ({limit} bytes)"),
                ))
            }
            _ => {
                self.buffer.extend_from_slice(&chunk);
                Ok(())
            }
        };
        Box::pin(async move { result })
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, io::Result<Stored>> {
        let bytes = std::mem::take(&mut self.buffer).freeze();
        self.shared
            .buffered
            .fetch_sub(bytes.len() as u64, Ordering::AcqRel);
        Box::pin(async move { Ok(Stored::Memory(bytes)) })
    }

    fn abort(self: Box<Self>) -> BoxFuture<'static, ()> {
        drop(self);
        Box::pin(async {})
    }
}

impl Drop for MemoryWriter {
    fn drop(&mut self) {
        self.shared
            .buffered
            .fetch_sub(self.buffer.len() as u64, Ordering::AcqRel);
        self.shared.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::ClientEntry;

    fn entry() -> UploadEntry {
        UploadEntry::from_client(&ClientEntry::new("0", "a.txt", "text/plain", 5), "r", "c")
    }

    #[tokio::test]
    async fn keeps_the_bytes_and_counts_what_is_open() {
        let storage = MemoryStorage::default();
        let mut writer = storage.open(&entry()).await.unwrap();
        writer.write(Bytes::from_static(b"hel")).await.unwrap();
        writer.write(Bytes::from_static(b"lo")).await.unwrap();
        assert_eq!((storage.open_writers(), storage.buffered_bytes()), (1, 5));
        let stored = writer.finish().await.unwrap();
        assert_eq!(stored.bytes().unwrap().as_ref(), b"hello");
        assert_eq!((storage.open_writers(), storage.buffered_bytes()), (0, 0));
    }

    #[tokio::test]
    async fn abort_and_drop_release_the_bytes() {
        let storage = MemoryStorage::default();
        let mut writer = storage.open(&entry()).await.unwrap();
        writer.write(Bytes::from_static(b"abc")).await.unwrap();
        writer.abort().await;
        assert_eq!((storage.open_writers(), storage.buffered_bytes()), (0, 0));
        let mut writer = storage.open(&entry()).await.unwrap();
        writer.write(Bytes::from_static(b"abc")).await.unwrap();
        drop(writer);
        assert_eq!((storage.open_writers(), storage.buffered_bytes()), (0, 0));
    }

    #[tokio::test]
    async fn the_limit_is_shared_by_clones() {
        let storage = MemoryStorage::with_limit(4);
        let clone = storage.clone();
        let mut a = storage.open(&entry()).await.unwrap();
        let mut b = clone.open(&entry()).await.unwrap();
        a.write(Bytes::from_static(b"abc")).await.unwrap();
        let error = b.write(Bytes::from_static(b"de")).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::OutOfMemory);
        assert_eq!(
            storage.buffered_bytes(),
            3,
            "the refused chunk is not counted"
        );
        b.write(Bytes::from_static(b"d")).await.unwrap();
        drop(a);
        assert_eq!(clone.buffered_bytes(), 1);
    }
}
