//! [`ViewTask`]: one joined view in a task of its own, with a FIFO mailbox. It owns the
//! view's socket and the tree the client holds; every message is one turn (a callback, then
//! navigation, render, diff and exactly one reply or push), handled by one small method.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use liveview_diff::Rendered;
use serde::Deserialize;
use serde_json::Value;
use tracing::Instrument;

use super::cell::{BoxFuture, Turns, ViewCell};
use super::message::{ChannelMsg, ClientKind, Mailbox, Queued};
use super::shared::{Join, Shared};
use super::transport::{send_text, Transport};
use super::upload_channel::UploadSlot;
use crate::catch::{callback, callback_status, catch, catch_sync, Failure};
use crate::component::{flush, parent_info, ComponentScope, Registry};
use crate::event::ClientEvent;
use crate::hooks::run_on_mount;
use crate::info::{InfoQueue, InfoSender, InfoWake};
use crate::lifecycle::{self, HookFlow};
use crate::live_session::LiveSession;
use crate::nested::{NestedScope, NestedState};
use crate::protocol::payload::{self, Turn};
use crate::protocol::ChannelRef;
use crate::sender::{ComponentMailbox, Inbox};
use crate::socket::Socket;
use crate::telemetry::Alive;
use crate::untrusted::Untrusted;
use crate::view::{LiveView, Meta, Params, Session, Url};

mod navigation;

/// Creates the view of a verified join, parked in its cell with its mount queued.
pub(crate) fn join<V: LiveView>(view: Arc<V>, join: Join) -> Mailbox {
    let (info_tx, infos) = InfoSender::channel(join.shared.config.info_queue);
    let probe = infos.clone();
    let parent_tx = info_tx.clone();
    let mailbox: Arc<dyn ComponentMailbox> = Arc::new(info_tx.clone());
    let components = RefCell::new(Registry::new(
        parent_info::<V::Info>(move |info| {
            parent_tx.try_send(Inbox::Info(info));
        }),
        mailbox,
    ));
    let mut socket = Socket::<V>::new(
        join.id.clone(),
        true,
        Some(info_tx),
        Some(join.shared.pubsub.clone()),
    );
    #[cfg(feature = "testing")]
    let test_handle = {
        let pending = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        socket.async_tasks.share_count(Some(pending.clone()));
        components.borrow_mut().share_async_count(pending.clone());
        super::cell::TestHandle {
            sender: Box::new(socket.sender()),
            pending_async: pending,
        }
    };
    socket.set_flash(join.flash);
    socket.extras.live_action = join.action;
    socket.extras.connect_params = Some(join.connect_params);
    socket.extras.connect_info = join.connect_info;
    let capacity = join.shared.config.view_queue;
    let task = ViewTask {
        view,
        shared: join.shared,
        socket,
        topic: join.topic,
        join_ref: join.join_ref,
        route: join.route,
        url: join.url,
        csrf: join.csrf,
        live_session: join.live_session,
        out: join.out,
        last: None,
        upload_slots: HashMap::new(),
        components,
        children: RefCell::default(),
        nested: join.nested,
        infos: infos.clone(),
        _alive: Alive::new(crate::telemetry::VIEWS),
    };
    let cell = ViewCell::new(Box::new(task), capacity, Box::new(move || probe.len()));
    #[cfg(feature = "testing")]
    let _ = cell.test_handle.set(test_handle);
    let wake: Weak<dyn InfoWake> = Arc::downgrade(&cell) as Weak<dyn InfoWake>;
    infos.wake_with(wake);
    let mount = ChannelMsg::Mount {
        msg_ref: join.msg_ref,
        params: join.params,
        session: join.session,
    };
    if cell.push(mount).is_err() {
        unreachable!("a new cell takes its first message");
    }
    cell
}

/// Boxes a turn, inside `span` only when the span is enabled: a disabled span would still
/// cost an enter and an exit on every poll of every turn (≈1% of a click's CPU).
fn traced<'a>(
    span: tracing::Span,
    turn: impl std::future::Future<Output = bool> + Send + 'a,
) -> BoxFuture<'a, bool> {
    if span.is_disabled() {
        Box::pin(turn)
    } else {
        Box::pin(turn.instrument(span))
    }
}

/// How a turn ended.
pub(super) enum Flow {
    Continue,
    Stop,
}

/// A view crashed: its callback returned an error or panicked.
pub(super) struct Crash(pub(super) String);

