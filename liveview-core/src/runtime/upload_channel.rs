//! `lvu:` upload channels: a verified join registers an entry's writer with its view, chunks
//! are written on the connection, and the finished file is handed to the view.
//!
//! Bounds: a socket holds at most [`Config::max_upload_channels`](crate::Config) channels (each
//! owns at most one open temporary file); a cancelled entry's file is closed and deleted at
//! once (its view drops the writer through the shared [`UploadSlot`]); an entry that receives
//! no chunk for its config's `chunk_timeout` is stopped the same way and marked
//! [`EntryError::ChunkTimeout`](liveview_upload::EntryError::ChunkTimeout).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use liveview_upload::{ChunkStatus, EntryWriter, UploadError, UploadTokenPayload, UploadedFile};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::connection::Connection;
use super::message::{ChannelMsg, Mailbox};
use super::transport::{send_text, Transport};
use crate::protocol::payload::error_value_reply;
use crate::protocol::{ChannelRef, Payload};
use crate::token::UploadTokens;
use crate::untrusted::Untrusted;

/// One entry's writer, shared by its `lvu:` channel (which writes the chunks) and its view
/// (which may cancel the entry): cancelling drops the writer at once, which closes and deletes
/// its temporary file.
pub(crate) struct UploadSlot {
    writer: Mutex<Option<EntryWriter>>,
    cancelled: AtomicBool,
    last_chunk: Mutex<Instant>,
    chunk_timeout: Duration,
}

