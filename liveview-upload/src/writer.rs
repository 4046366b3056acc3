//! Chunk storage: [`ChunkSink`], the temp-file sink [`TempFileSink`], the
//! stored result [`UploadedFile`] and the size-enforcing [`EntryWriter`].

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempPath};

use crate::error::{Error, Result};

/// Destination of the bytes of one entry. Chunks arrive strictly in order.
///
/// The calls are synchronous; an async transport may run them on a blocking
/// pool or implement a sink that buffers.
pub trait ChunkSink {
    /// What a finished sink yields (for [`TempFileSink`], an
    /// [`UploadedFile`]).
    type Output;

    /// Appends one chunk.
    fn write_chunk(&mut self, chunk: &[u8]) -> io::Result<()>;

    /// Flushes and closes the sink after the last chunk.
    fn finish(self) -> io::Result<Self::Output>
    where
        Self: Sized;
}

/// A [`ChunkSink`] writing to a fresh temporary file (deleted when the
/// resulting [`UploadedFile`], or the sink itself, is dropped).
#[derive(Debug)]
pub struct TempFileSink {
    file: NamedTempFile,
}

impl TempFileSink {
    /// A temporary file in the system temp directory.
    pub fn new() -> io::Result<Self> {
        Self::with_dir(None)
    }

    /// A temporary file in `dir`.
    pub fn new_in(dir: impl AsRef<Path>) -> io::Result<Self> {
        Self::with_dir(Some(dir.as_ref()))
    }

    pub(crate) fn with_dir(dir: Option<&Path>) -> io::Result<Self> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("lv-upload-");
        let file = match dir {
            Some(dir) => builder.tempfile_in(dir)?,
            None => builder.tempfile()?,
        };
        Ok(TempFileSink { file })
    }

    /// The path of the temporary file.
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

impl ChunkSink for TempFileSink {
    type Output = UploadedFile;

    fn write_chunk(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.file.as_file_mut().write_all(chunk)
    }

    fn finish(mut self) -> io::Result<UploadedFile> {
        self.file.as_file_mut().flush()?;
        Ok(UploadedFile {
            path: self.file.into_temp_path(),
        })
    }
}

/// A completely received file in temporary storage.
///
/// Dropping it deletes the file; [`persist`](Self::persist) moves it and
/// [`keep`](Self::keep) keeps it where it is.
#[derive(Debug)]
pub struct UploadedFile {
    path: TempPath,
}

impl UploadedFile {
    /// Takes ownership of an existing temporary path (deleted on drop).
    pub fn from_temp_path(path: TempPath) -> Self {
        UploadedFile { path }
    }

    /// Where the file currently is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the file to `dest` (rename, or copy + delete across file
    /// systems) and returns `dest`.
    pub fn persist(self, dest: impl AsRef<Path>) -> io::Result<PathBuf> {
        let dest = dest.as_ref();
        match self.path.persist(dest) {
            Ok(()) => Ok(dest.to_path_buf()),
            Err(e) => {
                // Typically EXDEV: copy, then let the TempPath delete the source.
                let path = e.path;
                fs::copy(&path, dest)?;
                drop(path);
                Ok(dest.to_path_buf())
            }
        }
    }

    /// Keeps the file at its current path (it is no longer deleted) and
    /// returns that path.
    pub fn keep(self) -> io::Result<PathBuf> {
        self.path.keep().map_err(|e| e.error)
    }

