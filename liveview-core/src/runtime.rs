//! The per-connection runtime: decoded frames in, encoded frames out; one task per joined view.
//!
//! A [`Connection`] owns the channels of one client socket. Joins are verified here (signed
//! session token, CSRF token, route); each joined view then runs in its own task with a FIFO
//! mailbox, so a slow or crashing view never blocks or breaks the others.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use liveview_diff::{wire, Rendered};
use liveview_upload::{AllowUploadRequest, EntryError, ProgressRequest, Stored, UploadError};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use crate::component::{parent_info, render_instance, ComponentScope, Registry};
use crate::endpoint::{Endpoint, SessionClaims};
use crate::event::ClientEvent;
use crate::json::write_json_str;
use crate::protocol::{
    encode_empty_reply, encode_error_reply, encode_phx_error, encode_push, encode_reply, Frame,
    FrameError, Payload, LIVEVIEW_VERSION,
};
use crate::socket::{Flash, InfoSender, Navigation, Socket};
use crate::token::{TokenError, UploadTokens};
use crate::untrusted::Untrusted;
use crate::view::{LiveView, Meta, Params, Session, Url, ViewResult};

mod upload_channel;

use upload_channel::{Registration, UploadChannels, UploadSlot};

/// A frame for the transport to write to the client socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A text frame.
    Text(String),
    /// Close the socket with this code and reason.
    Close {
        /// The WebSocket close code.
        code: u16,
        /// The reason.
        reason: String,
    },
}

/// Where a connection's frames go: implemented by transports (`liveview-hyper` writes them
/// straight to its WebSocket). View tasks call it directly, so a reply costs no extra task hop.
///
/// `send` must deliver frames in the order of its calls for one caller, may apply backpressure
/// by waiting, and fails once the socket is gone (later frames are dropped).
pub trait Transport: Send + Sync + 'static {
    /// Sends one frame.
    fn send(&self, frame: Outbound) -> TransportFuture<'_>;
}

/// The future returned by [`Transport::send`].
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), TransportClosed>> + Send + 'a>>;

/// The socket behind a [`Transport`] is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the transport is closed")]
pub struct TransportClosed;

/// A [`Transport`] into a bounded channel, for transports that write from a task of their own
/// (and for tests): see [`Endpoint::connect`].
#[derive(Debug, Clone)]
pub struct ChannelTransport(pub mpsc::Sender<Outbound>);

impl Transport for ChannelTransport {
    fn send(&self, frame: Outbound) -> TransportFuture<'_> {
        Box::pin(async move { self.0.send(frame).await.map_err(|_| TransportClosed) })
    }
}

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
/// [`Connection::handle_binary`]); write every [`Outbound`] from the receiver that
/// [`Endpoint::connect`] returned. Dropping the connection shuts its views down.
pub struct Connection {
    endpoint: Arc<Endpoint>,
    channels: HashMap<String, Channel>,
    uploads: UploadChannels,
    out: Arc<dyn Transport>,
    rate: TokenBucket,
    /// Bytes of client payloads waiting in (or being handled from) this socket's mailboxes.
    queued: Arc<AtomicUsize>,
}

/// A token bucket: `rate` tokens per second, at most `burst` stored.
struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: tokio::time::Instant,
}

