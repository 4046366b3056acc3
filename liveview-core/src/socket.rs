//! The [`Socket`]: a view's state and its handle on the connection (LiveViewJS: `LiveViewSocket`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use liveview_pubsub::PubSub;
use liveview_upload::{Stored, UploadEntry, UploadError, UploadOptions};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::task::AbortHandle;

use crate::async_task::AsyncTasks;
use crate::info::InfoSender;
use crate::sender::Inbox;
pub use crate::uploads::{UploadedEntries, Uploads};
use crate::view::LiveView;

/// A view's state plus its handle on the client connection; every callback gets one.
///
/// Method names follow LiveViewJS's `LiveViewSocket` in `snake_case`; each method's doc names the
/// LiveViewJS call it corresponds to.
pub struct Socket<V: LiveView> {
    id: Arc<str>,
    connected: bool,
    pub(crate) state: V::State,
    pub(crate) changed: bool,
    temp_resets: Vec<Reset<V::State>>,
    title: Option<String>,
    title_changed: bool,
    events: Vec<u8>,
    reply: Option<Vec<u8>>,
    flash: Flash,
    navigation: Option<Navigation>,
    pub(crate) infos: Option<InfoSender<Inbox<V>>>,
    pubsub: Option<Arc<dyn PubSub>>,
    tasks: Vec<AbortHandle>,
    /// `assign_async`/`start_async` tasks, by name.
    pub(crate) async_tasks: AsyncTasks<V::State>,
    uploads: Uploads,
    /// Hook assigns, the route's action, connect params and info, lifecycle hooks.
    pub(crate) extras: crate::hooks::Extras<V>,
}

/// A `temp_assign` reset.
type Reset<S> = Box<dyn Fn(&mut S) + Send + Sync>;

/// Where a callback asked the client to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Navigation {
    /// `push_patch`: same view, new URL; `handle_params` runs.
    Patch { to: String, replace: bool },
    /// `push_redirect`: another view over the same socket.
    LiveRedirect { to: String, replace: bool },
    /// `redirect`: a full page load.
    Redirect { to: String },
}

impl<V: LiveView> Socket<V> {
    pub(crate) fn new(
        id: Arc<str>,
        connected: bool,
        infos: Option<InfoSender<Inbox<V>>>,
        pubsub: Option<Arc<dyn PubSub>>,
    ) -> Self {
        Self {
            id,
            connected,
            state: V::State::default(),
            changed: true,
            temp_resets: Vec::new(),
            title: None,
            title_changed: false,
            events: Vec::new(),
            reply: None,
            flash: Flash::default(),
            navigation: None,
            infos,
            pubsub,
            tasks: Vec::new(),
            async_tasks: AsyncTasks::default(),
            uploads: Uploads::default(),
            extras: crate::hooks::Extras::default(),
        }
    }

    /// The view's id, random per view and stable for its life; the DOM id of its container
    /// (LiveViewJS: `socket.id`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `false` during the HTTP render, `true` over the WebSocket (LiveViewJS: `socket.connected`).
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// The view's state (LiveViewJS: `socket.context`), borrowed, never cloned.
    pub fn context(&self) -> &V::State {
        &self.state
    }

    /// Updates the state (LiveViewJS: `socket.assign`); the view re-renders after the callback
    /// and the client gets the diff of what changed.
    pub fn assign<R>(&mut self, update: impl FnOnce(&mut V::State) -> R) -> R {
        self.changed = true;
        update(&mut self.state)
    }

    /// Replaces the whole state (LiveViewJS: `socket.assign` with every key).
    pub fn assign_all(&mut self, state: V::State) {
        self.changed = true;
        self.state = state;
    }

    /// Registers a reset that runs after every render (LiveViewJS: `socket.tempAssign`): use it
    /// for values the page keeps once rendered (an appended chat log in a
    /// `phx-update="append"` container, a stream), so the server does not hold them.
    ///
    /// ```
    /// # use liveview_core::{LiveView, Socket, Meta, Rendered, html};
    /// # #[derive(Default)] struct Chat;
    /// # #[derive(Default)] struct State { messages: Vec<String> }
    /// # impl LiveView for Chat { type State = State; type Event = (); type Info = ();
    /// #   fn render(&self, _: &State, _: &Meta<'_>) -> Rendered { html! {} } }
    /// fn setup(socket: &mut Socket<Chat>) {
    ///     socket.temp_assign(|state| state.messages.clear());
    /// }
    /// ```
    pub fn temp_assign(&mut self, reset: impl Fn(&mut V::State) + Send + Sync + 'static) {
        self.temp_resets.push(Box::new(reset));
    }

