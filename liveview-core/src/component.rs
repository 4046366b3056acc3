//! Live components: stateful parts of a view with their own state, events and diffs
//! (LiveViewJS: `LiveComponent`; Phoenix: `Phoenix.LiveComponent`).

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use liveview_diff::{Dynamic, Rendered};
use serde::de::DeserializeOwned;

use crate::event::ClientEvent;
use crate::view::{Meta, ViewResult};

/// A component id, unique within its view (Phoenix's `cid`, LiveViewJS's `myself`).
pub type Cid = u32;

/// A stateful component rendered inside a view with [`Meta::live_component`].
///
/// Each `(component type, id)` pair rendered by a view is one component instance with its own
/// state: it is mounted the first time it is rendered, gets new props through
/// [`LiveComponent::update`] on every render of its parent, and handles the events its
/// elements target at it (`phx-target={meta.myself()}`). Only what changed in it is sent, in
/// the diff's `"c"` map.
///
/// A component's template must have exactly one root element.
///
/// ```
/// use liveview_core::{html, LiveComponent, ComponentSocket, Meta, Rendered, ViewResult};
/// use serde::Deserialize;
///
/// #[derive(Default)]
/// struct Card;
///
/// #[derive(Default)]
/// struct CardState { title: String, likes: u32 }
///
/// #[derive(Deserialize)]
/// #[serde(rename_all = "lowercase")]
/// enum CardEvent { Like }
///
/// impl LiveComponent for Card {
///     type State = CardState;
///     type Props = String;
///     type Event = CardEvent;
///
///     fn update(&self, socket: &mut ComponentSocket<Self>, title: String) {
///         socket.assign(|state| state.title = title);
///     }
///
///     async fn handle_event(&self, socket: &mut ComponentSocket<Self>, event: CardEvent) -> ViewResult {
///         let CardEvent::Like = event;
///         socket.assign(|state| state.likes += 1);
///         Ok(())
///     }
///
///     fn render(&self, state: &CardState, meta: &Meta<'_>) -> Rendered {
///         html! {
///             section.card {
///                 h2 { (&state.title) }
///                 button phx-click="like" phx-target=(meta.myself) { "♥ " (state.likes) }
///             }
///         }
///     }
/// }
///
/// // In a view's render: `(meta.live_component(Card, "card-1", "Hello".to_owned()))`.
/// let html = Meta::default().live_component(Card, "card-1", "Hello".to_owned());
/// assert!(matches!(html, liveview_core::diff::Dynamic::Nested(_)));
/// ```
pub trait LiveComponent: Send + Sync + Sized + 'static {
    /// The component's state, created with `Default` at mount.
    type State: Default + Send + 'static;
    /// What the parent passes on each render.
    type Props: Send + 'static;
    /// Events targeted at the component, decoded like a view's events.
    type Event: DeserializeOwned + Send + 'static;

    /// Runs once, when the component is first rendered (LiveViewJS: `mount`).
    fn mount(&self, socket: &mut ComponentSocket<Self>) {
        let _ = socket;
    }

    /// Applies the props of a parent render (LiveViewJS: `update`).
    fn update(&self, socket: &mut ComponentSocket<Self>, props: Self::Props);

    /// Handles an event targeted at this component (LiveViewJS: `handleEvent`).
    fn handle_event(
        &self,
        socket: &mut ComponentSocket<Self>,
        event: Self::Event,
    ) -> impl Future<Output = ViewResult> + Send {
        let _ = (socket, event);
        async { Ok(()) }
    }

    /// Runs on every progress update of an entry of this component's own uploads, and once
    /// more when its file is stored, like
    /// [`LiveView::handle_progress`](crate::LiveView::handle_progress) (Phoenix's `progress:`
    /// callback of a component's `allow_upload`). The default does nothing.
    fn handle_progress(
        &self,
        socket: &mut ComponentSocket<Self>,
        name: &str,
        entry: &liveview_upload::UploadEntry,
    ) -> impl Future<Output = ViewResult> + Send {
        let _ = (socket, name, entry);
        async { Ok(()) }
    }

    /// Renders the component; `meta.myself()` is its cid, for `phx-target`.
    fn render(&self, state: &Self::State, meta: &Meta<'_>) -> Rendered;
}

