//! `lvu:` upload channels. A verified join starts one task per channel (Phoenix: one
//! `UploadChannel` process per entry): the task registers the entry with its view, opens the
//! entry's storage, answers the join, then stores the chunks the connection hands it, answers
//! each, and gives the finished upload to the view. No storage call runs on the socket's read
//! task; a view's turn only awaits the storage's abort when it cancels an entry.
//!
//! Bounds: a socket holds at most [`Config::max_upload_channels`](crate::Config) channels
//! (each with at most one open storage writer, e.g. one temporary file); chunks read from a
//! socket and not yet stored hold at most [`Config::max_queued_bytes`](crate::Config) for all
//! its channels together (past it the read task waits for the storage, so a client that
//! outruns it slows down its own socket only); a cancelled entry's data is dropped before the
//! view answers the cancelling event (the view awaits the storage's abort through the shared
//! [`UploadSlot`]); an entry that receives no chunk for its config's `chunk_timeout` after
//! the previous one was stored is stopped the same way and marked
//! [`EntryError::ChunkTimeout`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use liveview_upload::{
    ChunkStatus, EntryError, EntryWriter, Stored, UploadError, UploadTarget, UploadTokenPayload,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot, Mutex, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::cell::Refused;
use super::connection::Connection;
use super::message::{ChannelMsg, Mailbox};
use super::transport::{send_text, Transport};
use crate::protocol::payload::error_value_reply;
use crate::protocol::{ChannelRef, Payload};
use crate::token::UploadTokens;
use crate::untrusted::Untrusted;

/// One entry's upload, shared by its channel's task (which opens the storage and writes the
/// chunks) and its view (which may cancel the entry).
pub(crate) struct UploadSlot {
    target: UploadTarget,
    writer: Mutex<SlotState>,
    cancelled: AtomicBool,
    /// Wakes the channel's task when the view cancels the entry.
    stop: Notify,
}

enum SlotState {
    /// Registered; the channel's task has not opened the storage yet.
    Unopened,
    Open(EntryWriter),
    /// Finished, failed, cancelled or timed out: the storage writer is gone.
    Closed,
}

impl UploadSlot {
    pub(crate) fn new(target: UploadTarget) -> Arc<Self> {
        Arc::new(Self {
            target,
            writer: Mutex::new(SlotState::Unopened),
            cancelled: AtomicBool::new(false),
            stop: Notify::new(),
        })
    }

    /// Stops the upload and returns once the storage has dropped what it received (waiting
    /// for a write in flight to end first).
    pub(crate) async fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.stop.notify_one();
        self.close().await;
    }

    /// [`cancel`](Self::cancel) on a task of its own, for a view that is ending.
    pub(crate) fn cancel_soon(self: Arc<Self>) {
        tokio::spawn(async move { self.cancel().await });
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Aborts the storage writer, if it is open.
    async fn close(&self) {
        let state = std::mem::replace(&mut *self.writer.lock().await, SlotState::Closed);
        if let SlotState::Open(writer) = state {
            writer.abort().await;
        }
    }

    async fn open(&self) -> Result<(), UploadError> {
        let mut state = self.writer.lock().await;
        if self.is_cancelled() || !matches!(*state, SlotState::Unopened) {
            return Err(self.disallowed());
        }
        *state = SlotState::Open(self.target.open().await?);
        Ok(())
    }

    /// Stores one chunk; returns the finished upload once the entry is complete. Any error
    /// ends the upload (the storage has already dropped its partial data).
    async fn write(&self, chunk: Bytes) -> Result<Option<Stored>, UploadError> {
        let mut state = self.writer.lock().await;
        if self.is_cancelled() {
            return Err(self.disallowed());
        }
        let SlotState::Open(writer) = &mut *state else {
            return Err(self.disallowed());
        };
        match writer.write_chunk(chunk).await {
            Ok(ChunkStatus::Incomplete { .. }) => Ok(None),
            Ok(ChunkStatus::Complete) => {
                let SlotState::Open(writer) = std::mem::replace(&mut *state, SlotState::Closed)
                else {
                    unreachable!("the writer was just used");
                };
                writer.finish().await.map(Some)
            }
            Err(error) => {
                *state = SlotState::Closed;
                Err(error)
            }
        }
    }

    fn chunk_timeout(&self) -> Duration {
        self.target.chunk_timeout()
    }

    fn disallowed(&self) -> UploadError {
        UploadError::Disallowed(self.target.entry().entry_ref.clone())
    }
}

/// What a view answers to an upload channel's registration.
pub(crate) type Registration = Result<Arc<UploadSlot>, UploadError>;

/// A connection's `lvu:` channels and the budget of the chunks on their way to storage.
pub(super) struct UploadChannels {
    channels: HashMap<String, UploadChannel>,
    /// One permit per byte of chunk read from the socket and not yet stored; made with the
    /// first chunk (a socket without uploads holds nothing).
    budget: Option<Arc<Semaphore>>,
    budget_bytes: u32,
}