impl TokenBucket {
    fn new(rate: u32, burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            rate: f64::from(rate),
            burst: f64::from(burst),
            last: tokio::time::Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct Channel {
    join_ref: String,
    tx: Mailbox,
}

/// A view task's mailbox (messages are boxed so that the channel's slots stay small).
pub(crate) type Mailbox = mpsc::Sender<Box<ChannelMsg>>;

/// A client message's payload on its way to a view, counted against the socket's budget of
/// queued bytes ([`Config::max_queued_bytes`](crate::Config)) until the view is done with it.
pub(crate) struct Queued {
    raw: Box<RawValue>,
    queued: Arc<AtomicUsize>,
}

impl Queued {
    /// Charges `raw` to `queued`, unless that would pass `budget`.
    fn charge(raw: Box<RawValue>, queued: &Arc<AtomicUsize>, budget: usize) -> Option<Self> {
        let size = raw.get().len();
        queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |total| {
                let total = total.checked_add(size)?;
                (total <= budget).then_some(total)
            })
            .ok()?;
        Some(Self {
            raw,
            queued: queued.clone(),
        })
    }

    fn get(&self) -> &str {
        self.raw.get()
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.queued
            .fetch_sub(self.raw.get().len(), Ordering::AcqRel);
    }
}

/// Messages from the connection to a view task.
pub(crate) enum ChannelMsg {
    Event {
        msg_ref: Option<String>,
        payload: Queued,
    },
    LivePatch {
        msg_ref: Option<String>,
        payload: Queued,
    },
    Leave {
        msg_ref: Option<String>,
    },
    Other {
        msg_ref: Option<String>,
        event: String,
        payload: Queued,
    },
    RegisterUpload {
        config_ref: String,
        entry_ref: String,
        reply: oneshot::Sender<Registration>,
    },
    UploadFailed {
        config_ref: String,
        entry_ref: String,
        error: EntryError,
    },
    UploadDone {
        config_ref: String,
        entry_ref: String,
        stored: Stored,
    },
    Shutdown,
}

#[derive(Deserialize)]
struct JoinPayload {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    redirect: Option<String>,
    #[serde(default)]
    params: Map<String, Value>,
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    flash: Option<String>,
}

impl Connection {
    pub(crate) fn new(endpoint: Arc<Endpoint>, transport: Arc<dyn Transport>) -> Self {
        let rate = TokenBucket::new(
            endpoint.config.max_messages_per_second,
            endpoint.config.message_burst,
        );
        Self {
            uploads: UploadChannels::new(endpoint.config.max_queued_bytes),
            endpoint,
            channels: HashMap::new(),
            rate,
            out: transport,
            queued: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Handles one text frame from the client. An `Err` means the socket must be closed.
    pub async fn handle_text(&mut self, text: &str) -> Result<(), ConnectionError> {
        if !self.rate.take() {
            return Err(ConnectionError::RateLimited);
        }
        let frame = Frame::decode_text(text)?;
        self.dispatch(frame).await;
        Ok(())
    }

    /// Handles one binary frame from the client. An `Err` means the socket must be closed.
    pub async fn handle_binary(&mut self, data: Bytes) -> Result<(), ConnectionError> {
        if !self.rate.take() {
            return Err(ConnectionError::RateLimited);
        }
        let frame = Frame::decode_binary(data)?;
        self.dispatch(frame).await;
        Ok(())
    }

    /// The number of joined views.
    pub fn views(&self) -> usize {
        self.channels.len()
    }

    async fn send(&self, frame: String) {
        // The receiver is gone only when the transport is closing.
        let _ = self.out.send(Outbound::Text(frame)).await;
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
        let payload = match payload {
            Payload::Json(payload) => payload,
            Payload::Binary(_) => {
                // Upload chunks go to `lvu:` channels; there are none without uploads.
                let reply = encode_error_reply(
                    join_ref.as_deref(),
                    msg_ref.as_deref(),
                    &topic,
                    "unmatched topic",
                );
                return self.send(reply).await;
            }
        };
        if topic == "phoenix" {
            let reply = if event == "heartbeat" {
                encode_empty_reply(None, msg_ref.as_deref(), "phoenix")
            } else {
                encode_error_reply(None, msg_ref.as_deref(), "phoenix", "unknown event")
            };
            return self.send(reply).await;
        }
        if event == "phx_join" {
            return self
                .join(
                    join_ref.or_else(|| msg_ref.clone()),
                    msg_ref,
                    topic,
                    &payload,
                )
                .await;
        }
        let Some(channel) = self.channels.get(&topic) else {
            let reply = if event == "phx_leave" {
                encode_empty_reply(join_ref.as_deref(), msg_ref.as_deref(), &topic)
            } else {
                encode_error_reply(
                    join_ref.as_deref(),
                    msg_ref.as_deref(),
                    &topic,
                    "unmatched topic",
                )
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
        // The bytes of messages waiting in this socket's mailboxes are bounded together.
        let Some(payload) =
            Queued::charge(payload, &self.queued, self.endpoint.config.max_queued_bytes)
        else {
            tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), "queued messages over the socket's byte budget: message refused");
            let join_ref = channel.join_ref.clone();
            let reply =
                encode_error_reply(Some(&join_ref), msg_ref.as_deref(), &topic, "overloaded");
            return self.send(reply).await;
        };
        let msg = match event.as_str() {
            "event" => ChannelMsg::Event { msg_ref, payload },
            "live_patch" => ChannelMsg::LivePatch { msg_ref, payload },
            "phx_leave" => ChannelMsg::Leave { msg_ref },
            _ => ChannelMsg::Other {
                msg_ref,
                event,
                payload,
            },
        };
        let msg = match channel.tx.try_send(Box::new(msg)) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(msg)) => {
                // The view is not keeping up: refuse this message, keep the connection.
                tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), "view mailbox full: message refused");
                let join_ref = channel.join_ref.clone();
                let reply =
                    encode_error_reply(Some(&join_ref), msg_ref_of(&msg), &topic, "overloaded");
                return self.send(reply).await;
            }
            Err(mpsc::error::TrySendError::Closed(msg)) => *msg,
        };
        {
            // The view ended (crashed, redirected): forget it.
            let join_ref = channel.join_ref.clone();
            self.channels.remove(&topic);
            let msg_ref = match msg {
                ChannelMsg::Event { msg_ref, .. }
                | ChannelMsg::LivePatch { msg_ref, .. }
                | ChannelMsg::Other { msg_ref, .. } => msg_ref,
                ChannelMsg::Leave { msg_ref } => {
                    let reply = encode_empty_reply(Some(&join_ref), msg_ref.as_deref(), &topic);
                    return self.send(reply).await;
                }
                ChannelMsg::Shutdown
                | ChannelMsg::RegisterUpload { .. }
                | ChannelMsg::UploadFailed { .. }
                | ChannelMsg::UploadDone { .. } => None,
            };
            let reply = encode_error_reply(
                Some(&join_ref),
                msg_ref.as_deref(),
                &topic,
                "unmatched topic",
            );
            self.send(reply).await;
        }
    }

    async fn join(
        &mut self,
        join_ref: Option<String>,
        msg_ref: Option<String>,
        topic: String,
        payload: &RawValue,
    ) {
        let join_ref = join_ref.unwrap_or_default();
        let refuse =
            |reason: &str| encode_error_reply(Some(&join_ref), msg_ref.as_deref(), &topic, reason);
        let Some(id) = topic.strip_prefix("lv:") else {
            return self.send(refuse("unmatched topic")).await;
        };
        self.channels.retain(|_, channel| !channel.tx.is_closed());
        if !self.channels.contains_key(&topic)
            && self.channels.len() >= self.endpoint.config.max_joins
        {
            tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), "too many views joined on one socket");
            return self.send(refuse("too many channels joined")).await;
        }
        let request: JoinPayload = match serde_json::from_str(payload.get()) {
            Ok(request) => request,
            Err(error) => {
                tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), error = %Untrusted(&error.to_string()), "malformed join");
                return self.send(refuse("stale")).await;
            }
        };
        let claims: SessionClaims = match request
            .session
            .as_deref()
            .ok_or(TokenError::Invalid)
            .and_then(|token| self.endpoint.signer.verify_json(token))
        {
            Ok(claims) => claims,
            Err(error) => {
                tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), error = %Untrusted(&error.to_string()), "join refused: session token");
                return self.send(refuse("stale")).await;
            }
        };
        if claims.id != id {
            tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), "join refused: session token is for another view");
            return self.send(refuse("stale")).await;
        }
        let csrf_ok = request
            .params
            .get("_csrf_token")
            .and_then(Value::as_str)
            .is_some_and(|token| constant_time_eq(token.as_bytes(), claims.csrf.as_bytes()));
        if !csrf_ok {
            tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), "join refused: missing or wrong csrf token");
            return self.send(refuse("stale")).await;
        }
        let navigation = request.redirect.is_some();
        let Some(raw_url) = request.redirect.or(request.url) else {
            return self.send(refuse("stale")).await;
        };
        let url = Url::parse(&raw_url);
        let Some((route, view, mut params)) = self.endpoint.router.lookup_view(url.path()) else {
            return self.send(refuse("unauthorized")).await;
        };
        // The token mounts its own route, or (live navigation) a route of its live session;
        // anything else is refused, and the client loads the page over HTTP.
        let allowed = if navigation {
            self.endpoint.router.same_live_session(route, &claims.route)
        } else {
            route == claims.route
        };
        if !allowed {
            tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), navigation, "join refused: the URL routes outside the token's live session");
            return self.send(refuse("unauthorized")).await;
        }
        if let Some(query) = url.query() {
            if let Err(error) = params.extend_query(query) {
                tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&topic), error = %Untrusted(&error.to_string()), "join refused: query string");
                // The client loads the page over HTTP, which answers 400.
                return self.send(refuse("unauthorized")).await;
            }
        }
        let first_mount = request
            .params
            .get("_mounts")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            == 0;
        // The flash: from a live navigation's token, else (first join of the page) the flash
        // of the HTTP render.
        let flash = match request.flash.as_deref() {
            Some(token) => self
                .endpoint
                .signer
                .verify_json::<Flash>(token)
                .unwrap_or_default(),
            None if first_mount && !navigation => claims.flash.clone(),
            None => Flash::default(),
        };
        let route = route.to_owned();
        let view = view.clone();
        if let Some(old) = self.channels.remove(&topic) {
            let _ = old.tx.try_send(Box::new(ChannelMsg::Shutdown));
        }
        let tx = view.join(Join {
            endpoint: self.endpoint.clone(),
            topic: topic.as_str().into(),
            join_ref: join_ref.as_str().into(),
            msg_ref,
            id: id.into(),
            route,
            url,
            params,
            session: Session(claims.session),
            csrf: claims.csrf,
            flash,
            out: self.out.clone(),
        });
        self.channels.insert(topic, Channel { join_ref, tx });
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        for channel in self.channels.values() {
            let _ = channel.tx.try_send(Box::new(ChannelMsg::Shutdown));
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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle_free::ct_eq;
    ct_eq(a, b)
}