/// A component's state and its handle on the view (LiveViewJS: `LiveComponentSocket`).
pub struct ComponentSocket<C: LiveComponent> {
    cid: Cid,
    id: String,
    state: C::State,
    pub(crate) changed: bool,
    events: Vec<u8>,
    reply: Option<Vec<u8>>,
    parent: Option<ParentInfo>,
    /// The component's own uploads (`allow_upload`; see `component_uploads`).
    pub(crate) uploads: crate::Uploads,
}

type ParentInfo = Arc<dyn Fn(Box<dyn Any + Send>) + Send + Sync>;

impl<C: LiveComponent> ComponentSocket<C> {
    fn new(cid: Cid, id: String, parent: Option<ParentInfo>) -> Self {
        Self {
            cid,
            id,
            state: C::State::default(),
            changed: true,
            events: Vec::new(),
            reply: None,
            parent,
            uploads: crate::Uploads::default(),
        }
    }

    /// The component's cid (LiveViewJS: `myself`).
    pub fn myself(&self) -> Cid {
        self.cid
    }

    /// The id the parent gave this component.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The component's state (LiveViewJS: `socket.context`).
    pub fn context(&self) -> &C::State {
        &self.state
    }

    /// Updates the state (LiveViewJS: `socket.assign`); the component re-renders.
    pub fn assign<R>(&mut self, update: impl FnOnce(&mut C::State) -> R) -> R {
        self.changed = true;
        update(&mut self.state)
    }

    /// Pushes an event to the client, like [`Socket::push_event`](crate::Socket::push_event).
    pub fn push_event(&mut self, name: &str, payload: &impl serde::Serialize) {
        crate::json::push_event(&mut self.events, name, payload);
    }

    /// Replies to the event being handled, like [`Socket::reply`](crate::Socket::reply): a
    /// hook's `pushEventTo(myself, name, payload, reply => …)` receives `payload`.
    pub fn reply(&mut self, payload: &impl serde::Serialize) {
        let mut out = Vec::new();
        crate::json::write_value(payload, &mut out);
        self.reply = Some(out);
    }

    /// Sends `info` to the parent view's `handle_info` (LiveViewJS: `sendParentInfo`). It must be
    /// of the parent's `LiveView::Info` type; anything else is logged and dropped.
    pub fn send_parent_info<I: Any + Send>(&self, info: I) {
        if let Some(parent) = &self.parent {
            parent(Box::new(info));
        }
    }
}

impl<C: LiveComponent> fmt::Debug for ComponentSocket<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentSocket")
            .field("cid", &self.cid)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The components of one view, as `render` sees them through [`Meta`]. Without a registry
/// (the HTTP render, or a `Meta::default()` in tests) components render inline.
#[derive(Clone, Copy, Default)]
pub struct ComponentScope<'a> {
    pub(crate) registry: Option<&'a RefCell<Registry>>,
}

impl fmt::Debug for ComponentScope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentScope")
            .field("live", &self.registry.is_some())
            .finish()
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A component instance with its types erased.
pub(crate) trait ErasedComponent: Send {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn render(&mut self, meta: &Meta<'_>) -> Rendered;
    fn handle_event<'a>(
        &'a mut self,
        event: &'a ClientEvent,
    ) -> BoxFuture<'a, Result<ViewResult, crate::event::EventError>>;
    fn changed(&self) -> bool;
    fn take_events(&mut self) -> Vec<u8>;
    fn take_reply(&mut self) -> Option<Vec<u8>>;
    /// The component's own uploads; changing them re-renders it.
    fn uploads_mut(&mut self) -> &mut crate::Uploads;
    fn mark_changed(&mut self);
    fn handle_progress<'a>(
        &'a mut self,
        name: &'a str,
        entry: &'a liveview_upload::UploadEntry,
    ) -> BoxFuture<'a, ViewResult>;
}