impl UploadSlot {
    pub(crate) fn new(writer: EntryWriter, chunk_timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            writer: Mutex::new(Some(writer)),
            cancelled: AtomicBool::new(false),
            last_chunk: Mutex::new(Instant::now()),
            chunk_timeout,
        })
    }

    /// Stops the upload: later chunks are refused, the partial file is deleted now.
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        let writer = self.lock_writer().take();
        drop(writer);
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Whether the writer is gone: the upload completed or was cancelled.
    fn is_finished(&self) -> bool {
        self.lock_writer().is_none()
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, Option<EntryWriter>> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn last_chunk(&self) -> Instant {
        *self
            .last_chunk
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes one chunk; returns the finished file once the entry is complete.
    fn write_chunk(
        &self,
        entry_ref: &str,
        bytes: &[u8],
    ) -> Result<Option<UploadedFile>, UploadError> {
        if self.is_cancelled() {
            return Err(UploadError::Disallowed(entry_ref.to_owned()));
        }
        *self
            .last_chunk
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        let mut slot = self.lock_writer();
        let writer = slot
            .as_mut()
            .ok_or_else(|| UploadError::AlreadyRegistered(entry_ref.to_owned()))?;
        match writer.write_chunk(bytes) {
            Ok(ChunkStatus::Incomplete { .. }) => Ok(None),
            Ok(ChunkStatus::Complete) => {
                let writer = slot.take().expect("the writer was just used");
                writer.finish().map(Some)
            }
            Err(error) => {
                // A refused chunk ends the upload: its partial file goes now.
                slot.take();
                Err(error)
            }
        }
    }
}

/// What a view answers to an upload channel's registration.
pub(crate) type Registration = Result<Arc<UploadSlot>, UploadError>;

/// An `lvu:` channel on a connection.
pub(crate) struct UploadChannel {
    join_ref: String,
    slot: Arc<UploadSlot>,
    view: Mailbox,
    config_ref: String,
    entry_ref: String,
    watchdog: AbortHandle,
}

impl Drop for UploadChannel {
    fn drop(&mut self) {
        self.watchdog.abort();
        // A channel that goes away (left, refused, or its socket closed) takes its partial file.
        let writer = self.slot.lock_writer().take();
        drop(writer);
    }
}

impl Connection {
    /// Handles a frame on an `lvu:` topic: the join, chunks, the leave.
    pub(super) async fn upload(
        &mut self,
        join_ref: Option<String>,
        msg_ref: Option<String>,
        topic: String,
        event: String,
        payload: Payload,
    ) {
        let msg_ref = msg_ref.as_deref();
        match (event.as_str(), payload) {
            ("phx_join", Payload::Json(payload)) => {
                let join_ref = join_ref
                    .as_deref()
                    .or(msg_ref)
                    .unwrap_or_default()
                    .to_owned();
                let channel = ChannelRef::new(Some(&join_ref), &topic);
                let reply = match self.register_upload(&topic, &join_ref, &payload).await {
                    Ok(upload) => {
                        self.uploads.insert(topic.clone(), upload);
                        channel.ok(msg_ref)
                    }
                    Err(error) => {
                        tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), error = %Untrusted(&error.to_string()), "upload join refused");
                        error_value_reply(channel, msg_ref, &error.reply())
                    }
                };
                self.send(reply).await;
            }
            ("chunk", Payload::Binary(bytes)) => {
                let Some(upload) = self.uploads.get(&topic) else {
                    let reply = ChannelRef::new(join_ref.as_deref(), &topic)
                        .error(msg_ref, "unmatched topic");
                    return self.send(reply).await;
                };
                let join_ref = upload.join_ref.clone();
                let channel = ChannelRef::new(Some(&join_ref), &topic);
                match upload.slot.write_chunk(&upload.entry_ref, &bytes) {
                    Ok(file) => {
                        if let Some(file) = file {
                            let done = ChannelMsg::UploadDone {
                                config_ref: upload.config_ref.clone(),
                                entry_ref: upload.entry_ref.clone(),
                                file,
                            };
                            let view = upload.view.clone();
                            // Handled before the chunk reply, so the view has the file before
                            // the client's final `progress` event arrives.
                            let _ = view.deliver(done).await;
                        }
                        self.send(channel.ok(msg_ref)).await;
                    }
                    Err(error) => {
                        tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), error = %Untrusted(&error.to_string()), "upload chunk refused");
                        let reply = error_value_reply(channel, msg_ref, &error.reply());
                        self.uploads.remove(&topic);
                        self.send(reply).await;
                    }
                }
            }
            ("phx_leave", _) => {
                self.uploads.remove(&topic);
                self.send(ChannelRef::new(join_ref.as_deref(), &topic).ok(msg_ref))
                    .await;
            }
            _ => {
                let reply =
                    ChannelRef::new(join_ref.as_deref(), &topic).error(msg_ref, "unknown event");
                self.send(reply).await;
            }
        }
    }

    async fn register_upload(
        &mut self,
        topic: &str,
        join_ref: &str,
        payload: &RawValue,
    ) -> Result<UploadChannel, UploadError> {
        #[derive(Deserialize)]
        struct UploadJoin {
            token: String,
        }
        let entry_ref = &topic["lvu:".len()..];
        let join: UploadJoin =
            serde_json::from_str(payload.get()).map_err(|_| UploadError::InvalidToken)?;
        let tokens = UploadTokens(&self.shared.signer);
        let claims = UploadTokenPayload::verify(&tokens, &join.token)?;
        if claims.entry_ref != entry_ref {
            return Err(UploadError::InvalidToken);
        }
        // Channels whose upload was cancelled or timed out hold no file: forget them first.
        self.uploads
            .retain(|_, channel| !channel.slot.is_cancelled());
        if let Some(old) = self.uploads.remove(topic) {
            old.slot.cancel();
        }
        let limit = self.shared.config.max_upload_channels;
        if self.uploads.len() >= limit {
            return Err(UploadError::TooManyUploads(limit));
        }
        let view = self
            .channels
            .get(&format!("lv:{}", claims.view_id))
            .ok_or(UploadError::InvalidToken)?
            .tx
            .clone();
        let (reply, answer) = oneshot::channel();
        view.deliver(ChannelMsg::RegisterUpload {
            config_ref: claims.config_ref.clone(),
            entry_ref: claims.entry_ref.clone(),
            reply,
        })
        .await
        .map_err(|_| UploadError::InvalidToken)?;
        let slot = answer.await.map_err(|_| UploadError::InvalidToken)??;
        let watchdog = tokio::spawn(chunk_watchdog(Watchdog {
            slot: slot.clone(),
            view: view.clone(),
            out: self.out.clone(),
            join_ref: join_ref.to_owned(),
            topic: topic.to_owned(),
            config_ref: claims.config_ref.clone(),
            entry_ref: claims.entry_ref.clone(),
        }))
        .abort_handle();
        Ok(UploadChannel {
            join_ref: join_ref.to_owned(),
            slot,
            view,
            config_ref: claims.config_ref,
            entry_ref: claims.entry_ref,
            watchdog,
        })
    }
}

/// What the chunk watchdog of one channel needs.
struct Watchdog {
    slot: Arc<UploadSlot>,
    view: Mailbox,
    out: Arc<dyn Transport>,
    join_ref: String,
    topic: String,
    config_ref: String,
    entry_ref: String,
}

/// Stops an upload that received no chunk for its `chunk_timeout`: deletes the partial file,
/// tells the view (which marks the entry), and closes the channel (`phx_close`, as Phoenix's
/// upload channel does when it times out).
async fn chunk_watchdog(watchdog: Watchdog) {
    let Watchdog {
        slot,
        view,
        out,
        join_ref,
        topic,
        config_ref,
        entry_ref,
    } = watchdog;
    loop {
        tokio::time::sleep_until(slot.last_chunk() + slot.chunk_timeout).await;
        if slot.is_finished() {
            return;
        }
        if slot.last_chunk().elapsed() >= slot.chunk_timeout {
            break;
        }
    }
    tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), timeout = ?slot.chunk_timeout, "upload stalled: no chunk within chunk_timeout");
    slot.cancel();
    let _ = view
        .deliver(ChannelMsg::UploadTimedOut {
            config_ref,
            entry_ref,
        })
        .await;
    send_text(&*out, ChannelRef::new(Some(&join_ref), &topic).closed()).await;
}
