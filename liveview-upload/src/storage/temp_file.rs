//! [`TempFileStorage`], the default storage: one temporary file per entry, written on tokio's
//! blocking pool, handed over as an [`UploadedFile`] that deletes itself unless kept.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tempfile::{NamedTempFile, TempPath};

use super::{blocking, BoxFuture, StorageWriter, Stored, UploadStorage};
use crate::entry::UploadEntry;

/// The default [`UploadStorage`]: each entry goes to a fresh temporary file
/// (`lv-upload-…`) in the system temp directory or a directory of yours, and
/// `consume_uploaded_entries` gets a [`Stored::File`].
///
/// Phoenix: `Phoenix.LiveView.UploadTmpFileWriter`, the default `writer:`; LiveViewJS: the
/// temp files of its `FileSystemAdaptor`. Every filesystem call (create, write, flush,
/// delete) runs on tokio's blocking pool, so it needs a tokio runtime.
///
/// The file is deleted when the upload is aborted (cancelled, refused, stalled), when the
/// [`UploadedFile`] is dropped (consumed without being kept, or left unconsumed when the
/// entry is cancelled or the view ends), and at the latest when the process exits cleanly.
///
/// ```
/// use liveview_upload::{TempFileStorage, UploadOptions};
/// let dir = std::env::temp_dir();
/// let options = UploadOptions::new().storage(TempFileStorage::new_in(&dir));
/// # let _ = options;
/// assert_eq!(TempFileStorage::new_in(&dir).dir(), Some(dir.as_path()));
/// assert_eq!(TempFileStorage::default().dir(), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TempFileStorage {
    dir: Option<PathBuf>,
}

impl TempFileStorage {
    /// Temporary files in `dir` (which must exist) instead of the system temp directory.
    pub fn new_in(dir: impl Into<PathBuf>) -> Self {
        TempFileStorage {
            dir: Some(dir.into()),
        }
    }

    /// The directory of the temporary files; `None` for the system temp directory.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}

impl UploadStorage for TempFileStorage {
    fn open<'a>(
        &'a self,
        _entry: &'a UploadEntry,
    ) -> BoxFuture<'a, io::Result<Box<dyn StorageWriter>>> {
        let dir = self.dir.clone();
        Box::pin(async move {
            let file = blocking(move || {
                let mut builder = tempfile::Builder::new();
                builder.prefix("lv-upload-");
                match dir {
                    Some(dir) => builder.tempfile_in(dir),
                    None => builder.tempfile(),
                }
            })
            .await?;
            Ok(Box::new(TempFileWriter { file: Some(file) }) as Box<dyn StorageWriter>)
        })
    }
}

/// One entry's temporary file. `file` is `None` only while a write holds it on the blocking
/// pool (or after a write whose task failed).
struct TempFileWriter {
    file: Option<NamedTempFile>,
}

impl TempFileWriter {
    fn take(&mut self) -> io::Result<NamedTempFile> {
        self.file
            .take()
            .ok_or_else(|| io::Error::other("the temporary file was lost by a failed write"))
    }
}

impl StorageWriter for TempFileWriter {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            let mut file = self.take()?;
            // The file travels to the blocking pool and back; if this future is dropped
            // meanwhile, the pool drops (and so deletes) it.
            let (file, written) = blocking(move || {
                let written = file.as_file_mut().write_all(&chunk);
                Ok((file, written))
            })
            .await?;
            self.file = Some(file);
            written
        })
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, io::Result<Stored>> {
        Box::pin(async move {
            let mut file = self.take()?;
            let path = blocking(move || {
                file.as_file_mut().flush()?;
                Ok(file.into_temp_path())
            })
            .await?;
            Ok(Stored::File(UploadedFile::from_temp_path(path)))
        })
    }

    fn abort(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            if let Some(file) = self.file.take() {
                // Dropping a NamedTempFile closes and deletes it.
                let _ = blocking(move || {
                    drop(file);
                    Ok(())
                })
                .await;
            }
        })
    }
}

/// A completely received file in temporary storage ([`Stored::File`]).
///
/// Dropping it deletes the file; [`persist`](Self::persist) moves it and
/// [`keep`](Self::keep) keeps it where it is. Phoenix: the `%{path: path}` a consume function
/// gets from the temp-file writer (which deletes the file after the function returns).
///
/// These calls are blocking filesystem calls: for large files in async code, move the file
/// out of the consume callback and call them inside `tokio::task::spawn_blocking`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::ClientEntry;

    fn entry() -> UploadEntry {
        UploadEntry::from_client(&ClientEntry::new("0", "a.txt", "text/plain", 5), "r", "c")
    }

    #[tokio::test]
    async fn writes_finishes_and_deletes_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let storage = TempFileStorage::new_in(dir.path());
        let mut writer = storage.open(&entry()).await.unwrap();
        writer.write(Bytes::from_static(b"hel")).await.unwrap();
        writer.write(Bytes::from_static(b"lo")).await.unwrap();
        let stored = writer.finish().await.unwrap();
        let path = stored.path().unwrap().to_path_buf();
        assert!(path.starts_with(dir.path()));
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        drop(stored);
        assert!(!path.exists(), "dropping the stored file deletes it");
    }

    #[tokio::test]
    async fn abort_deletes_the_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let storage = TempFileStorage::new_in(dir.path());
        let mut writer = storage.open(&entry()).await.unwrap();
        writer.write(Bytes::from_static(b"hel")).await.unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        writer.abort().await;
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn dropping_an_open_writer_deletes_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let writer = TempFileStorage::new_in(dir.path())
            .open(&entry())
            .await
            .unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        drop(writer);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_missing_directory_fails_open() {
        let storage = TempFileStorage::new_in("/nonexistent/liveview/uploads");
        assert!(storage.open(&entry()).await.is_err());
    }

    #[tokio::test]
    async fn persist_and_keep() {
        let dir = tempfile::tempdir().unwrap();
        let storage = TempFileStorage::new_in(dir.path());
        let mut writer = storage.open(&entry()).await.unwrap();
        writer.write(Bytes::from_static(b"abc")).await.unwrap();
        let file = writer.finish().await.unwrap().into_file().unwrap();
        let src = file.path().to_path_buf();
        let dest = dir.path().join("kept.bin");
        assert_eq!(file.persist(&dest).unwrap(), dest);
        assert!(!src.exists());
        assert_eq!(fs::read(&dest).unwrap(), b"abc");

        let mut writer = storage.open(&entry()).await.unwrap();
        writer.write(Bytes::from_static(b"z")).await.unwrap();
        let file = writer.finish().await.unwrap().into_file().unwrap();
        let kept = file.keep().unwrap();
        assert_eq!(fs::read(&kept).unwrap(), b"z");
    }
}
