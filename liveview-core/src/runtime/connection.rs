//! [`Connection`]: the server side of one client socket, and the only place client frames are
//! dispatched. It answers what it can itself (heartbeats, unknown topics and events, refused
//! joins) and hands each view's messages, classified, to that view's task.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use bytes::Bytes;

use super::cell::{run, Refused};
use super::join::{self, Refusal};
use super::message::{ChannelMsg, ClientKind, Mailbox, Queued};
use super::rate::TokenBucket;
use super::shared::{Join, Shared};
use super::transport::{send_text, Outbound, Transport};
use super::upload_channel::UploadChannels;
use crate::hooks::ConnectInfo;
use crate::protocol::{ChannelRef, Frame, FrameError, Payload};
use crate::telemetry::Alive;
use crate::untrusted::Untrusted;
use crate::view::Session;

/// Why a connection must be closed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The client sent a frame that is not the Phoenix V2 protocol.
    #[error("protocol violation")]
    Protocol(#[from] FrameError),
    /// The client sent more messages than `Config::max_messages_per_second` allows.
    #[error("message rate limit exceeded")]
    RateLimited,
}

/// The server side of one client socket, independent of the transport.
///
/// Feed it every frame the client sends ([`Connection::handle_text`],
/// [`Connection::handle_binary`]); its frames go to the [`Transport`] it was created with
/// ([`Endpoint::connect_with`](crate::Endpoint::connect_with)). Dropping the connection shuts
/// its views down.
pub struct Connection {
    pub(super) shared: Arc<Shared>,
    pub(super) channels: HashMap<String, Channel>,
    pub(super) uploads: UploadChannels,
    pub(super) out: Arc<dyn Transport>,
    rate: TokenBucket,
    /// Bytes of client payloads waiting in (or being handled from) this socket's mailboxes.
    queued: Arc<AtomicUsize>,
    /// What the transport knows about the client (for `Socket::connect_info`).
    connect_info: Option<Arc<ConnectInfo>>,
    /// Counts the socket in `liveview_sockets` while it lives.
    _alive: Alive,
}

/// A joined view, as the connection knows it.
pub(super) struct Channel {
    pub(super) join_ref: String,
    pub(super) tx: Mailbox,
}

impl Connection {
    /// Sets what the transport knows about this client (peer address, user agent, …): the
    /// views it joins see it in [`Socket::connect_info`](crate::Socket::connect_info)
    /// (Phoenix: `connect_info`). Call it before the first frame.
    ///
    /// ```
    /// # use liveview_core::{ConnectInfo, Endpoint, Router};
    /// let endpoint = Endpoint::builder(Router::new()).random_secret_key().build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (mut connection, _frames) = endpoint.connect();
    /// connection.set_connect_info(ConnectInfo { user_agent: Some("test".into()), ..Default::default() });
    /// # });
    /// ```
    pub fn set_connect_info(&mut self, info: ConnectInfo) {
        self.connect_info = Some(Arc::new(info));
    }

    pub(crate) fn new(shared: Arc<Shared>, transport: Arc<dyn Transport>) -> Self {
        let rate = TokenBucket::new(
            shared.config.max_messages_per_second,
            shared.config.message_burst,
        );
        Self {
            uploads: UploadChannels::new(shared.config.max_queued_bytes),
            shared,
            channels: HashMap::new(),
            rate,
            out: transport,
            queued: Arc::new(AtomicUsize::new(0)),
            connect_info: None,
            _alive: Alive::new(crate::telemetry::SOCKETS),
        }
    }

    /// Handles one text frame from the client. An `Err` means the socket must be closed.
    pub async fn handle_text(&mut self, text: &str) -> Result<(), ConnectionError> {
        if !self.rate.take() {
            crate::telemetry::refused("rate limited");
            return Err(ConnectionError::RateLimited);
        }
        let frame =
            Frame::decode_text(text).inspect_err(|_| crate::telemetry::refused("protocol"))?;
        self.dispatch(frame).await;
        Ok(())
    }

    /// Handles one binary frame from the client. An `Err` means the socket must be closed.
    pub async fn handle_binary(&mut self, data: Bytes) -> Result<(), ConnectionError> {
        if !self.rate.take() {
            crate::telemetry::refused("rate limited");
            return Err(ConnectionError::RateLimited);
        }
        let frame =
            Frame::decode_binary(data).inspect_err(|_| crate::telemetry::refused("protocol"))?;
        self.dispatch(frame).await;
        Ok(())
    }