/// One joined view: its socket, the tree the client holds, and its channel identity.
pub(super) struct ViewTask<V: LiveView> {
    pub(super) view: Arc<V>,
    pub(super) shared: Arc<Shared>,
    pub(super) socket: Socket<V>,
    topic: Arc<str>,
    join_ref: Arc<str>,
    route: String,
    url: Url,
    csrf: String,
    /// The route's live session: its `on_mount` hooks run before mount.
    live_session: Arc<LiveSession>,
    pub(super) out: Arc<dyn Transport>,
    /// The last tree sent: a mirror of what the client holds.
    last: Option<Rendered>,
    /// The writers of the upload channels registered for this view's entries.
    pub(super) upload_slots: HashMap<String, Arc<UploadSlot>>,
    /// The view's live components.
    pub(super) components: RefCell<Registry>,
    /// The tokens of the nested views it rendered.
    children: RefCell<NestedState>,
    /// It is a nested view itself (no `handle_params`, no patches).
    pub(super) nested: bool,
    /// Counts the view in `liveview_views` while it lives.
    _alive: Alive,
    /// The view's info queue (its own `send_info`s, ticks, pub/sub deliveries); a
    /// `send_info` that found it full ends the view.
    infos: Arc<InfoQueue<Inbox<V>>>,
}

impl<V: LiveView> Drop for ViewTask<V> {
    fn drop(&mut self) {
        // Senders (pub/sub forwarders, ticks) fail from now on and stop.
        self.infos.close();
    }
}

impl<V: LiveView> Turns for ViewTask<V> {
    fn handle(&mut self, msg: ChannelMsg) -> BoxFuture<'_, bool> {
        let kind = msg.kind_name();
        crate::telemetry::turn(kind);
        let span =
            tracing::debug_span!("turn", view = %self.route, kind, event = tracing::field::Empty);
        traced(span, async move {
            if let ChannelMsg::Mount {
                msg_ref,
                params,
                session,
            } = msg
            {
                let live = self.mount(msg_ref, &params, &session).await;
                if live {
                    tracing::debug!(topic = %Untrusted(&self.topic), route = %self.route, "joined");
                }
                return live;
            }
            let outcome = self.turn(msg).await;
            self.after_turn(outcome).await
        })
    }

    fn next_info(&mut self) -> Option<BoxFuture<'_, bool>> {
        let item = self.infos.pop()?;
        let kind = match &item {
            Inbox::Info(_) => "info",
            Inbox::Async(_) => "async",
            Inbox::Component(_) => "component",
        };
        crate::telemetry::turn(kind);
        let span = tracing::debug_span!("turn", view = %self.route, kind);
        Some(traced(span, async move {
            let outcome = match item {
                Inbox::Info(info) => self.on_info(info).await,
                Inbox::Async(done) => self.on_async(done).await,
                Inbox::Component(msg) => self.on_component_msg(msg).await,
            };
            self.after_turn(outcome).await
        }))
    }

    fn shut_down(&mut self) {
        self.shutdown();
    }
}

impl<V: LiveView> ViewTask<V> {
    /// Ends the view after a turn that stopped or crashed it; `false` when it ended.
    async fn after_turn(&mut self, outcome: Result<Flow, Crash>) -> bool {
        match self.check_overflow(outcome) {
            Ok(Flow::Continue) => true,
            Ok(Flow::Stop) => {
                self.shutdown();
                false
            }
            Err(crash) => {
                self.crash(crash).await;
                false
            }
        }
    }

    /// A turn that filled the info queue ends the view.
    fn check_overflow(&self, outcome: Result<Flow, Crash>) -> Result<Flow, Crash> {
        match outcome {
            Ok(_) if self.infos.overflowed() => Err(Crash(format!(
                "its info queue is full ({} messages)",
                self.shared.config.info_queue
            ))),
            outcome => outcome,
        }
    }

    /// Ends a crashed view: `phx_error` (the client rejoins with a fresh mount).
    async fn crash(&mut self, Crash(message): Crash) {
        tracing::error!(topic = %Untrusted(&self.topic), route = %self.route, message = %Untrusted(&message), "view crashed");
        let frame = self.channel().crashed();
        send_text(&*self.out, frame).await;
        self.socket.stop_tasks();
        self.cancel_uploads();
    }

    fn shutdown(&mut self) {
        let view = &self.view;
        let socket = &mut self.socket;
        if let Err(message) = catch_sync(|| view.shutdown(socket)) {
            tracing::error!(topic = %Untrusted(&self.topic), message = %Untrusted(&message), "shutdown failed");
        }
        self.socket.stop_tasks();
        self.cancel_uploads();
        tracing::debug!(topic = %Untrusted(&self.topic), "view ended");
    }

