//! The transport-agnostic file upload model of the Phoenix LiveView 1.2
//! protocol (§10 of the protocol notes).
//!
//! This crate holds no sockets and no secrets. `liveview-core` calls it from
//! its channel handlers; application authors use it through core's socket
//! API (`allow_upload`, `cancel_upload`, `uploaded_entries`,
//! `consume_uploaded_entries`), which wraps an [`UploadConfig`] per allowed
//! upload.
//!
//! What it models:
//!
//! * [`UploadConfig`] built from [`UploadOptions`]: name, random ref
//!   (`"phx-…"`), entries and errors, with the protocol operations:
//!   [`put_entries`](UploadConfig::put_entries) (form change with
//!   `uploads`), [`preflight`](UploadConfig::preflight) (`allow_upload`
//!   reply), [`register_upload`](UploadConfig::register_upload) (`lvu:`
//!   join), [`attach`](UploadConfig::attach) (all bytes stored),
//!   [`update_progress`](UploadConfig::update_progress) (`progress`),
//!   [`cancel`](UploadConfig::cancel),
//!   [`uploaded_entries`](UploadConfig::uploaded_entries) and
//!   [`consume`](UploadConfig::consume).
//! * [`EntryTokens`] / [`UploadTokenPayload`]: entry tokens signed and
//!   verified by the caller.
//! * Storage: the [`UploadStorage`] trait (async, object-safe) with
//!   [`TempFileStorage`] (the default) and [`MemoryStorage`]; [`UploadTarget`] and
//!   [`EntryWriter`], which open a storage for one entry and enforce its byte limits;
//!   [`Stored`], what a finished upload is when the application consumes it.
//! * External uploads: a [`Presigner`] tells the client, per entry, which of its
//!   uploaders sends the file where ([`ExternalUpload`]), e.g. a presigned object-storage
//!   URL; the server only follows the client's `progress`.
//! * [`render`]: the attributes of the live file input.
//! * [`wire`]: serde types of `allow_upload` and `progress`.
//!
//! # Example: one upload from selection to consumption
//!
//! ```
//! use bytes::Bytes;
//! use liveview_upload::{ClientEntry, EntryTokens, UploadConfig, UploadOptions,
//!                       UploadTokenPayload, PreflightReply, ChunkStatus};
//!
//! // The caller owns the secret; this toy signer is for illustration only.
//! struct Plain;
//! impl EntryTokens for Plain {
//!     fn sign(&self, p: &[u8]) -> String { String::from_utf8(p.to_vec()).unwrap() }
//!     fn verify(&self, t: &str) -> Option<Vec<u8>> { Some(t.as_bytes().to_vec()) }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut avatar = UploadConfig::new("avatar", UploadOptions::new().accept([".txt"]))?;
//!
//! // 1. form change event with `uploads: {<ref>: [entry]}`
//! let selected = [ClientEntry::new("0", "a.txt", "text/plain", 5)];
//! avatar.put_entries(&selected);
//! assert_eq!(avatar.active_refs(), ["0"]);
//!
//! // 2. allow_upload
//! let PreflightReply::Ok(reply) = avatar.preflight(&selected, &Plain, "phx-view", None).await else {
//!     unreachable!()
//! };
//! let token = reply.entries["0"].token().unwrap();
//!
//! // 3. join lvu:0 with the token, then binary chunks into the storage (temporary files
//! //    by default)
//! let claims = UploadTokenPayload::verify_for(&Plain, token, "phx-view", "0")?;
//! assert_eq!(claims.config_ref, avatar.upload_ref());
//! let target = avatar.register_upload("0", None)?;
//! let mut writer = target.open().await?;
//! writer.write_chunk(Bytes::from_static(b"hel")).await?;
//! assert_eq!(writer.write_chunk(Bytes::from_static(b"lo")).await?, ChunkStatus::Complete);
//! avatar.attach("0", writer.finish().await?)?;
//!
//! // 4. progress messages on the lv: channel
//! avatar.update_progress("0", 100)?;
//! assert_eq!(avatar.done_refs(), ["0"]);
//!
//! // 5. the app consumes the entry (the temp file is deleted afterwards)
//! let contents = avatar.consume(|stored, entry| {
//!     (entry.client_name.clone(), stored.into_file().unwrap().read().unwrap())
//! });
//! assert_eq!(contents, [("a.txt".to_string(), b"hello".to_vec())]);
//! assert!(avatar.entries().is_empty());
//! # Ok::<(), liveview_upload::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Features
//!
//! None: everything is always available. [`TempFileStorage`] runs its filesystem calls on
//! tokio's blocking pool, so storing needs a tokio runtime.

mod config;
mod entry;
mod error;
mod external;
mod id;
mod options;
pub mod render;
mod storage;
mod token;
pub mod wire;
mod writer;

pub use config::{UploadConfig, EXTRA_ENTRIES};
pub use entry::{ClientEntry, UploadEntry};
pub use error::{EntryError, Error, ErrorReply, Result, UploadError};
pub use external::{ExternalUpload, Presigner};
pub use options::{
    MaxEntriesMode, UploadOptions, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_TIMEOUT_MS,
    DEFAULT_MAX_ENTRIES, DEFAULT_MAX_FILE_SIZE,
};
pub use render::{
    live_file_input, live_file_input_attrs, live_file_input_with, live_img_preview_attrs,
};
pub use storage::{
    BoxFuture, MemoryStorage, StorageWriter, Stored, TempFileStorage, UploadStorage, UploadedFile,
};
pub use token::{EntryTokens, UploadToken, UploadTokenPayload};
pub use wire::{
    AllowUploadRequest, ClientConfig, PreflightEntry, PreflightError, PreflightOk, PreflightReply,
    ProgressRequest, ProgressUpdate,
};
pub use writer::{ChunkStatus, EntryWriter, UploadTarget};