    /// The number of joined views.
    pub fn views(&self) -> usize {
        self.channels.len()
    }

    /// The test toolkit's handle on the view joined on `topic`.
    #[cfg(feature = "testing")]
    pub(crate) fn test_handle(&self, topic: &str) -> Option<&super::cell::TestHandle> {
        self.channels.get(topic)?.tx.test_handle.get()
    }

    /// Asks the transport to close the socket (after the frames already queued).
    pub async fn close(&mut self, code: u16, reason: &str) {
        let _ = self
            .out
            .send(Outbound::Close {
                code,
                reason: reason.to_owned(),
            })
            .await;
    }

    pub(super) async fn send(&self, frame: String) {
        send_text(&*self.out, frame).await;
    }

    async fn dispatch(&mut self, frame: Frame) {
        let Frame {
            join_ref,
            msg_ref,
            topic,
            event,
            payload,
        } = frame;
        tracing::trace!(topic = %Untrusted(&topic), event = %Untrusted(&event), "frame");
        if topic.starts_with("lvu:") {
            return self.upload(join_ref, msg_ref, topic, event, payload).await;
        }
        let msg_ref = msg_ref.as_deref();
        let payload = match payload {
            Payload::Json(payload) => payload,
            // Upload chunks go to `lvu:` channels; there are none without uploads.
            Payload::Binary(_) => {
                let reply =
                    ChannelRef::new(join_ref.as_deref(), &topic).error(msg_ref, "unmatched topic");
                return self.send(reply).await;
            }
        };
        if topic == "phoenix" {
            let phoenix = ChannelRef::new(None, "phoenix");
            let reply = if event == "heartbeat" {
                phoenix.ok(msg_ref)
            } else {
                phoenix.error(msg_ref, "unknown event")
            };
            return self.send(reply).await;
        }
        if event == "phx_join" {
            let join_ref = join_ref
                .as_deref()
                .or(msg_ref)
                .unwrap_or_default()
                .to_owned();
            return self
                .join(join_ref, msg_ref.map(str::to_owned), topic, payload.get())
                .await;
        }
        let Some(channel) = self.channels.get(&topic) else {
            let unjoined = ChannelRef::new(join_ref.as_deref(), &topic);
            let reply = if event == "phx_leave" {
                unjoined.ok(msg_ref)
            } else {
                unjoined.error(msg_ref, "unmatched topic")
            };
            return self.send(reply).await;
        };
        if join_ref
            .as_deref()
            .is_some_and(|join_ref| join_ref != channel.join_ref)
        {
            tracing::debug!(topic = %Untrusted(&topic), "dropping a message for an outdated join");
            return;
        }
        let joined = ChannelRef::new(Some(&channel.join_ref), &topic);
        let msg = if event == "phx_leave" {
            ChannelMsg::Leave {
                msg_ref: msg_ref.map(str::to_owned),
            }
        } else {
            let Some(kind) = ClientKind::of(&event) else {
                tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), event = %Untrusted(&event), "unknown channel event");
                return self
                    .send(joined.refused(msg_ref, "unknown event", Some(&event), None))
                    .await;
            };
            // The bytes of messages waiting in this socket's mailboxes are bounded together.
            let budget = self.shared.config.max_queued_bytes;
            let Some(payload) = Queued::charge(payload, &self.queued, budget) else {
                tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), "queued messages over the socket's byte budget: message refused");
                return self.send(overloaded(joined, msg_ref, Some(kind))).await;
            };
            ChannelMsg::Client {
                kind,
                msg_ref: msg_ref.map(str::to_owned),
                payload,
            }
        };
        let cell = channel.tx.clone();
        let refused = match cell.deliver(msg).await {
            Ok(()) => return,
            Err(Refused::Full(msg)) => {
                // The view is not keeping up: refuse this message, keep the connection.
                tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), "view mailbox full: message refused");
                let join_ref = self.channels.get(&topic).map(|c| c.join_ref.clone());
                let channel = ChannelRef::new(join_ref.as_deref(), &topic);
                let kind = match &msg {
                    ChannelMsg::Client { kind, .. } => Some(*kind),
                    _ => None,
                };
                return self.send(overloaded(channel, msg.msg_ref(), kind)).await;
            }
            Err(Refused::Ended(msg)) => msg,
        };
        // The view ended (crashed, redirected): forget it, and answer for it.
        let Some(channel) = self.channels.remove(&topic) else {
            return;
        };
        let joined = ChannelRef::new(Some(&channel.join_ref), &topic);
        let reply = match &refused {
            ChannelMsg::Leave { msg_ref } => joined.ok(msg_ref.as_deref()),
            msg => joined.error(msg.msg_ref(), "unmatched topic"),
        };
        self.send(reply).await;
    }

    async fn join(
        &mut self,
        join_ref: String,
        msg_ref: Option<String>,
        topic: String,
        payload: &str,
    ) {
        let channel = ChannelRef::new(Some(&join_ref), &topic);
        let Some(id) = topic.strip_prefix("lv:") else {
            return self
                .send(channel.error(msg_ref.as_deref(), "unmatched topic"))
                .await;
        };
        self.channels.retain(|_, channel| !channel.tx.is_ended());
        if !self.channels.contains_key(&topic)
            && self.channels.len() >= self.shared.config.max_joins
        {
            tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), "too many views joined on one socket");
            let reply = channel.error(msg_ref.as_deref(), "too many channels joined");
            return self.send(reply).await;
        }
        let shared = self.shared.clone();
        let verified = match join::verify(&shared, id, payload) {
            Ok(verified) => verified,
            Err(refusal) => {
                log_refusal(&topic, &refusal);
                return self
                    .send(channel.error(msg_ref.as_deref(), refusal.reason()))
                    .await;
            }
        };
        // A child joins under its parent, which must be joined on this socket.
        let parent = match &verified.nested {
            Some(Some(parent_id)) => {
                let parent = self
                    .channels
                    .get(&format!("lv:{parent_id}"))
                    .filter(|parent| !parent.tx.is_ended())
                    .map(|parent| parent.tx.clone());
                if parent.is_none() {
                    let refusal = Refusal::NoParent;
                    log_refusal(&topic, &refusal);
                    return self
                        .send(channel.error(msg_ref.as_deref(), refusal.reason()))
                        .await;
                }
                parent
            }
            _ => None,
        };
        if let Some(old) = self.channels.remove(&topic) {
            old.tx.shut_down();
        }
        let tx = verified.view.join(Join {
            shared: self.shared.clone(),
            topic: topic.as_str().into(),
            join_ref: join_ref.as_str().into(),
            msg_ref,
            id: id.into(),
            route: verified.route.to_owned(),
            url: verified.url,
            params: verified.params,
            session: Session(verified.claims.session),
            csrf: verified.claims.csrf,
            flash: verified.flash,
            out: self.out.clone(),
            live_session: verified.live_session.clone(),
            action: verified.action.cloned(),
            connect_params: Arc::new(verified.connect_params),
            connect_info: self.connect_info.clone(),
            nested: verified.nested.is_some(),
        });
        if let Some(parent) = parent {
            // The child ends with its parent.
            parent.adopt(&tx);
        }
        self.channels.insert(
            topic,
            Channel {
                join_ref,
                tx: tx.clone(),
            },
        );
        // Mounts and answers the join (here, unless mount has to wait).
        run(&tx).await;
    }
}

fn log_refusal(topic: &str, refusal: &Refusal) {
    tracing::warn!(
        target: "liveview::rejection",
        topic = %Untrusted(topic),
        refusal = %Untrusted(&refusal.to_string()),
        "join refused"
    );
}

impl Drop for Connection {
    fn drop(&mut self) {
        for channel in self.channels.values() {
            channel.tx.shut_down();
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("channels", &self.channels.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The `overloaded` answer to a message of `kind`: an event or a patch is refused with an ok
/// reply (the client unlocks its element, see `ChannelRef::refused`); the other kinds keep
/// the error reply their client code expects (an ok preflight reply without `entries`
/// would throw in the client).
fn overloaded(channel: ChannelRef<'_>, msg_ref: Option<&str>, kind: Option<ClientKind>) -> String {
    match kind {
        Some(ClientKind::Event | ClientKind::LivePatch) | None => {
            channel.refused(msg_ref, "overloaded", None, None)
        }
        Some(_) => channel.error(msg_ref, "overloaded"),
    }
}