    /// Sets the page title (LiveViewJS: `socket.pageTitle`); rendered into `<title>` on the HTTP
    /// render and sent as `"t"` over the socket.
    pub fn page_title(&mut self, title: impl Into<String>) {
        let title = title.into();
        if self.title.as_deref() != Some(title.as_str()) {
            self.title = Some(title);
            self.title_changed = true;
        }
    }

    /// Adds a flash message under `key`, shown on the next render (LiveViewJS:
    /// `socket.putFlash`); it survives a `push_redirect`.
    pub fn put_flash(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.flash.0.insert(key.into(), message.into());
        self.changed = true;
    }

    /// Removes the flash under `key`, or every flash with `None`.
    pub fn clear_flash(&mut self, key: Option<&str>) {
        match key {
            Some(key) => {
                self.flash.0.remove(key);
            }
            None => self.flash.0.clear(),
        }
        self.changed = true;
    }

    /// Pushes an event to the client (LiveViewJS: `socket.pushEvent`): hooks receive it through
    /// `this.handleEvent(name, …)`, and `window` gets a `phx:<name>` event. The payload must
    /// serialize to a JSON object.
    pub fn push_event(&mut self, name: &str, payload: &impl Serialize) {
        crate::json::push_event(&mut self.events, name, payload);
    }

    /// Replies to the event being handled (Phoenix: `{:reply, map, socket}`): a hook's
    /// `this.pushEvent(name, payload, (reply, ref) => …)` (or `pushEventTo`) receives
    /// `payload`, which must serialize to a JSON object. It travels as the reply's `"r"`
    /// member; the last call in a turn wins, and a reply set outside an event turn (in
    /// `handle_info`, `mount`) is dropped.
    ///
    /// ```
    /// use liveview_core::{html, LiveView, Meta, Rendered, Socket, ViewResult};
    /// use serde::Deserialize;
    ///
    /// #[derive(Default)]
    /// struct Clock;
    /// #[derive(Deserialize)]
    /// #[serde(tag = "event", content = "value", rename_all = "snake_case")]
    /// enum Event { Now {} }
    ///
    /// impl LiveView for Clock {
    ///     type State = ();
    ///     type Event = Event;
    ///     type Info = ();
    ///     async fn handle_event(&self, socket: &mut Socket<Self>, _event: Event) -> ViewResult {
    ///         socket.reply(&serde_json::json!({ "now": "12:00" }));
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &(), _: &Meta<'_>) -> Rendered {
    ///         html! { div #clock phx-hook="Clock" {} }
    ///     }
    /// }
    /// ```
    pub fn reply(&mut self, payload: &impl Serialize) {
        let mut out = Vec::new();
        crate::json::write_value(payload, &mut out);
        self.reply = Some(out);
    }

    /// Changes the URL without remounting (LiveViewJS: `socket.pushPatch`): `handle_params`
    /// runs with the new URL and its changes are rendered in the same turn. `replace` replaces
    /// the browser history entry instead of pushing one.
    pub fn push_patch(&mut self, to: impl Into<String>, replace: bool) {
        self.navigation = Some(Navigation::Patch {
            to: to.into(),
            replace,
        });
    }

    /// Shuts this view down and mounts the view at `to` over the same socket, without a page
    /// load (LiveViewJS: `socket.pushRedirect`; Phoenix: `push_navigate`).
    pub fn push_redirect(&mut self, to: impl Into<String>, replace: bool) {
        self.navigation = Some(Navigation::LiveRedirect {
            to: to.into(),
            replace,
        });
    }

    /// Sends the browser to `to` with a full page load (Phoenix: `redirect`).
    pub fn redirect(&mut self, to: impl Into<String>) {
        self.navigation = Some(Navigation::Redirect { to: to.into() });
    }