mod subtle_free {
    /// Compares two byte strings in time independent of where they differ.
    pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let mut diff = 0u8;
        for (x, y) in a.iter().zip(b) {
            diff |= x ^ y;
        }
        std::hint::black_box(diff) == 0
    }
}

fn msg_ref_of(msg: &ChannelMsg) -> Option<&str> {
    match msg {
        ChannelMsg::Event { msg_ref, .. }
        | ChannelMsg::LivePatch { msg_ref, .. }
        | ChannelMsg::Other { msg_ref, .. }
        | ChannelMsg::Leave { msg_ref } => msg_ref.as_deref(),
        _ => None,
    }
}

/// A verified join, handed to the view's task.
pub(crate) struct Join {
    endpoint: Arc<Endpoint>,
    topic: Arc<str>,
    join_ref: Arc<str>,
    msg_ref: Option<String>,
    id: Arc<str>,
    route: String,
    url: Url,
    params: Params,
    session: Session,
    csrf: String,
    flash: Flash,
    out: Arc<dyn Transport>,
}

/// What a dead render needs.
pub(crate) struct DeadRender<'a> {
    pub(crate) id: &'a str,
    pub(crate) url: &'a Url,
    pub(crate) params: &'a Params,
    pub(crate) session: &'a Session,
    pub(crate) csrf: &'a str,
    pub(crate) flash: Flash,
}

/// A dead render's outcome: `Err(message)` if the view failed; else
/// `Ok(Ok((html, title, flash)))` or `Ok(Err(location))` for a redirect.
pub(crate) type DeadOutcome = Result<Result<(String, Option<String>, Flash), String>, String>;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A live view with its types erased, as the router stores it.
pub(crate) trait ErasedView: Send + Sync + 'static {
    fn dead_render<'a>(&'a self, request: DeadRender<'a>) -> BoxFuture<'a, DeadOutcome>;
    fn join(self: Arc<Self>, join: Join) -> Mailbox;
}

pub(crate) struct ViewEntry<V> {
    view: V,
}

impl<V: LiveView> ViewEntry<V> {
    pub(crate) fn new(view: V) -> Self {
        Self { view }
    }
}

impl<V: LiveView> ErasedView for ViewEntry<V> {
    fn dead_render<'a>(&'a self, request: DeadRender<'a>) -> BoxFuture<'a, DeadOutcome> {
        Box::pin(async move {
            let mut socket = Socket::<V>::new(request.id.into(), false, None, None);
            socket.flash = request.flash.clone();
            callback(
                self.view
                    .mount(&mut socket, request.params, request.session),
            )
            .await?;
            if let Some(location) = redirect_of(&socket) {
                return Ok(Err(location));
            }
            callback(
                self.view
                    .handle_params(&mut socket, request.url, request.params),
            )
            .await?;
            if let Some(location) = redirect_of(&socket) {
                return Ok(Err(location));
            }
            // Components get the same cids as in the join render, so their DOM ids (built from
            // `myself`) match; their HTML is inlined.
            let components = RefCell::new(Registry::detached());
            let meta = Meta {
                id: request.id,
                connected: false,
                flash: &socket.flash,
                csrf_token: request.csrf,
                uploads: &socket.uploads,
                myself: None,
                components: ComponentScope {
                    registry: Some(&components),
                },
            };
            let rendered = catch_sync(|| self.view.render(socket.context(), &meta))?;
            let title = socket.title.take();
            let registry = components.into_inner();
            let mut html = String::with_capacity(4096);
            rendered.write_html_with(&mut html, &mut |cid, out| registry.write_html(cid, out));
            Ok(Ok((html, title, socket.flash.clone())))
        })
    }