impl UploadChannels {
    /// Channels whose chunks in flight hold at most `budget_bytes` together.
    pub(super) fn new(budget_bytes: usize) -> Self {
        Self {
            channels: HashMap::new(),
            budget: None,
            budget_bytes: u32::try_from(budget_bytes.max(1)).unwrap_or(u32::MAX),
        }
    }

    /// Waits until `bytes` more fit in the budget (a chunk larger than the whole budget
    /// waits for all of it).
    async fn reserve(&mut self, bytes: usize) -> OwnedSemaphorePermit {
        let limit = self.budget_bytes;
        let budget = self
            .budget
            .get_or_insert_with(|| Arc::new(Semaphore::new(limit as usize)))
            .clone();
        let permits = u32::try_from(bytes).unwrap_or(u32::MAX).min(limit);
        let Ok(permit) = budget.acquire_many_owned(permits).await else {
            unreachable!("the budget semaphore is never closed");
        };
        permit
    }
}

/// An `lvu:` channel on a connection: where its chunks go.
struct UploadChannel {
    join_ref: String,
    /// The channel's task; closed once the upload ended. Dropping it ends the task, which
    /// aborts an unfinished upload.
    chunks: mpsc::Sender<Chunk>,
}

/// A chunk on its way to storage, with its share of the socket's budget.
struct Chunk {
    msg_ref: Option<String>,
    bytes: Bytes,
    budget: OwnedSemaphorePermit,
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
        match (event.as_str(), payload) {
            ("phx_join", Payload::Json(payload)) => {
                let join_ref = join_ref.or_else(|| msg_ref.clone()).unwrap_or_default();
                // On success the channel's task answers the join, once the storage is open.
                if let Err(error) = self.join_upload(&topic, &join_ref, &msg_ref, &payload) {
                    tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), error = %Untrusted(&error.to_string()), "upload join refused");
                    let channel = ChannelRef::new(Some(&join_ref), &topic);
                    crate::telemetry::refused(error.reason());
                    let reply = error_value_reply(channel, msg_ref.as_deref(), &error.reply());
                    self.send(reply).await;
                }
            }
            ("chunk", Payload::Binary(bytes)) => {
                let Some(channel) = self.uploads.channels.get(&topic) else {
                    let reply = ChannelRef::new(join_ref.as_deref(), &topic)
                        .error(msg_ref.as_deref(), "unmatched topic");
                    return self.send(reply).await;
                };
                let (chunks, channel_join_ref) = (channel.chunks.clone(), channel.join_ref.clone());
                // Waits while the socket's chunks in flight fill the budget.
                let budget = self.uploads.reserve(bytes.len()).await;
                let chunk = Chunk {
                    msg_ref,
                    bytes,
                    budget,
                };
                if let Err(mpsc::error::SendError(chunk)) = chunks.send(chunk).await {
                    // The upload ended (refused, stalled, cancelled or complete).
                    tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), "chunk for an ended upload");
                    self.uploads.channels.remove(&topic);
                    let error = UploadError::Disallowed(topic["lvu:".len()..].to_owned());
                    let channel = ChannelRef::new(Some(&channel_join_ref), &topic);
                    crate::telemetry::refused(error.reason());
                    let reply =
                        error_value_reply(channel, chunk.msg_ref.as_deref(), &error.reply());
                    self.send(reply).await;
                }
            }
            ("phx_leave", _) => {
                self.uploads.channels.remove(&topic);
                self.send(ChannelRef::new(join_ref.as_deref(), &topic).ok(msg_ref.as_deref()))
                    .await;
            }
            _ => {
                let reply = ChannelRef::new(join_ref.as_deref(), &topic)
                    .error(msg_ref.as_deref(), "unknown event");
                self.send(reply).await;
            }
        }
    }

    /// Verifies an `lvu:` join and starts the channel's task.
    fn join_upload(
        &mut self,
        topic: &str,
        join_ref: &str,
        msg_ref: &Option<String>,
        payload: &RawValue,
    ) -> Result<(), UploadError> {
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
        let uploads = &mut self.uploads.channels;
        // Channels whose upload ended hold nothing: forget them first. A second join of the
        // same topic replaces the first (whose task then aborts its upload).
        uploads.retain(|_, channel| !channel.chunks.is_closed());
        uploads.remove(topic);
        let limit = self.shared.config.max_upload_channels;
        if uploads.len() >= limit {
            return Err(UploadError::TooManyUploads(limit));
        }
        let view = self
            .channels
            .get(&format!("lv:{}", claims.view_id))
            .ok_or(UploadError::InvalidToken)?
            .tx
            .clone();
        // One chunk waits while the previous one is stored: a client sends the next chunk
        // only once the previous one is answered.
        let (chunks, inbox) = mpsc::channel(1);
        let task = UploadTask {
            view,
            out: self.out.clone(),
            join_ref: join_ref.to_owned(),
            topic: topic.to_owned(),
            config_ref: claims.config_ref,
            entry_ref: claims.entry_ref,
        };
        tokio::spawn(task.run(msg_ref.clone(), inbox));
        uploads.insert(
            topic.to_owned(),
            UploadChannel {
                join_ref: join_ref.to_owned(),
                chunks,
            },
        );
        Ok(())
    }
}