struct Instance<C: LiveComponent> {
    component: C,
    socket: ComponentSocket<C>,
}

impl<C: LiveComponent> ErasedComponent for Instance<C> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn render(&mut self, meta: &Meta<'_>) -> Rendered {
        self.socket.changed = false;
        // A component with uploads of its own renders them (its file inputs, its entries).
        if self.socket.uploads.configs.is_empty() {
            self.component.render(&self.socket.state, meta)
        } else {
            let meta = Meta {
                uploads: &self.socket.uploads,
                ..*meta
            };
            self.component.render(&self.socket.state, &meta)
        }
    }

    fn handle_event<'a>(
        &'a mut self,
        event: &'a ClientEvent,
    ) -> BoxFuture<'a, Result<ViewResult, crate::event::EventError>> {
        Box::pin(async move {
            let typed = event.decode::<C::Event>()?;
            Ok(self.component.handle_event(&mut self.socket, typed).await)
        })
    }

    fn changed(&self) -> bool {
        self.socket.changed
    }

    fn take_events(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.socket.events)
    }

    fn take_reply(&mut self) -> Option<Vec<u8>> {
        self.socket.reply.take()
    }

    fn uploads_mut(&mut self) -> &mut crate::Uploads {
        &mut self.socket.uploads
    }

    fn mark_changed(&mut self) {
        self.socket.changed = true;
    }

    fn handle_progress<'a>(
        &'a mut self,
        name: &'a str,
        entry: &'a liveview_upload::UploadEntry,
    ) -> BoxFuture<'a, ViewResult> {
        Box::pin(
            self.component
                .handle_progress(&mut self.socket, name, entry),
        )
    }
}

/// One component slot of a view: the instance (taken out while it runs), the tree the client
/// holds, and the tree rendered in this turn.
pub(crate) struct Entry {
    instance: Option<Box<dyn ErasedComponent>>,
    pub(crate) sent: Option<Rendered>,
    pub(crate) fresh: Option<Rendered>,
}

/// The live components of one view.
#[derive(Default)]
pub(crate) struct Registry {
    by_key: HashMap<(TypeId, String), Cid>,
    pub(crate) entries: HashMap<Cid, Entry>,
    next_cid: Cid,
    /// Cids rendered since the last `cids_will_destroy`.
    rendered: HashSet<Cid>,
    /// Cids the client announced it will destroy.
    doomed: HashSet<Cid>,
    parent: Option<ParentInfo>,
    /// Events pushed by components.
    pub(crate) events: Vec<u8>,
    /// The reply of the component event being handled ([`ComponentSocket::reply`]).
    pub(crate) reply: Option<Vec<u8>>,
}

impl Registry {
    pub(crate) fn new(parent: ParentInfo) -> Self {
        Self {
            parent: Some(parent),
            next_cid: 1,
            ..Self::default()
        }
    }

    /// A registry whose components cannot reach a parent (the HTTP render).
    pub(crate) fn detached() -> Self {
        Self {
            next_cid: 1,
            ..Self::default()
        }
    }

    /// Writes the HTML of component `cid` as rendered this turn, components inside it included.
    pub(crate) fn write_html(&self, cid: Cid, out: &mut String) {
        if let Some(rendered) = self
            .entries
            .get(&cid)
            .and_then(|entry| entry.fresh.as_ref())
        {
            rendered.write_html_with(out, &mut |inner, out| self.write_html(inner, out));
        }
    }

    pub(crate) fn take_instance(&mut self, cid: Cid) -> Option<Box<dyn ErasedComponent>> {
        self.entries.get_mut(&cid)?.instance.take()
    }

    pub(crate) fn put_instance(&mut self, cid: Cid, mut instance: Box<dyn ErasedComponent>) {
        let events = instance.take_events();
        if !events.is_empty() {
            if !self.events.is_empty() {
                self.events.push(b',');
            }
            self.events.extend_from_slice(&events);
        }
        if let Some(reply) = instance.take_reply() {
            self.reply = Some(reply);
        }
        if let Some(entry) = self.entries.get_mut(&cid) {
            entry.instance = Some(instance);
        }
    }