    /// Reads the whole file.
    pub fn read(&self) -> io::Result<Vec<u8>> {
        fs::read(self.path())
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

/// Writes the chunks of one entry into a [`ChunkSink`], enforcing the
/// declared size and the config's `max_file_size`.
///
/// A chunk that would take the byte count past either limit is refused
/// (nothing of it is written) with
/// [`Error::FileSizeLimitExceeded`]; sink failures are [`Error::Writer`].
/// After any error the writer refuses all further chunks.
///
/// ```
/// use liveview_upload::{ChunkStatus, EntryWriter, TempFileSink};
/// let mut w = EntryWriter::new("0", 5, 8_000_000, TempFileSink::new()?);
/// assert_eq!(w.write_chunk(b"hel")?, ChunkStatus::Incomplete { received: 3 });
/// assert_eq!(w.write_chunk(b"lo")?, ChunkStatus::Complete);
/// let file = w.finish()?;
/// assert_eq!(file.read()?, b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct EntryWriter<S: ChunkSink = TempFileSink> {
    entry_ref: String,
    declared_size: u64,
    max_file_size: u64,
    received: u64,
    sink: S,
    failed: bool,
}

impl<S: ChunkSink> EntryWriter<S> {
    /// A writer for entry `entry_ref` declared as `declared_size` bytes.
    pub fn new(
        entry_ref: impl Into<String>,
        declared_size: u64,
        max_file_size: u64,
        sink: S,
    ) -> Self {
        EntryWriter {
            entry_ref: entry_ref.into(),
            declared_size,
            max_file_size,
            received: 0,
            sink,
            failed: false,
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
        !self.failed && self.received == self.declared_size
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
    pub fn write_chunk(&mut self, chunk: &[u8]) -> Result<ChunkStatus> {
        if self.failed {
            return Err(Error::Writer(io::Error::other(
                "the upload writer failed earlier",
            )));
        }
        let limit = self.limit();
        let new_total = self.received.saturating_add(chunk.len() as u64);
        if new_total > limit {
            self.failed = true;
            return Err(Error::FileSizeLimitExceeded { limit });
        }
        if !chunk.is_empty() {
            if let Err(e) = self.sink.write_chunk(chunk) {
                self.failed = true;
                return Err(Error::Writer(e));
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

    /// Finishes a complete entry and returns the sink's output. Fails with
    /// [`Error::Writer`] if bytes are missing or the writer failed.
    pub fn finish(self) -> Result<S::Output> {
        if self.failed {
            return Err(Error::Writer(io::Error::other(
                "the upload writer failed earlier",
            )));
        }
        if self.received != self.declared_size {
            return Err(Error::Writer(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "entry {:?} received {} of {} bytes",
                    self.entry_ref, self.received, self.declared_size
                ),
            )));
        }
        self.sink.finish().map_err(Error::Writer)
    }
}

impl EntryWriter<TempFileSink> {
    /// A writer into a fresh temporary file (in `dir`, or the system temp
    /// directory).
    pub fn temp_file(
        entry_ref: impl Into<String>,
        declared_size: u64,
        max_file_size: u64,
        dir: Option<&Path>,
    ) -> Result<Self> {
        let sink = TempFileSink::with_dir(dir).map_err(Error::Writer)?;
        Ok(Self::new(entry_ref, declared_size, max_file_size, sink))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn multi_chunk_exact_size() {
        let dir = tmp();
        let mut w = EntryWriter::temp_file("0", 10, 100, Some(dir.path())).unwrap();
        assert_eq!(w.progress(), 0);
        assert_eq!(
            w.write_chunk(b"0123").unwrap(),
            ChunkStatus::Incomplete { received: 4 }
        );
        assert_eq!(w.progress(), 40);
        assert_eq!(
            w.write_chunk(b"4567").unwrap(),
            ChunkStatus::Incomplete { received: 8 }
        );
        assert_eq!(
            w.write_chunk(b"").unwrap(),
            ChunkStatus::Incomplete { received: 8 }
        );
        assert_eq!(w.write_chunk(b"89").unwrap(), ChunkStatus::Complete);
        assert!(w.is_complete());
        assert_eq!(w.progress(), 100);
        let f = w.finish().unwrap();
        assert!(f.path().starts_with(dir.path()));
        assert_eq!(f.read().unwrap(), b"0123456789");
        let p = f.path().to_path_buf();
        drop(f);
        assert!(!p.exists(), "dropping the file deletes it");
    }

    #[test]
    fn over_declared_size_is_refused() {
        let dir = tmp();
        let mut w = EntryWriter::temp_file("0", 5, 100, Some(dir.path())).unwrap();
        w.write_chunk(b"abc").unwrap();
        let err = w.write_chunk(b"def").unwrap_err();
        assert!(matches!(err, Error::FileSizeLimitExceeded { limit: 5 }));
        assert_eq!(
            serde_json::to_value(err.reply()).unwrap(),
            serde_json::json!({"reason":"file_size_limit_exceeded","limit":5})
        );
        assert_eq!(w.received(), 3, "nothing of the refused chunk is counted");
        // the writer stays failed
        assert!(matches!(w.write_chunk(b"de"), Err(Error::Writer(_))));
        assert!(matches!(w.finish(), Err(Error::Writer(_))));
    }

    #[test]
    fn over_max_file_size_is_refused() {
        let dir = tmp();
        let mut w = EntryWriter::temp_file("0", 50, 8, Some(dir.path())).unwrap();
        assert_eq!(w.limit(), 8);
        w.write_chunk(b"12345678").unwrap();
        assert!(matches!(
            w.write_chunk(b"9"),
            Err(Error::FileSizeLimitExceeded { limit: 8 })
        ));
    }

    #[test]
    fn chunk_after_complete_is_refused() {
        let mut w = EntryWriter::temp_file("0", 2, 100, None).unwrap();
        assert_eq!(w.write_chunk(b"ab").unwrap(), ChunkStatus::Complete);
        assert!(matches!(
            w.write_chunk(b"c"),
            Err(Error::FileSizeLimitExceeded { limit: 2 })
        ));
    }

    #[test]
    fn zero_size() {
        let dir = tmp();
        let mut w = EntryWriter::temp_file("0", 0, 100, Some(dir.path())).unwrap();
        assert!(w.is_complete());
        assert_eq!(w.progress(), 100);
        assert_eq!(w.write_chunk(b"").unwrap(), ChunkStatus::Complete);
        assert!(matches!(
            w.write_chunk(b"x"),
            Err(Error::FileSizeLimitExceeded { limit: 0 })
        ));
        let mut w = EntryWriter::temp_file("1", 0, 100, Some(dir.path())).unwrap();
        assert!(w.write_chunk(&[]).is_ok());
        let f = w.finish().unwrap();
        assert_eq!(f.read().unwrap(), b"");
    }

    #[test]
    fn incomplete_finish_fails() {
        let mut w = EntryWriter::temp_file("0", 4, 100, None).unwrap();
        w.write_chunk(b"ab").unwrap();
        let err = w.finish().unwrap_err();
        assert_eq!(err.reason(), "writer_error");
    }

    #[derive(Debug)]
    struct FailingSink;
    impl ChunkSink for FailingSink {
        type Output = ();
        fn write_chunk(&mut self, _: &[u8]) -> io::Result<()> {
            Err(io::Error::other("disk full"))
        }
        fn finish(self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn sink_errors_are_writer_errors() {
        let mut w = EntryWriter::new("0", 4, 100, FailingSink);
        let err = w.write_chunk(b"ab").unwrap_err();
        assert_eq!(err.reason(), "writer_error");
        assert_eq!(
            serde_json::to_value(err.reply()).unwrap(),
            serde_json::json!({"reason":"writer_error"})
        );
    }

    #[test]
    fn persist_and_keep() {
        let dir = tmp();
        let mut w = EntryWriter::temp_file("0", 3, 100, Some(dir.path())).unwrap();
        w.write_chunk(b"abc").unwrap();
        let f = w.finish().unwrap();
        let src = f.path().to_path_buf();
        let dest = dir.path().join("kept.bin");
        assert_eq!(f.persist(&dest).unwrap(), dest);
        assert!(!src.exists());
        assert_eq!(fs::read(&dest).unwrap(), b"abc");

        let mut w = EntryWriter::temp_file("1", 1, 100, Some(dir.path())).unwrap();
        w.write_chunk(b"z").unwrap();
        let f = w.finish().unwrap();
        let kept = f.keep().unwrap();
        assert_eq!(fs::read(&kept).unwrap(), b"z");
    }
}