/// The task of one `lvu:` channel.
struct UploadTask {
    view: Mailbox,
    out: Arc<dyn Transport>,
    join_ref: String,
    topic: String,
    config_ref: String,
    entry_ref: String,
}

impl UploadTask {
    async fn run(self, join_msg_ref: Option<String>, mut inbox: mpsc::Receiver<Chunk>) {
        let slot = match self.register().await {
            Ok(slot) => slot,
            Err(error) => return self.refuse(join_msg_ref.as_deref(), &error).await,
        };
        // The join is answered once the storage is open (Phoenix: the writer's `init`).
        if let Err(error) = slot.open().await {
            return self.fail(join_msg_ref.as_deref(), &error).await;
        }
        self.send(self.channel().ok(join_msg_ref.as_deref())).await;
        let mut deadline = Instant::now() + slot.chunk_timeout();
        loop {
            let chunk = tokio::select! {
                biased;
                // The view cancelled the entry (and aborted the storage writer).
                () = slot.stop.notified() => return,
                chunk = inbox.recv() => match chunk {
                    Some(chunk) => chunk,
                    // The channel left, was replaced, or its socket closed.
                    None => return slot.close().await,
                },
                () = tokio::time::sleep_until(deadline) => return self.stalled(&slot).await,
            };
            let Chunk {
                msg_ref,
                bytes,
                budget,
            } = chunk;
            let written = slot.write(bytes).await;
            drop(budget);
            match written {
                Ok(None) => {
                    self.send(self.channel().ok(msg_ref.as_deref())).await;
                    deadline = Instant::now() + slot.chunk_timeout();
                }
                Ok(Some(stored)) => {
                    let done = ChannelMsg::UploadDone {
                        config_ref: self.config_ref.clone(),
                        entry_ref: self.entry_ref.clone(),
                        stored,
                    };
                    // Handled before the chunk reply, so the view has the upload before the
                    // client's final `progress` event arrives.
                    self.tell(done).await;
                    self.send(self.channel().ok(msg_ref.as_deref())).await;
                    return;
                }
                Err(error) => return self.fail(msg_ref.as_deref(), &error).await,
            }
        }
    }

    /// Asks the view for the entry's upload.
    async fn register(&self) -> Registration {
        let (reply, answer) = oneshot::channel();
        let register = ChannelMsg::RegisterUpload {
            config_ref: self.config_ref.clone(),
            entry_ref: self.entry_ref.clone(),
            reply,
        };
        if !self.tell(register).await {
            return Err(UploadError::InvalidToken);
        }
        answer.await.map_err(|_| UploadError::InvalidToken)?
    }

    /// Ends the upload with an error reply to `msg_ref`; a storage failure also goes on the
    /// entry, which the client keeps until it is cancelled (its `writer_error` handling).
    async fn fail(&self, msg_ref: Option<&str>, error: &UploadError) {
        if let UploadError::Writer(cause) = error {
            tracing::warn!(topic = %Untrusted(&self.topic), error = %cause, "upload storage failed");
            self.tell_view(EntryError::WriterFailure).await;
        }
        self.refuse(msg_ref, error).await;
    }

    async fn refuse(&self, msg_ref: Option<&str>, error: &UploadError) {
        tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&self.topic), error = %Untrusted(&error.to_string()), "upload refused");
        crate::telemetry::refused(error.reason());
        self.send(error_value_reply(self.channel(), msg_ref, &error.reply()))
            .await;
    }

    /// No chunk within `chunk_timeout`: drops the partial data, tells the view (which marks
    /// the entry), and closes the channel (`phx_close`, as Phoenix's upload channel does when
    /// it times out).
    async fn stalled(&self, slot: &UploadSlot) {
        tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&self.topic), timeout = ?slot.chunk_timeout(), "upload stalled: no chunk within chunk_timeout");
        slot.cancelled.store(true, Ordering::Release);
        slot.close().await;
        self.tell_view(EntryError::ChunkTimeout).await;
        self.send(self.channel().closed()).await;
    }

    async fn tell_view(&self, error: EntryError) {
        let failed = ChannelMsg::UploadFailed {
            config_ref: self.config_ref.clone(),
            entry_ref: self.entry_ref.clone(),
            error,
        };
        self.tell(failed).await;
    }

    /// Hands the view a message (running its turn here, if nobody else holds the view). A
    /// full queue is waited out; `false` if the view ended.
    async fn tell(&self, mut msg: ChannelMsg) -> bool {
        loop {
            match self.view.deliver(msg).await {
                Ok(()) => return true,
                Err(Refused::Ended(_)) => return false,
                Err(Refused::Full(again)) => {
                    msg = again;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    fn channel(&self) -> ChannelRef<'_> {
        ChannelRef::new(Some(&self.join_ref), &self.topic)
    }

    async fn send(&self, frame: String) {
        send_text(&*self.out, frame).await;
    }
}