    pub(super) fn channel(&self) -> ChannelRef<'_> {
        ChannelRef::new(Some(&self.join_ref), &self.topic)
    }

    /// Answers a refused client message (`ChannelRef::refused`: an ok reply that unlocks the
    /// element, with an `lv:refused` event naming `reason` and the event); the view goes on
    /// with its state untouched.
    pub(super) async fn refuse(
        &mut self,
        msg_ref: Option<&str>,
        reason: &'static str,
        event: Option<&str>,
    ) -> Result<Flow, Crash> {
        let frame = self.channel().refused(msg_ref, reason, event, None);
        send_text(&*self.out, frame).await;
        Ok(Flow::Continue)
    }

    /// Refuses an event that does not decode into the view's (or component's) event type: the
    /// log and the reply say whether the name is unknown or which field is invalid and why.
    pub(super) async fn refuse_event(
        &mut self,
        msg_ref: Option<&str>,
        event: &ClientEvent,
        error: &crate::event::EventError,
    ) -> Result<Flow, Crash> {
        tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&self.topic), cid = ?event.cid, event = %Untrusted(&event.name), error = %Untrusted(&error.to_string()), "{}", error.reason());
        let frame =
            crate::protocol::payload::event_refusal(self.channel(), msg_ref, &event.name, error);
        send_text(&*self.out, frame).await;
        Ok(Flow::Continue)
    }

    /// Mounts and answers the join; returns whether the view is live.
    async fn mount(&mut self, msg_ref: Option<String>, params: &Params, session: &Session) -> bool {
        let msg_ref = msg_ref.as_deref();
        let hooks = self.live_session.clone();
        let halted = run_on_mount(
            &hooks.on_mount,
            &mut self.socket,
            params,
            session,
            &self.url,
        );
        if let Err(failure) = halted {
            return self.join_failed(msg_ref, failure).await;
        }
        // A hook that halted with a redirect: no mount, the join's reply sends the client there.
        if self.socket.navigation().is_none() {
            let mounted = callback_status(self.view.mount(&mut self.socket, params, session)).await;
            if let Err(failure) = mounted {
                return self.join_failed(msg_ref, failure).await;
            }
            // Only the routed view handles the URL (not a nested one).
            let with_params = if self.nested {
                Ok(())
            } else {
                callback(lifecycle::handle_params(
                    &*self.view,
                    &mut self.socket,
                    &self.url,
                    params,
                ))
                .await
            };
            if let Err(message) = with_params {
                let message = format!("handle_params: {message}");
                return self.join_crashed(msg_ref, &message).await;
            }
        }
        let mut live_patch = None;
        match self.navigate(&mut live_patch).await {
            Ok(None) => {}
            Ok(Some(navigation)) => {
                // Redirected while mounting: the join's (error) reply sends the client there.
                let frame = navigation.reply(self.channel(), msg_ref, false);
                send_text(&*self.out, frame).await;
                return false;
            }
            Err(Crash(message)) => return self.join_crashed(msg_ref, &message).await,
        }
        let rendered = match self.render() {
            Ok(rendered) => rendered,
            Err(Crash(message)) => return self.join_crashed(msg_ref, &message).await,
        };
        let events = self.socket.take_events();
        let frame = {
            let mut components = self.components.borrow_mut();
            payload::join_reply(
                ChannelRef::new(Some(&self.join_ref), &self.topic),
                msg_ref,
                Turn {
                    last: None,
                    new: Some(&rendered),
                    components: &mut components,
                    title: self.socket.take_title_change(),
                    events: &events,
                    reply: None,
                },
                live_patch.as_deref(),
            )
        };
        self.last = Some(rendered);
        self.socket.after_render();
        send_text(&*self.out, frame).await;
        true
    }

    /// A join whose hooks or mount failed: a page status (404, 403) is refused as
    /// `unauthorized`, so the client loads the page over HTTP and shows the error page;
    /// anything else crashed the join.
    async fn join_failed(&mut self, msg_ref: Option<&str>, failure: Failure) -> bool {
        if failure.status.is_some() {
            tracing::debug!(topic = %Untrusted(&self.topic), route = %self.route, message = %Untrusted(&failure.message), "join refused by mount");
            let frame = self.channel().error(msg_ref, "unauthorized");
            send_text(&*self.out, frame).await;
            return false;
        }
        let message = format!("mount: {}", failure.message);
        self.join_crashed(msg_ref, &message).await
    }

    async fn join_crashed(&mut self, msg_ref: Option<&str>, message: &str) -> bool {
        tracing::error!(topic = %Untrusted(&self.topic), route = %self.route, message = %Untrusted(message), "join crashed");
        let frame = self.channel().error(msg_ref, "join crashed");
        send_text(&*self.out, frame).await;
        false
    }

    /// What the view's (and its components') render gets.
    pub(super) fn meta(&self) -> Meta<'_> {
        Meta {
            id: self.socket.id(),
            connected: true,
            flash: self.socket.flash(),
            csrf_token: &self.csrf,
            uploads: self.socket.uploads(),
            myself: None,
            components: ComponentScope {
                registry: Some(&self.components),
                nested: Some(NestedScope {
                    parent_id: self.socket.id(),
                    csrf: &self.csrf,
                    signer: &self.shared.signer,
                    max_age: self.shared.config.session_max_age.as_secs(),
                    state: &self.children,
                }),
            },
        }
    }

    fn render(&mut self) -> Result<Rendered, Crash> {
        let meta = self.meta();
        let view = &self.view;
        let state = self.socket.context();
        // Inside `with_previous`, memoized loop rows whose key and stamp did not change are
        // reused from the last tree instead of being rendered again.
        let last = self.last.as_ref();
        let components = &self.components;
        catch_sync(|| {
            liveview_diff::memo::with_previous(last, || {
                let rendered = view.render(state, &meta);
                // The components it references: updated and rendered now.
                flush(components, &meta);
                rendered
            })
        })
        .map_err(Crash)
    }

    /// One message's turn.
    async fn turn(&mut self, msg: ChannelMsg) -> Result<Flow, Crash> {
        match msg {
            ChannelMsg::Client {
                kind,
                msg_ref,
                payload,
            } => match kind {
                ClientKind::Event => self.on_event(msg_ref, payload).await,
                ClientKind::LivePatch => self.on_live_patch(msg_ref, payload).await,
                ClientKind::AllowUpload => self.on_allow_upload(msg_ref, payload).await,
                ClientKind::Progress => self.on_progress(msg_ref, payload).await,
                ClientKind::CidsWillDestroy => self.on_cids_will_destroy(msg_ref, payload).await,
                ClientKind::CidsDestroyed => self.on_cids_destroyed(msg_ref, payload).await,
            },
            ChannelMsg::Leave { msg_ref } => self.on_leave(msg_ref).await,
            ChannelMsg::RegisterUpload {
                config_ref,
                entry_ref,
                reply,
            } => self.on_register_upload(config_ref, entry_ref, reply),
            ChannelMsg::UploadDone {
                config_ref,
                entry_ref,
                stored,
            } => self.on_upload_done(config_ref, entry_ref, stored).await,
            ChannelMsg::UploadFailed {
                config_ref,
                entry_ref,
                error,
            } => self.on_upload_failed(config_ref, entry_ref, error).await,
            ChannelMsg::Shutdown => Ok(Flow::Stop),
            ChannelMsg::Mount { .. } => unreachable!("a view mounts once, in its first turn"),
        }
    }

    async fn on_event(&mut self, msg_ref: Option<String>, payload: Queued) -> Result<Flow, Crash> {
        let event = match ClientEvent::from_payload(payload.get()) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(target: "liveview::rejection", topic = %Untrusted(&self.topic), error = %Untrusted(&error.to_string()), "malformed event");
                return self
                    .refuse(msg_ref.as_deref(), "malformed event", None)
                    .await;
            }
        };
        drop(payload);
        tracing::Span::current().record("event", tracing::field::display(Untrusted(&event.name)));
        if let Some(cid) = event.cid {
            return self.on_component_event(msg_ref, cid, event).await;
        }
        self.put_event_entries(&event);
        if event.name == "lv:clear-flash" {
            let key = event.value.get("key").and_then(Value::as_str);
            self.socket.clear_flash(key);
        } else if self.socket.event_hooks(&event) == HookFlow::Continue {
            let typed = match event.decode::<V::Event>() {
                Ok(typed) => typed,
                Err(error) => return self.refuse_event(msg_ref.as_deref(), &event, &error).await,
            };
            callback(self.view.handle_event(&mut self.socket, typed))
                .await
                .map_err(|message| {
                    Crash(format!(
                        "handle_event({}): {message}",
                        Untrusted(&event.name)
                    ))
                })?;
        }
        self.finish_turn(msg_ref, None).await
    }

    /// An event targeted at a live component (`phx-target`): only that component runs and
    /// re-renders; the reply carries its diff in `"c"`.
    async fn on_component_event(
        &mut self,
        msg_ref: Option<String>,
        cid: u64,
        event: ClientEvent,
    ) -> Result<Flow, Crash> {
        let cid = u32::try_from(cid).unwrap_or(u32::MAX);
        let Some(mut instance) = self.components.borrow_mut().take_instance(cid) else {
            // Phoenix answers events for unknown (destroyed) components with an empty reply.
            let frame = self.channel().ok(msg_ref.as_deref());
            send_text(&*self.out, frame).await;
            return Ok(Flow::Continue);
        };
        if super::view_uploads::put_entries(instance.uploads_mut(), &event) {
            instance.mark_changed();
        }
        let outcome = catch(instance.handle_event(&event)).await;
        let result = match outcome {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Err(error)) => {
                self.components.borrow_mut().put_instance(cid, instance);
                return self.refuse_event(msg_ref.as_deref(), &event, &error).await;
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
        let changed = instance.changed();
        self.components.borrow_mut().put_instance(cid, instance);
        if changed {
            self.rerender_component(cid)?;
        }
        self.finish_turn(msg_ref, None).await
    }

    /// `phx_leave`: the reply, then `phx_close` (Phoenix closes every channel that stops
    /// normally with `[join_ref, join_ref, topic, "phx_close", {}]`).
    async fn on_leave(&mut self, msg_ref: Option<String>) -> Result<Flow, Crash> {
        let frame = self.channel().ok(msg_ref.as_deref());
        send_text(&*self.out, frame).await;
        send_text(&*self.out, self.channel().closed()).await;
        Ok(Flow::Stop)
    }

    async fn on_cids_will_destroy(
        &mut self,
        msg_ref: Option<String>,
        payload: Queued,
    ) -> Result<Flow, Crash> {
        let cids = cids_of(payload.get());
        self.components.borrow_mut().will_destroy(&cids);
        let frame = self.channel().ok(msg_ref.as_deref());
        send_text(&*self.out, frame).await;
        Ok(Flow::Continue)
    }

    async fn on_cids_destroyed(
        &mut self,
        msg_ref: Option<String>,
        payload: Queued,
    ) -> Result<Flow, Crash> {
        let cids = cids_of(payload.get());
        let removed = self.components.borrow_mut().destroyed(&cids);
        let reply = payload::cids_reply(self.channel(), msg_ref.as_deref(), &removed);
        send_text(&*self.out, reply).await;
        Ok(Flow::Continue)
    }

    async fn on_info(&mut self, info: V::Info) -> Result<Flow, Crash> {
        if self.socket.info_hooks(&info) == HookFlow::Continue {
            callback(self.view.handle_info(&mut self.socket, info))
                .await
                .map_err(|message| Crash(format!("handle_info: {message}")))?;
        }
        self.finish_turn(None, None).await
    }

    /// After a callback: navigation, then render and diff; reply to `msg_ref` or push a diff.
    /// `extra` holds JSON members for the reply (an `allow_upload` preflight).
    pub(super) async fn finish_turn(
        &mut self,
        msg_ref: Option<String>,
        extra: Option<Vec<u8>>,
    ) -> Result<Flow, Crash> {
        self.stop_cancelled_uploads().await;
        self.take_component_requests();
        let mut unused = None;
        if let Some(navigation) = self.navigate(&mut unused).await? {
            let frame = match &msg_ref {
                Some(msg_ref) => navigation.reply(self.channel(), Some(msg_ref), true),
                None => navigation.push(self.channel()),
            };
            send_text(&*self.out, frame).await;
            // The channel stops normally: Phoenix follows with `phx_close`.
            send_text(&*self.out, self.channel().closed()).await;
            return Ok(Flow::Stop);
        }
        let rendered = if self.socket.is_changed() {
            Some(self.render()?)
        } else {
            None
        };
        // The payload is written straight into the frame: no intermediate diff buffer.
        let events = self.socket.take_events();
        // A reply goes only with the answer to a client message.
        let reply = self
            .socket
            .take_reply()
            .or_else(|| self.components.borrow_mut().reply.take())
            .filter(|_| msg_ref.is_some());
        let frame = {
            let channel = ChannelRef::new(Some(&self.join_ref), &self.topic);
            let mut components = self.components.borrow_mut();
            let turn = Turn {
                last: self.last.as_ref(),
                new: rendered.as_ref(),
                components: &mut components,
                title: self.socket.take_title_change(),
                events: &events,
                reply: reply.as_deref(),
            };
            match &msg_ref {
                Some(msg_ref) => Some(payload::turn_reply(
                    channel,
                    msg_ref,
                    extra.as_deref(),
                    turn,
                )),
                None => payload::diff_push(channel, turn),
            }
        };
        if let Some(new) = rendered {
            self.last = Some(new);
            self.socket.after_render();
        }
        if let Some(frame) = frame {
            send_text(&*self.out, frame).await;
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