    fn join(self: Arc<Self>, join: Join) -> Mailbox {
        let (tx, inbox) = mpsc::channel(join.endpoint.config.view_queue);
        tokio::spawn(ViewTask::run(self, join, inbox));
        tx
    }
}

fn redirect_of<V: LiveView>(socket: &Socket<V>) -> Option<String> {
    match &socket.navigation {
        Some(Navigation::Redirect { to }) | Some(Navigation::LiveRedirect { to, .. }) => {
            Some(to.clone())
        }
        Some(Navigation::Patch { to, .. }) => Some(to.clone()),
        None => None,
    }
}

/// Runs a future, turning a panic into an error message.
async fn catch<F: Future>(future: F) -> Result<F::Output, String> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic_message(panic))),
        }
    })
    .await
}

/// Runs a view callback: its error or panic becomes an error message.
async fn callback(future: impl Future<Output = ViewResult>) -> Result<(), String> {
    catch(future)
        .await
        .and_then(|result| result.map_err(|error| error.to_string()))
}

fn catch_sync<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(panic_message)
}

fn panic_message(panic: Box<dyn Any + Send>) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    format!("panicked: {message}")
}

/// How a turn ended.
enum Flow {
    Continue,
    Stop,
}

/// A view crashed: its callback returned an error or panicked.
struct Crash(String);

/// One joined view: its socket, the tree the client holds, and its channel identity.
struct ViewTask<V: LiveView> {
    entry: Arc<ViewEntry<V>>,
    endpoint: Arc<Endpoint>,
    socket: Socket<V>,
    topic: Arc<str>,
    join_ref: Arc<str>,
    route: String,
    url: Url,
    csrf: String,
    out: Arc<dyn Transport>,
    /// The last tree sent: a mirror of what the client holds.
    last: Option<Rendered>,
    /// The writers of the upload channels registered for this view's entries.
    upload_slots: HashMap<String, Arc<UploadSlot>>,
    /// The view's live components.
    components: RefCell<Registry>,
}

impl<V: LiveView> ViewTask<V> {
    async fn run(entry: Arc<ViewEntry<V>>, join: Join, mut inbox: mpsc::Receiver<Box<ChannelMsg>>) {
        let (info_tx, mut infos) = mpsc::channel(join.endpoint.config.info_queue.max(1));
        let overflowed = Arc::new(AtomicBool::new(false));
        let info_tx = InfoSender::new(info_tx, overflowed.clone());
        let parent_tx = info_tx.clone();
        let components = RefCell::new(Registry::new(parent_info::<V::Info>(move |info| {
            parent_tx.try_send(info);
        })));
        let mut socket = Socket::<V>::new(
            join.id.clone(),
            true,
            Some(info_tx),
            Some(join.endpoint.pubsub.clone()),
        );
        socket.flash = join.flash;
        let mut task = ViewTask {
            entry,
            endpoint: join.endpoint,
            socket,
            topic: join.topic,
            join_ref: join.join_ref,
            route: join.route,
            url: join.url,
            csrf: join.csrf,
            out: join.out,
            last: None,
            upload_slots: HashMap::new(),
            components,
        };
        if !Box::pin(task.mount(join.msg_ref, &join.params, &join.session)).await {
            return;
        }
        tracing::debug!(topic = %Untrusted(&task.topic), route = %task.route, "joined");
        loop {
            let outcome = tokio::select! {
                biased;
                // Turns are boxed: an idle view's task then holds only the small loop state,
                // not the largest callback's.
                msg = inbox.recv() => match msg.map(|msg| *msg) {
                    Some(ChannelMsg::Shutdown) | None => break,
                    Some(msg) => Box::pin(task.handle(msg)).await,
                },
                Some(info) = infos.recv() => Box::pin(task.handle_info(info)).await,
            };
            let outcome = match outcome {
                Ok(_) if overflowed.load(Ordering::Acquire) => Err(Crash(format!(
                    "its info queue is full ({} messages)",
                    task.endpoint.config.info_queue
                ))),
                outcome => outcome,
            };
            match outcome {
                Ok(Flow::Continue) => {}
                Ok(Flow::Stop) => break,
                Err(Crash(message)) => {
                    tracing::error!(topic = %Untrusted(&task.topic), route = %task.route, message = %Untrusted(&message), "view crashed");
                    let frame = encode_phx_error(&task.join_ref, &task.topic);
                    let _ = task.out.send(Outbound::Text(frame)).await;
                    task.socket.stop_tasks();
                    task.cancel_uploads();
                    return;
                }
            }
        }
        task.shutdown();
    }

    fn shutdown(&mut self) {
        let view = &self.entry.view;
        let socket = &mut self.socket;
        if let Err(message) = catch_sync(|| view.shutdown(socket)) {
            tracing::error!(topic = %Untrusted(&self.topic), message = %Untrusted(&message), "shutdown failed");
        }
        self.socket.stop_tasks();
        self.cancel_uploads();
        tracing::debug!(topic = %Untrusted(&self.topic), "view ended");
    }

    /// Stops the uploads still in flight (their partial files are deleted now).
    fn cancel_uploads(&mut self) {
        for (_, slot) in self.upload_slots.drain() {
            slot.cancel_soon();
        }
    }