    /// Sends a message to this view's `handle_info`, delivered after the current callback
    /// returns (LiveViewJS: `socket.sendInfo`). Ignored during the HTTP render.
    ///
    /// The view's info queue holds [`Config::info_queue`](crate::Config::info_queue) messages;
    /// a view that fills it (say, a client whose every event queues slow work) has outrun its
    /// own capacity, and is ended as if it had crashed: the client rejoins with a fresh mount.
    /// Dropping the message instead would leave the page waiting for a result that never comes.
    /// The queue bounds the number of infos, not their size: an info built from client input
    /// (a search query) should keep only what the work needs.
    pub fn send_info(&self, info: V::Info) {
        if let Some(infos) = &self.infos {
            infos.try_send(Inbox::Info(info));
        }
    }

    /// Every `interval`, sends `make_info()` to `handle_info`, until the view ends (LiveViewJS:
    /// `socket.repeat`). Does nothing during the HTTP render.
    pub fn repeat(&mut self, interval: Duration, make_info: impl Fn() -> V::Info + Send + 'static) {
        let Some(infos) = self.infos.clone() else {
            return;
        };
        let task = tokio::spawn(async move {
            let mut ticker =
                tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                // Waits while the view's queue is full: a slow view gets fewer ticks.
                if infos.send(Inbox::Info(make_info())).await.is_err() {
                    break;
                }
            }
        });
        self.tasks.push(task.abort_handle());
    }

    /// Subscribes the view to `topic` (LiveViewJS: `socket.subscribe`): every message published
    /// on it (JSON, e.g. with [`PubSubExt::publish_json`](liveview_pubsub::PubSubExt)) is
    /// decoded into `V::Info` and handed to `handle_info`. The subscription ends with the view.
    /// Does nothing during the HTTP render. Messages that do not decode are logged and skipped.
    pub async fn subscribe(&mut self, topic: &str) -> Result<(), liveview_pubsub::Error>
    where
        V::Info: DeserializeOwned,
    {
        let (Some(pubsub), Some(infos)) = (&self.pubsub, &self.infos) else {
            return Ok(());
        };
        let subscription = pubsub.subscribe(topic).await?;
        let infos = infos.clone();
        self.forward_to(subscription, infos);
        Ok(())
    }

    /// Hands the messages of a subscription made elsewhere to `handle_info`, decoded from
    /// JSON into `V::Info` like [`Socket::subscribe`]'s, until the view ends (the
    /// subscription is dropped with it). For subscriptions that are not on the endpoint's
    /// backend, such as the node-local diffs of
    /// [`Presence::subscribe`](liveview_pubsub::Presence::subscribe). During the HTTP render
    /// the subscription is dropped at once.
    ///
    /// ```
    /// # use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
    /// use liveview_core::pubsub::{Presence, PresenceDiff};
    ///
    /// struct Room {
    ///     presence: Presence,
    /// }
    ///
    /// impl LiveView for Room {
    ///     type State = ();
    ///     type Event = ();
    ///     type Info = PresenceDiff;
    ///
    ///     async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
    ///         if socket.connected() {
    ///             let diffs = self.presence.subscribe("room").await?;
    ///             socket.forward(diffs);
    ///         }
    ///         Ok(())
    ///     }
    ///
    ///     async fn handle_info(&self, socket: &mut Socket<Self>, diff: PresenceDiff) -> ViewResult {
    ///         // Update the list shown.
    /// #       let _ = (socket, diff);
    ///         Ok(())
    ///     }
    /// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! {} }
    /// }
    /// ```
    pub fn forward(&mut self, subscription: liveview_pubsub::Subscription)
    where
        V::Info: DeserializeOwned,
    {
        if let Some(infos) = self.infos.clone() {
            self.forward_to(subscription, infos);
        }
    }

    fn forward_to(
        &mut self,
        mut subscription: liveview_pubsub::Subscription,
        infos: InfoSender<Inbox<V>>,
    ) where
        V::Info: DeserializeOwned,
    {
        let task = tokio::spawn(async move {
            while let Some(message) = subscription.recv().await {
                match serde_json::from_slice::<V::Info>(&message) {
                    Ok(info) => {
                        // Waits while the view's queue is full; meanwhile the subscription's
                        // own bounded queue fills, and the backend drops what overflows it.
                        if infos.send(Inbox::Info(info)).await.is_err() {
                            break;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(topic = %crate::Untrusted(subscription.topic()), error = %crate::Untrusted(&error.to_string()), "undecodable pub/sub message");
                    }
                }
            }
        });
        self.tasks.push(task.abort_handle());
    }

    /// Publishes `message` as JSON on `topic` through the endpoint's pub/sub backend (to every
    /// subscribed view, this one included if subscribed). Does nothing during the HTTP render.
    pub async fn broadcast<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        message: &T,
    ) -> Result<(), liveview_pubsub::Error> {
        match &self.pubsub {
            Some(pubsub) => {
                liveview_pubsub::PubSubExt::publish_json(&**pubsub, topic, message).await
            }
            None => Ok(()),
        }
    }

    /// The endpoint's pub/sub backend (`None` during the HTTP render).
    pub fn pubsub(&self) -> Option<&Arc<dyn PubSub>> {
        self.pubsub.as_ref()
    }

    /// Allows file uploads under `name` (Phoenix: `allow_upload/3`; LiveViewJS:
    /// `socket.allowUpload`): accepted types, sizes, number of files, chunking, where the
    /// files go ([`UploadOptions::storage`], else the endpoint's
    /// [`upload_storage`](crate::EndpointBuilder::upload_storage)) or whether the client
    /// sends them elsewhere itself ([`UploadOptions::external`]). Render the input with
    /// [`Uploads::file_input`] from [`Meta::uploads`](crate::Meta). Allowing `name` again
    /// replaces its config and cancels its entries.
    pub fn allow_upload(
        &mut self,
        name: impl Into<String>,
        options: UploadOptions,
    ) -> Result<(), UploadError> {
        self.uploads.allow(name.into(), options)?;
        self.changed = true;
        Ok(())
    }

    /// Cancels the upload of entry `entry_ref` of the upload `name` (LiveViewJS:
    /// `socket.cancelUpload`); its file, if any, is deleted.
    pub fn cancel_upload(&mut self, name: &str, entry_ref: &str) -> Result<(), UploadError> {
        self.uploads.cancel_entry(name, entry_ref)?;
        self.changed = true;
        Ok(())
    }

    /// Consumes the finished entries of upload `name` (Phoenix: `consume_uploaded_entries/3`;
    /// LiveViewJS: `socket.consumeUploadedEntries`): `consume` gets what was stored of each
    /// entry and the entry, and the entries are removed. Entries still uploading are left
    /// alone. Returns the callback's results.
    ///
    /// What was stored depends on the upload's storage ([`Stored`]): a temporary file by
    /// default ([`Stored::File`]: call [`persist`](crate::UploadedFile::persist) to keep it,
    /// otherwise it is deleted when the callback returns), the bytes for
    /// [`MemoryStorage`](crate::upload::MemoryStorage), the presigner's fields for an
    /// external upload (check that the object arrived), your own storage's value
    /// ([`Stored::downcast`]). To finish the work in async code, return the value itself.
    pub fn consume_uploaded_entries<T>(
        &mut self,
        name: &str,
        consume: impl FnMut(Stored, &UploadEntry) -> T,
    ) -> Result<Vec<T>, UploadError> {
        let results = self.uploads.consume_entries(name, consume)?;
        self.changed = true;
        Ok(results)
    }

    /// The entries of upload `name`, finished and in progress (LiveViewJS:
    /// `socket.uploadedEntries`).
    pub fn uploaded_entries(&self, name: &str) -> Result<UploadedEntries<'_>, UploadError> {
        self.uploads.entries_of(name)
    }

    /// Ties a background task to the view: it is aborted when the view ends.
    pub fn spawn_owned(&mut self, task: AbortHandle) {
        self.tasks.push(task);
    }

    // The runtime's side of the socket: what a turn reads and resets.

    /// Marks the state changed (the runtime changed something the render shows).
    pub(crate) fn mark_changed(&mut self) {
        self.changed = true;
    }

    /// Whether the state changed since the last render.
    pub(crate) fn is_changed(&self) -> bool {
        self.changed
    }

    /// The title if `page_title` changed it since the last call (`""` for none).
    pub(crate) fn take_title_change(&mut self) -> Option<&str> {
        if !std::mem::take(&mut self.title_changed) {
            return None;
        }
        Some(self.title.as_deref().unwrap_or(""))
    }

    /// The title set during the HTTP render.
    pub(crate) fn take_title(&mut self) -> Option<String> {
        self.title_changed = false;
        self.title.take()
    }

    /// The flash messages.
    pub(crate) fn flash(&self) -> &Flash {
        &self.flash
    }

    /// Replaces the flash (the one carried into a render or a join).
    pub(crate) fn set_flash(&mut self, flash: Flash) {
        self.flash = flash;
    }

    /// The navigation the last callback asked for, if any.
    pub(crate) fn take_navigation(&mut self) -> Option<Navigation> {
        self.navigation.take()
    }

    /// Replaces a pending navigation (a patch that must become a live redirect).
    pub(crate) fn set_navigation(&mut self, navigation: Navigation) {
        self.navigation = Some(navigation);
    }

    /// Where the last callback asked to go, without taking it.
    pub(crate) fn navigation(&self) -> Option<&Navigation> {
        self.navigation.as_ref()
    }

    /// The view's uploads.
    pub(crate) fn uploads(&self) -> &Uploads {
        &self.uploads
    }

    /// The view's uploads, to change (the runtime marks the state changed itself).
    pub(crate) fn uploads_mut(&mut self) -> &mut Uploads {
        &mut self.uploads
    }

    /// The entry refs cancelled since the last call (their upload channels must stop).
    pub(crate) fn take_cancelled_uploads(&mut self) -> Vec<String> {
        std::mem::take(&mut self.uploads.cancelled)
    }

    pub(crate) fn after_render(&mut self) {
        self.changed = false;
        for reset in &self.temp_resets {
            reset(&mut self.state);
        }
        if self.connected {
            if let Err(message) = crate::catch::catch_sync(|| self.render_hooks()) {
                tracing::error!(message = %crate::Untrusted(&message), "after_render hook failed");
            }
        }
    }

    pub(crate) fn take_events(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.events)
    }

    /// The reply set by the turn's callback, if any (see [`Socket::reply`]).
    pub(crate) fn take_reply(&mut self) -> Option<Vec<u8>> {
        self.reply.take()
    }

    pub(crate) fn stop_tasks(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        self.async_tasks.cancel_all();
    }
}

