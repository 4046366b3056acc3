//! Upload storage: where the bytes of channel uploads go ([`UploadStorage`] opens one
//! [`StorageWriter`] per entry), what a finished upload is ([`Stored`]), and the storages that
//! ship: [`TempFileStorage`] (the default) and [`MemoryStorage`].

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;

use crate::entry::UploadEntry;
use crate::external::ExternalUpload;

mod memory;
mod temp_file;

pub use memory::MemoryStorage;
pub use temp_file::{TempFileStorage, UploadedFile};

/// A boxed future that can move between threads: what the storage traits return, so that
/// they stay object-safe (`Arc<dyn UploadStorage>`).
///
/// Implementations write `Box::pin(async move { … })`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the files of channel uploads go: a temporary file (the default,
/// [`TempFileStorage`]), memory ([`MemoryStorage`]), object storage, a database, anything
/// that takes bytes in order.
///
/// Phoenix: the `Phoenix.LiveView.UploadWriter` behaviour chosen by `allow_upload`'s
/// `writer:` option ([`open`](Self::open) is its `init/1`); LiveViewJS: its
/// `FileSystemAdaptor`. Chosen per upload with
/// [`UploadOptions::storage`](crate::UploadOptions::storage), or for every upload of an
/// endpoint (liveview-core's `EndpointBuilder::upload_storage`).
///
/// # The protocol
///
/// For each entry whose `lvu:` channel joins, the runtime calls [`open`](Self::open) once,
/// then [`StorageWriter::write`] for each chunk in order, then exactly one of
/// [`StorageWriter::finish`] (every declared byte arrived) or [`StorageWriter::abort`] (the
/// entry was cancelled, a chunk was refused, no chunk came within `chunk_timeout`, a write
/// failed, the channel or the view went away). The runtime has already checked each chunk
/// against the entry's declared size and the config's `max_file_size`; a storage only
/// stores. Each call is awaited before the next one starts, on the upload channel's own
/// task, never on the socket's read task or in a view's turn (but for the `abort` of a
/// cancelled entry, which the cancelling turn awaits), so a slow storage delays only its own
/// upload (the client sends the next chunk once the previous one is written). Use async IO or `tokio::task::spawn_blocking` for blocking calls, as
/// [`TempFileStorage`] does. An error from `open`, `write` or `finish` fails the upload: the
/// client gets `writer_error`, and the entry keeps [`EntryError::WriterFailure`](crate::EntryError::WriterFailure)
/// until it is cancelled.
///
/// # Why a trait object
///
/// The trait is object-safe on purpose. The storage is chosen at run time, per upload
/// config or per endpoint, and an [`UploadConfig`](crate::UploadConfig) holds it as
/// `Arc<dyn UploadStorage>`: a view's configs sit in one list whatever their storages, and
/// one page may send two inputs to two storages. A generic `UploadConfig<S>` would make the
/// socket, the view's `Uploads` and the runtime's channel table generic as well. The price is
/// one boxed future per call, that is one allocation per chunk (64 kB by default), nothing
/// next to the write itself.
///
/// # Example: a storage that counts bytes and keeps none
///
/// ```
/// use std::io;
/// use bytes::Bytes;
/// use liveview_upload::{BoxFuture, Stored, StorageWriter, UploadEntry, UploadStorage};
///
/// #[derive(Debug)]
/// struct Counting;
///
/// struct Counter(u64);
///
/// impl UploadStorage for Counting {
///     fn open<'a>(&'a self, _entry: &'a UploadEntry)
///         -> BoxFuture<'a, io::Result<Box<dyn StorageWriter>>>
///     {
///         Box::pin(async { Ok(Box::new(Counter(0)) as Box<dyn StorageWriter>) })
///     }
/// }
///
/// impl StorageWriter for Counter {
///     fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, io::Result<()>> {
///         self.0 += chunk.len() as u64;
///         Box::pin(async { Ok(()) })
///     }
///     fn finish(self: Box<Self>) -> BoxFuture<'static, io::Result<Stored>> {
///         // `consume_uploaded_entries` gets this value back (`Stored::downcast::<u64>`).
///         Box::pin(async move { Ok(Stored::custom(self.0)) })
///     }
///     fn abort(self: Box<Self>) -> BoxFuture<'static, ()> {
///         Box::pin(async {})
///     }
/// }
/// ```
pub trait UploadStorage: fmt::Debug + Send + Sync + 'static {
    /// Opens the destination of one entry (Phoenix: `UploadWriter.init/1`). The entry gives
    /// the client's name, type and declared size and a server-generated
    /// [`uuid`](UploadEntry::uuid) for naming. Called when the entry's `lvu:` channel joins;
    /// an error refuses the join with `writer_error`.
    fn open<'a>(
        &'a self,
        entry: &'a UploadEntry,
    ) -> BoxFuture<'a, io::Result<Box<dyn StorageWriter>>>;
}