    /// Mounts and answers the join; returns whether the view is live.
    async fn mount(&mut self, msg_ref: Option<String>, params: &Params, session: &Session) -> bool {
        let refuse = |task: &Self, reason: &str| {
            encode_error_reply(
                Some(&task.join_ref),
                msg_ref.as_deref(),
                &task.topic,
                reason,
            )
        };
        let mounted = callback(self.entry.view.mount(&mut self.socket, params, session)).await;
        if let Err(message) = mounted {
            tracing::error!(topic = %Untrusted(&self.topic), route = %self.route, message = %Untrusted(&message), "mount failed");
            send(&self.out, refuse(self, "join crashed")).await;
            return false;
        }
        let params_ok = callback(self.entry.view.handle_params(
            &mut self.socket,
            &self.url,
            params,
        ))
        .await;
        if let Err(message) = params_ok {
            tracing::error!(topic = %Untrusted(&self.topic), route = %self.route, message = %Untrusted(&message), "handle_params failed");
            send(&self.out, refuse(self, "join crashed")).await;
            return false;
        }
        let mut live_patch = None;
        match self.navigate(&mut live_patch).await {
            Ok(None) => {}
            Ok(Some((key, payload))) => {
                let frame = encode_reply(
                    Some(&self.join_ref),
                    msg_ref.as_deref(),
                    &self.topic,
                    false,
                    |out| {
                        out.push(b'{');
                        write_json_str(key, out);
                        out.push(b':');
                        out.extend_from_slice(payload.as_bytes());
                        out.push(b'}');
                    },
                );
                send(&self.out, frame).await;
                return false;
            }
            Err(Crash(message)) => {
                tracing::error!(topic = %Untrusted(&self.topic), message = %Untrusted(&message), "handle_params failed");
                send(&self.out, refuse(self, "join crashed")).await;
                return false;
            }
        }
        let rendered = match self.render() {
            Ok(rendered) => rendered,
            Err(Crash(message)) => {
                tracing::error!(topic = %Untrusted(&self.topic), route = %self.route, message = %Untrusted(&message), "render failed");
                send(&self.out, refuse(self, "join crashed")).await;
                return false;
            }
        };
        let (join_ref, topic) = (self.join_ref.clone(), self.topic.clone());
        let frame = encode_reply(Some(&join_ref), msg_ref.as_deref(), &topic, true, |out| {
            out.extend_from_slice(b"{\"rendered\":{");
            self.write_payload(Some(&rendered), out);
            out.extend_from_slice(b"},\"liveview_version\":\"");
            out.extend_from_slice(LIVEVIEW_VERSION.as_bytes());
            out.push(b'"');
            if let Some(patch) = &live_patch {
                out.extend_from_slice(b",\"live_patch\":");
                out.extend_from_slice(patch.as_bytes());
            }
            out.push(b'}');
        });
        self.last = Some(rendered);
        self.socket.after_render();
        send(&self.out, frame).await;
        true
    }

    /// Writes this turn's payload members into `out`: the tree (`rendered` diffed against the
    /// tree the client holds, or in full on the join), the components rendered this turn (all
    /// of them after new root statics), a changed title `"t"` and pushed events `"e"`.
    /// Returns whether it wrote anything.
    fn write_payload(&mut self, rendered: Option<&Rendered>, out: &mut Vec<u8>) -> bool {
        let mut any = false;
        let mut resend_components = false;
        if let Some(new) = rendered {
            any = match &self.last {
                Some(last) => {
                    // New root statics make the client forget every component: resend them.
                    resend_components = last.template() != new.template();
                    wire::write_diff_members(last, new, out)
                }
                None => {
                    resend_components = true;
                    wire::write_full_members(new, out);
                    true
                }
            };
        }
        any |= write_components(&self.components, resend_components, any, out);
        if self.socket.title_changed {
            self.socket.title_changed = false;
            if any {
                out.push(b',');
            }
            out.extend_from_slice(b"\"t\":");
            write_json_str(self.socket.title.as_deref().unwrap_or(""), out);
            any = true;
        }
        let mut events = self.socket.take_events();
        let component_events = std::mem::take(&mut self.components.borrow_mut().events);
        if !component_events.is_empty() {
            if !events.is_empty() {
                events.push(b',');
            }
            events.extend_from_slice(&component_events);
        }
        if !events.is_empty() {
            if any {
                out.push(b',');
            }
            out.extend_from_slice(b"\"e\":[");
            out.extend_from_slice(&events);
            out.push(b']');
            any = true;
        }
        any
    }