impl<V: LiveView> Drop for Socket<V> {
    fn drop(&mut self) {
        self.stop_tasks();
    }
}

impl<V: LiveView> fmt::Debug for Socket<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .field("connected", &self.connected)
            .finish_non_exhaustive()
    }
}

/// Flash messages by key (`info`, `error`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Flash(pub(crate) BTreeMap<String, String>);

impl Flash {
    pub(crate) const EMPTY: Flash = Flash(BTreeMap::new());

    /// The message under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Whether there are no messages.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages as `(key, message)`, sorted by key (Phoenix: `@flash` is a map).
    ///
    /// ```
    /// use liveview_core::{html, Flash};
    /// let flash: Flash = serde_json::from_str(r#"{"info": "Saved", "error": "Late"}"#).unwrap();
    /// let keys: Vec<&str> = flash.iter().map(|(key, _)| key).collect();
    /// assert_eq!(keys, ["error", "info"]);
    /// let page = html! { @for (key, message) in &flash { p class=(key) { (message) } } };
    /// assert_eq!(page.to_html(), r#"<p class="error">Late</p><p class="info">Saved</p>"#);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.0
            .iter()
            .map(|(key, message)| (key.as_str(), message.as_str()))
    }

    /// How many messages there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<'a> IntoIterator for &'a Flash {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::collections::btree_map::Iter<'a, String, String>,
        fn((&'a String, &'a String)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0
            .iter()
            .map(|(key, message)| (key.as_str(), message.as_str()))
    }
}