/// The destination of one entry's bytes, opened by [`UploadStorage::open`] (Phoenix: the
/// state of an `UploadWriter`).
///
/// Exactly one of [`finish`](Self::finish) and [`abort`](Self::abort) is called, unless the
/// writer is dropped first (the process is shutting down, or a future was cancelled): its
/// `Drop` should then release what it holds, as [`TempFileStorage`]'s deletes its file.
pub trait StorageWriter: Send + 'static {
    /// Appends one chunk (Phoenix: `write_chunk/2`). Chunks come in order and never past the
    /// declared size or `max_file_size`.
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, io::Result<()>>;

    /// Every declared byte was written: make the result whole and say what it is (Phoenix:
    /// `close(state, :done)`, then `meta/1`). The [`Stored`] value is what
    /// `consume_uploaded_entries` hands the application; if the entry is cancelled or its
    /// view ends before that, the value is dropped, so its `Drop` should release the data
    /// (as [`UploadedFile`] deletes its file).
    fn finish(self: Box<Self>) -> BoxFuture<'static, io::Result<Stored>>;

    /// The upload ended before its last byte (Phoenix: `close(state, :cancel)` or
    /// `close(state, {:error, reason})`): delete what was written. The runtime awaits it
    /// before it answers the event that cancelled the entry, so "cancelled" means "gone".
    fn abort(self: Box<Self>) -> BoxFuture<'static, ()>;
}

impl<S: UploadStorage + ?Sized> UploadStorage for Arc<S> {
    fn open<'a>(
        &'a self,
        entry: &'a UploadEntry,
    ) -> BoxFuture<'a, io::Result<Box<dyn StorageWriter>>> {
        (**self).open(entry)
    }
}

/// A finished upload, as `consume_uploaded_entries` hands it to the application (Phoenix: the
/// `meta` its consume function gets: `%{path: path}` for the temp-file writer, the writer's
/// `meta/1` for others, the `external:` function's map for external uploads; LiveViewJS: the
/// `meta` with its `path`).
///
/// Dropping it releases the data: [`UploadedFile`] deletes its file, [`Stored::Memory`]
/// frees its bytes, a [`Stored::Custom`] value does what its `Drop` does. Keep the data by
/// moving it out (`UploadedFile::persist`, or your storage's own commit).
///
/// ```
/// use liveview_upload::Stored;
/// let stored = Stored::Memory(bytes::Bytes::from_static(b"hello"));
/// assert_eq!(stored.bytes().map(|b| b.len()), Some(5));
/// assert!(stored.path().is_none());
///
/// let stored = Stored::custom(42_u32);
/// assert_eq!(stored.downcast_ref::<u32>(), Some(&42));
/// assert_eq!(stored.downcast::<u32>().ok(), Some(42));
/// ```
#[non_exhaustive]
pub enum Stored {
    /// A file on disk, deleted when dropped ([`TempFileStorage`]).
    File(UploadedFile),
    /// The whole file in memory ([`MemoryStorage`]).
    Memory(Bytes),
    /// An external upload: the client sent the file elsewhere, and this is what the config's
    /// [`Presigner`](crate::Presigner) told it (uploader, URL, key, …). The server received
    /// no byte: check that the object arrived before you trust it.
    External(ExternalUpload),
    /// What any other storage returns (an object key, a content hash, a database id, …);
    /// get it back with [`downcast`](Self::downcast).
    Custom(Box<dyn Any + Send + Sync>),
}

impl Stored {
    /// Wraps what a custom storage made of an upload ([`Stored::Custom`]).
    pub fn custom<T: Any + Send + Sync>(value: T) -> Self {
        Stored::Custom(Box::new(value))
    }

    /// The file's path, for [`Stored::File`].
    pub fn path(&self) -> Option<&Path> {
        match self {
            Stored::File(file) => Some(file.path()),
            _ => None,
        }
    }

    /// The file, for [`Stored::File`]; else the value back.
    pub fn into_file(self) -> Result<UploadedFile, Self> {
        match self {
            Stored::File(file) => Ok(file),
            other => Err(other),
        }
    }

    /// The bytes, for [`Stored::Memory`].
    pub fn bytes(&self) -> Option<&Bytes> {
        match self {
            Stored::Memory(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The client's instructions, for [`Stored::External`].
    pub fn external(&self) -> Option<&ExternalUpload> {
        match self {
            Stored::External(external) => Some(external),
            _ => None,
        }
    }

    /// A [`Stored::Custom`] value of type `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        match self {
            Stored::Custom(value) => value.downcast_ref(),
            _ => None,
        }
    }

    /// Takes a [`Stored::Custom`] value of type `T` out; else the value back.
    pub fn downcast<T: Any>(self) -> Result<T, Self> {
        match self {
            Stored::Custom(value) => match value.downcast::<T>() {
                Ok(value) => Ok(*value),
                Err(value) => Err(Stored::Custom(value)),
            },
            other => Err(other),
        }
    }
}

impl fmt::Debug for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stored::File(file) => f.debug_tuple("File").field(&file.path()).finish(),
            Stored::Memory(bytes) => f.debug_tuple("Memory").field(&bytes.len()).finish(),
            Stored::External(external) => f.debug_tuple("External").field(external).finish(),
            Stored::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Runs blocking filesystem work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| io::Error::other(format!("upload storage task failed: {error}")))?
}