    /// What the view's (and its components') render gets.
    fn meta(&self) -> Meta<'_> {
        Meta {
            id: self.socket.id(),
            connected: true,
            flash: &self.socket.flash,
            csrf_token: &self.csrf,
            uploads: &self.socket.uploads,
            myself: None,
            components: ComponentScope {
                registry: Some(&self.components),
            },
        }
    }

    /// Answers `msg_ref` with an error reply; the view goes on.
    async fn refuse(&mut self, msg_ref: Option<&str>, reason: &str) -> Result<Flow, Crash> {
        let reply = encode_error_reply(Some(&self.join_ref), msg_ref, &self.topic, reason);
        send(&self.out, reply).await;
        Ok(Flow::Continue)
    }

    fn render(&mut self) -> Result<Rendered, Crash> {
        let meta = self.meta();
        let view = &self.entry.view;
        let state = self.socket.context();
        // Inside `with_previous`, memoized loop rows whose key and stamp did not change are
        // reused from the last tree instead of being rendered again.
        let last = self.last.as_ref();
        catch_sync(|| liveview_diff::memo::with_previous(last, || view.render(state, &meta)))
            .map_err(Crash)
    }

    async fn handle(&mut self, msg: ChannelMsg) -> Result<Flow, Crash> {
        match msg {
            ChannelMsg::Event { msg_ref, payload } => {
                let event = match ClientEvent::from_payload(payload.get()) {
                    Ok(event) => event,
                    Err(error) => {
                        tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&self.topic), error = %Untrusted(&error.to_string()), "malformed event");
                        return self.refuse(msg_ref.as_deref(), "malformed event").await;
                    }
                };
                if let Some(cid) = event.cid {
                    return self.component_event(msg_ref, cid, event).await;
                }
                for (upload_ref, entries) in &event.uploads {
                    if let Some(config) = self.socket.uploads.by_ref_mut(upload_ref) {
                        let replaced = config.put_entries(entries);
                        self.socket
                            .uploads
                            .cancelled
                            .extend(replaced.into_iter().map(|entry| entry.entry_ref));
                        self.socket.changed = true;
                    }
                }
                if event.name == "lv:clear-flash" {
                    let key = event.value.get("key").and_then(Value::as_str);
                    self.socket.clear_flash(key);
                } else {
                    let typed = match event.decode::<V::Event>() {
                        Ok(typed) => typed,
                        Err(error) => {
                            tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&self.topic), event = %Untrusted(&event.name), error = %Untrusted(&error.to_string()), "unknown event");
                            return self.refuse(msg_ref.as_deref(), "unknown event").await;
                        }
                    };
                    let name = event.name;
                    callback(self.entry.view.handle_event(&mut self.socket, typed))
                        .await
                        .map_err(|message| {
                            Crash(format!("handle_event({}): {message}", Untrusted(&name)))
                        })?;
                }
                self.finish_turn(msg_ref, None).await
            }
            ChannelMsg::LivePatch { msg_ref, payload } => {
                #[derive(Deserialize)]
                struct Patch {
                    url: String,
                }
                let Ok(patch) = serde_json::from_str::<Patch>(payload.get()) else {
                    return self
                        .refuse(msg_ref.as_deref(), "malformed live_patch")
                        .await;
                };
                let url = Url::parse(&patch.url);
                let target = self.endpoint.router.lookup_view(url.path()).and_then(
                    |(route, _, mut params)| {
                        let query = url
                            .query()
                            .map_or(Ok(()), |query| params.extend_query(query));
                        query.is_ok().then_some((route, params))
                    },
                );
                match target {
                    // A query that does not decode takes the `link_redirect` path: the join
                    // is refused and the client loads the URL over HTTP, which answers 400.
                    Some((route, params)) if route == self.route => {
                        self.url = url;
                        self.socket.clear_flash(None);
                        let url = self.url.clone();
                        callback(
                            self.entry
                                .view
                                .handle_params(&mut self.socket, &url, &params),
                        )
                        .await
                        .map_err(Crash)?;
                        self.finish_turn(msg_ref, None).await
                    }
                    _ => {
                        let reply = encode_reply(
                            Some(&self.join_ref),
                            msg_ref.as_deref(),
                            &self.topic,
                            true,
                            |out| out.extend_from_slice(b"{\"link_redirect\":true}"),
                        );
                        send(&self.out, reply).await;
                        Ok(Flow::Continue)
                    }
                }
            }
            ChannelMsg::Leave { msg_ref } => {
                send(
                    &self.out,
                    encode_empty_reply(Some(&self.join_ref), msg_ref.as_deref(), &self.topic),
                )
                .await;
                Ok(Flow::Stop)
            }
            ChannelMsg::Other {
                msg_ref,
                event,
                payload,
            } if event == "allow_upload" => {
                let request: AllowUploadRequest = match serde_json::from_str(payload.get()) {
                    Ok(request) => request,
                    Err(error) => {
                        tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&self.topic), error = %Untrusted(&error.to_string()), "malformed allow_upload");
                        return self
                            .refuse(msg_ref.as_deref(), "malformed allow_upload")
                            .await;
                    }
                };
                let tokens = UploadTokens(&self.endpoint.signer);
                let id = self.socket.id().to_owned();
                let Some(config) = self.socket.uploads.by_ref_mut(&request.upload_ref) else {
                    return self.refuse(msg_ref.as_deref(), "unknown upload").await;
                };
                let preflight = config
                    .preflight(&request.entries, &tokens, &id, request.cid)
                    .await;
                self.socket.changed = true;
                let mut members = Vec::with_capacity(256);
                crate::json::write_value(&preflight, &mut members);
                // Strip the braces: the members go into the reply next to "diff".
                members.pop();
                members.remove(0);
                self.finish_turn(msg_ref, Some(members)).await
            }
            ChannelMsg::Other {
                msg_ref,
                event,
                payload,
            } if event == "progress" => {
                match serde_json::from_str::<ProgressRequest>(payload.get()) {
                    Ok(request) => {
                        if let Some(config) = self.socket.uploads.by_ref_mut(&request.upload_ref) {
                            if let Err(error) =
                                config.apply_progress(&request.entry_ref, &request.progress)
                            {
                                tracing::debug!(topic = %Untrusted(&self.topic), error = %Untrusted(&error.to_string()), "progress for an unknown entry");
                            }
                            self.socket.changed = true;
                        }
                        self.finish_turn(msg_ref, None).await
                    }
                    Err(error) => {
                        tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&self.topic), error = %Untrusted(&error.to_string()), "malformed progress");
                        self.refuse(msg_ref.as_deref(), "malformed progress").await
                    }
                }
            }
            ChannelMsg::RegisterUpload {
                config_ref,
                entry_ref,
                reply,
            } => {
                let storage = Some(&self.endpoint.upload_storage);
                let result = match self.socket.uploads.by_ref_mut(&config_ref) {
                    Some(config) => config.register_upload(&entry_ref, storage).map(|target| {
                        let slot = UploadSlot::new(target);
                        self.upload_slots.insert(entry_ref.clone(), slot.clone());
                        slot
                    }),
                    None => Err(UploadError::Disallowed(entry_ref)),
                };
                let _ = reply.send(result);
                Ok(Flow::Continue)
            }
            ChannelMsg::UploadFailed {
                config_ref,
                entry_ref,
                error,
            } => {
                self.upload_slots.remove(&entry_ref);
                if let Some(config) = self.socket.uploads.by_ref_mut(&config_ref) {
                    if config.put_entry_error(&entry_ref, error).is_ok() {
                        self.socket.changed = true;
                    }
                }
                self.finish_turn(None, None).await
            }
            ChannelMsg::UploadDone {
                config_ref,
                entry_ref,
                stored,
            } => {
                self.upload_slots.remove(&entry_ref);
                if let Some(config) = self.socket.uploads.by_ref_mut(&config_ref) {
                    // A cancelled entry's upload is dropped (a file deleted) by `attach`'s
                    // error path.
                    if config.attach(&entry_ref, stored).is_ok() {
                        self.socket.changed = true;
                    }
                }
                self.finish_turn(None, None).await
            }

            ChannelMsg::Other {
                msg_ref,
                event,
                payload,
            } => {
                let reply = match event.as_str() {
                    "cids_will_destroy" => {
                        let cids = cids_of(payload.get());
                        self.components.borrow_mut().will_destroy(&cids);
                        encode_empty_reply(Some(&self.join_ref), msg_ref.as_deref(), &self.topic)
                    }
                    "cids_destroyed" => {
                        let cids = cids_of(payload.get());
                        let removed = self.components.borrow_mut().destroyed(&cids);
                        encode_reply(
                            Some(&self.join_ref),
                            msg_ref.as_deref(),
                            &self.topic,
                            true,
                            |out| {
                                out.extend_from_slice(b"{\"cids\":");
                                crate::json::write_value(&removed, out);
                                out.push(b'}');
                            },
                        )
                    }
                    _ => {
                        tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&self.topic), event = %Untrusted(&event), "unknown channel event");
                        encode_error_reply(
                            Some(&self.join_ref),
                            msg_ref.as_deref(),
                            &self.topic,
                            "unknown event",
                        )
                    }
                };
                send(&self.out, reply).await;
                Ok(Flow::Continue)
            }
            ChannelMsg::Shutdown => Ok(Flow::Stop),
        }
    }

    /// An event targeted at a live component (`phx-target`): only that component runs and
    /// re-renders; the reply carries its diff in `"c"`.
    async fn component_event(
        &mut self,
        msg_ref: Option<String>,
        cid: u64,
        event: ClientEvent,
    ) -> Result<Flow, Crash> {
        let cid = u32::try_from(cid).unwrap_or(u32::MAX);
        let Some(mut instance) = self.components.borrow_mut().take_instance(cid) else {
            // Phoenix answers events for unknown (destroyed) components with an empty reply.
            send(
                &self.out,
                encode_empty_reply(Some(&self.join_ref), msg_ref.as_deref(), &self.topic),
            )
            .await;
            return Ok(Flow::Continue);
        };
        let outcome = catch(instance.handle_event(&event)).await;
        let result = match outcome {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Err(error)) => {
                self.components.borrow_mut().put_instance(cid, instance);
                tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&self.topic), cid, event = %Untrusted(&event.name), error = %Untrusted(&error.to_string()), "unknown component event");
                return self.refuse(msg_ref.as_deref(), "unknown event").await;
            }
            Ok(Ok(Err(error))) => Err(error.to_string()),
            Err(panic) => Err(panic),
        };
        if let Err(message) = result {
            return Err(Crash(format!(
                "component {cid} handle_event({}): {message}",
                Untrusted(&event.name)
            )));
        }
        if instance.changed() {
            let meta = self.meta();
            let registry = &self.components;
            let rendered = catch_sync(|| render_instance(registry, cid, &mut *instance, &meta))
                .map_err(Crash)?;
            if let Some(entry) = self.components.borrow_mut().entries.get_mut(&cid) {
                entry.fresh = Some(rendered);
            }
        }
        self.components.borrow_mut().put_instance(cid, instance);
        self.finish_turn(msg_ref, None).await
    }

    async fn handle_info(&mut self, info: V::Info) -> Result<Flow, Crash> {
        callback(self.entry.view.handle_info(&mut self.socket, info))
            .await
            .map_err(|message| Crash(format!("handle_info: {message}")))?;
        self.finish_turn(None, None).await
    }

    /// Applies navigation requested by the last callback. Patches run `handle_params` and
    /// are pushed as `live_patch` (or collected into `join_patch` during a join); redirects
    /// return the reply key and payload and end the view.
    async fn navigate(
        &mut self,
        join_patch: &mut Option<String>,
    ) -> Result<Option<(&'static str, String)>, Crash> {
        let mut patches = 0;
        while let Some(navigation) = self.socket.navigation.take() {
            match navigation {
                Navigation::Patch { to, replace } => {
                    patches += 1;
                    if patches > 20 {
                        return Err(Crash("more than 20 chained push_patch calls".into()));
                    }
                    let url = Url::parse(&to);
                    let Some((route, _, mut params)) = self.endpoint.router.lookup_view(url.path())
                    else {
                        return Err(Crash(format!("push_patch to an unrouted path {to}")));
                    };
                    if route != self.route {
                        self.socket.navigation = Some(Navigation::LiveRedirect { to, replace });
                        continue;
                    }
                    if let Some(query) = url.query() {
                        params
                            .extend_query(query)
                            .map_err(|error| Crash(format!("push_patch to {to}: {error}")))?;
                    }
                    let payload = navigation_json(&to, Some(replace), None);
                    match join_patch {
                        Some(_) | None if self.last.is_none() => *join_patch = Some(payload),
                        _ => {
                            let frame = encode_push(
                                Some(&self.join_ref),
                                &self.topic,
                                "live_patch",
                                |out| out.extend_from_slice(payload.as_bytes()),
                            );
                            send(&self.out, frame).await;
                        }
                    }
                    self.url = url;
                    let url = self.url.clone();
                    callback(
                        self.entry
                            .view
                            .handle_params(&mut self.socket, &url, &params),
                    )
                    .await
                    .map_err(Crash)?;
                }
                Navigation::LiveRedirect { to, replace } => {
                    let flash = self.flash_token();
                    return Ok(Some((
                        "live_redirect",
                        navigation_json(&to, Some(replace), flash.as_deref()),
                    )));
                }
                Navigation::Redirect { to } => {
                    let flash = self.flash_token();
                    return Ok(Some((
                        "redirect",
                        navigation_json(&to, None, flash.as_deref()),
                    )));
                }
            }
        }
        Ok(None)
    }

    fn flash_token(&self) -> Option<String> {
        (!self.socket.flash.is_empty())
            .then(|| self.endpoint.signer.sign_json(&self.socket.flash, 60))
    }

    /// After a callback: navigation, then render and diff; reply to `msg_ref` or push a diff.
    async fn finish_turn(
        &mut self,
        msg_ref: Option<String>,
        extra: Option<Vec<u8>>,
    ) -> Result<Flow, Crash> {
        for entry_ref in self.socket.uploads.cancelled.drain(..) {
            if let Some(slot) = self.upload_slots.remove(&entry_ref) {
                // The storage drops the partial upload before this turn's reply.
                slot.cancel().await;
            }
        }
        let mut unused = None;
        if let Some((key, payload)) = self.navigate(&mut unused).await? {
            match &msg_ref {
                Some(msg_ref) => {
                    let reply = encode_reply(
                        Some(&self.join_ref),
                        Some(msg_ref),
                        &self.topic,
                        true,
                        |out| {
                            out.push(b'{');
                            write_json_str(key, out);
                            out.push(b':');
                            out.extend_from_slice(payload.as_bytes());
                            out.push(b'}');
                        },
                    );
                    send(&self.out, reply).await;
                }
                None => {
                    let frame = encode_push(Some(&self.join_ref), &self.topic, key, |out| {
                        out.extend_from_slice(payload.as_bytes())
                    });
                    send(&self.out, frame).await;
                }
            }
            return Ok(Flow::Stop);
        }
        let rendered = if self.socket.changed {
            Some(self.render()?)
        } else {
            None
        };
        // The payload is written straight into the frame: no intermediate diff buffer.
        let (join_ref, topic) = (self.join_ref.clone(), self.topic.clone());
        let frame = match &msg_ref {
            Some(msg_ref) => Some(encode_reply(
                Some(&join_ref),
                Some(msg_ref),
                &topic,
                true,
                |out| {
                    out.push(b'{');
                    if let Some(extra) = &extra {
                        out.extend_from_slice(extra);
                        out.push(b',');
                    }
                    let mark = out.len();
                    out.extend_from_slice(b"\"diff\":{");
                    if self.write_payload(rendered.as_ref(), out) {
                        out.push(b'}');
                    } else {
                        // Nothing changed: `{}` (or just the extra members).
                        out.truncate(if extra.is_some() { mark - 1 } else { mark });
                    }
                    out.push(b'}');
                },
            )),
            None => {
                let mut any = false;
                let frame = encode_push(Some(&join_ref), &topic, "diff", |out| {
                    out.push(b'{');
                    any = self.write_payload(rendered.as_ref(), out);
                    out.push(b'}');
                });
                any.then_some(frame)
            }
        };
        if let Some(new) = rendered {
            self.last = Some(new);
            self.socket.after_render();
        }
        if let Some(frame) = frame {
            send(&self.out, frame).await;
        }
        Ok(Flow::Continue)
    }
}