    /// Marks cids the client will destroy.
    pub(crate) fn will_destroy(&mut self, cids: &[Cid]) {
        for cid in cids {
            self.rendered.remove(cid);
            self.doomed.insert(*cid);
        }
    }

    /// Forgets the doomed cids not rendered again since; returns them.
    pub(crate) fn destroyed(&mut self, cids: &[Cid]) -> Vec<Cid> {
        let mut removed = Vec::new();
        for cid in cids {
            if self.doomed.remove(cid)
                && !self.rendered.contains(cid)
                && self.entries.remove(cid).is_some()
            {
                self.by_key.retain(|_, value| value != cid);
                removed.push(*cid);
            }
        }
        removed
    }
}

impl<'a> Meta<'a> {
    /// Renders the stateful component `component` with id `id` and `props` (LiveViewJS:
    /// `meta.live_component`). Over the socket this is a component reference (its tree goes in
    /// the diff's `"c"` map, diffed on its own); in the HTTP render it is the component's HTML.
    pub fn live_component<C: LiveComponent>(
        &self,
        component: C,
        id: impl Into<String>,
        props: C::Props,
    ) -> Dynamic {
        let id = id.into();
        let Some(registry) = self.components.registry else {
            // Inline: a throwaway instance, rendered once.
            let mut socket = ComponentSocket::<C>::new(0, id, None);
            component.mount(&mut socket);
            component.update(&mut socket, props);
            return Dynamic::Nested(Box::new(component.render(&socket.state, self)));
        };
        let key = (TypeId::of::<C>(), id);
        let (cid, mut instance) = {
            let mut registry = registry.borrow_mut();
            match registry.by_key.get(&key).copied() {
                Some(cid) => match registry.take_instance(cid) {
                    Some(instance) => (cid, instance),
                    None => {
                        tracing::error!(cid, "a component rendered itself: ignored");
                        return Dynamic::EMPTY;
                    }
                },
                None => {
                    let cid = registry.next_cid;
                    registry.next_cid += 1;
                    let parent = registry.parent.clone();
                    let mut socket = ComponentSocket::<C>::new(cid, key.1.clone(), parent);
                    component.mount(&mut socket);
                    registry.by_key.insert(key, cid);
                    registry.entries.insert(
                        cid,
                        Entry {
                            instance: None,
                            sent: None,
                            fresh: None,
                        },
                    );
                    let instance: Box<dyn ErasedComponent> =
                        Box::new(Instance { component, socket });
                    (cid, instance)
                }
            }
        };
        if let Some(typed) = instance.as_any_mut().downcast_mut::<Instance<C>>() {
            typed.component.update(&mut typed.socket, props);
        }
        let rendered = render_instance(registry, cid, &mut *instance, self);
        let mut registry = registry.borrow_mut();
        registry.rendered.insert(cid);
        if let Some(entry) = registry.entries.get_mut(&cid) {
            entry.fresh = Some(rendered);
        }
        registry.put_instance(cid, instance);
        Dynamic::Component(cid)
    }
}

/// Renders a component instance (taken out of the registry) with its own `myself`.
pub(crate) fn render_instance(
    registry: &RefCell<Registry>,
    cid: Cid,
    instance: &mut dyn ErasedComponent,
    parent: &Meta<'_>,
) -> Rendered {
    let meta = Meta {
        myself: Some(cid),
        components: ComponentScope {
            registry: Some(registry),
        },
        ..*parent
    };
    instance.render(&meta)
}

/// Turns a parent's `Box<dyn Any>` info into its typed `Info`.
pub(crate) fn parent_info<I: Send + 'static>(
    send: impl Fn(I) + Send + Sync + 'static,
) -> ParentInfo {
    Arc::new(
        move |info: Box<dyn Any + Send>| match info.downcast::<I>() {
            Ok(info) => send(*info),
            Err(_) => {
                tracing::warn!("send_parent_info with a type that is not the view's Info: dropped")
            }
        },
    )
}