fn cids_of(payload: &str) -> Vec<u32> {
    #[derive(Deserialize)]
    struct Cids {
        #[serde(default)]
        cids: Vec<u32>,
    }
    serde_json::from_str::<Cids>(payload)
        .map(|cids| cids.cids)
        .unwrap_or_default()
}

/// Writes the `"c"` member with the components rendered in this turn (diffed against what the
/// client holds, or in full) — and with `resend`, every component the client held, in full.
/// `comma` says whether a member precedes it. Returns whether it wrote anything.
fn write_components(
    registry: &RefCell<Registry>,
    resend: bool,
    comma: bool,
    out: &mut Vec<u8>,
) -> bool {
    let mut registry = registry.borrow_mut();
    let mark = out.len();
    if comma {
        out.push(b',');
    }
    out.extend_from_slice(b"\"c\":{");
    let open = out.len();
    let mut first = true;
    let mut buf = itoa::Buffer::new();
    for (cid, entry) in registry.entries.iter_mut() {
        let fresh = entry.fresh.take();
        let entry_mark = out.len();
        if !first {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(buf.format(*cid).as_bytes());
        out.extend_from_slice(b"\":");
        let wrote = match (&fresh, &entry.sent) {
            (Some(fresh), Some(sent)) if !resend => wire::write_component_diff(sent, fresh, out),
            (Some(fresh), _) => {
                wire::write_component_full(fresh, out);
                true
            }
            (None, Some(sent)) if resend => {
                wire::write_component_full(sent, out);
                true
            }
            (None, _) => false,
        };
        if wrote {
            first = false;
        } else {
            out.truncate(entry_mark);
        }
        if let Some(fresh) = fresh {
            entry.sent = Some(fresh);
        }
    }
    if out.len() == open {
        out.truncate(mark);
        return false;
    }
    out.push(b'}');
    true
}

fn navigation_json(to: &str, replace: Option<bool>, flash: Option<&str>) -> String {
    let mut out = Vec::with_capacity(to.len() + 32);
    out.extend_from_slice(b"{\"to\":");
    write_json_str(to, &mut out);
    if let Some(replace) = replace {
        out.extend_from_slice(if replace {
            b",\"kind\":\"replace\""
        } else {
            b",\"kind\":\"push\""
        });
    }
    if let Some(flash) = flash {
        out.extend_from_slice(b",\"flash\":");
        write_json_str(flash, &mut out);
    }
    out.push(b'}');
    String::from_utf8(out).expect("JSON is UTF-8")
}

impl Connection {
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
}

async fn send(out: &Arc<dyn Transport>, frame: String) {
    // A transport fails only when the socket is closing: the frame has nowhere to go.
    let _ = out.send(Outbound::Text(frame)).await;
}
