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

use crate::async_task::{AsyncDone, AsyncValue, Finished};
pub use crate::component_socket::ComponentSocket;
use crate::component_socket::{ParentInfo, ViewLink};
use crate::event::ClientEvent;
use crate::sender::ComponentMailbox;
use crate::socket::Navigation;
use crate::view::{Meta, ViewResult};

/// A component id, unique within its view (Phoenix's `cid`, LiveViewJS's `myself`).
pub type Cid = u32;

/// A stateful component rendered inside a view with [`Meta::live_component`].
///
/// Each `(component type, id)` pair rendered by a view is one component instance with its own
/// state: it is mounted the first time it is rendered, gets new props through
/// [`LiveComponent::update`] when a render of its parent passes props that differ (`!=`)
/// from the last ones it got (Phoenix's change tracking: state the component set in its own
/// events is not overwritten by a parent render that did not change its props), and handles
/// the events its elements target at it (`phx-target={meta.myself()}`). Only what changed in
/// it is sent, in the diff's `"c"` map. All the instances of one type rendered in one render
/// are updated by one [`LiveComponent::update_many`] call (Phoenix: `update_many/1`), after
/// the parent's render and before theirs; [`Socket::send_update`](crate::Socket::send_update)
/// runs `update` with new props from outside a render.
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
    /// What the parent passes on each render; `update` runs only when they differ from the
    /// last props the component got.
    type Props: PartialEq + Clone + Send + 'static;
    /// Events targeted at the component, decoded like a view's events.
    type Event: DeserializeOwned + Send + 'static;

    /// Runs once, when the component is first rendered (LiveViewJS: `mount`).
    fn mount(&self, socket: &mut ComponentSocket<Self>) {
        let _ = socket;
    }

    /// Applies new props (LiveViewJS: `update`): from a parent render whose props changed,
    /// or from a `send_update`.
    fn update(&self, socket: &mut ComponentSocket<Self>, props: Self::Props);

    /// Applies the new props of every instance of this type rendered in one render, in one
    /// call (Phoenix: `update_many/1`): preload what they need in one query, then assign.
    /// The default runs [`update`](Self::update) for each.
    ///
    /// ```
    /// # use liveview_core::{html, ComponentSocket, LiveComponent, Meta, Rendered};
    /// # #[derive(Default)] struct User;
    /// # fn names_of(ids: &[u32]) -> Vec<String> { ids.iter().map(|i| format!("user {i}")).collect() }
    /// impl LiveComponent for User {
    ///     type State = String;
    ///     type Props = u32;
    ///     type Event = ();
    ///
    ///     fn update(&self, socket: &mut ComponentSocket<Self>, id: u32) {
    ///         self.update_many(vec![(socket, id)]);
    ///     }
    ///
    ///     fn update_many(&self, batch: Vec<(&mut ComponentSocket<Self>, u32)>) {
    ///         let ids: Vec<u32> = batch.iter().map(|(_, id)| *id).collect();
    ///         let names = names_of(&ids); // one query for all of them
    ///         for ((socket, _), name) in batch.into_iter().zip(names) {
    ///             socket.assign(|state| *state = name);
    ///         }
    ///     }
    /// #   fn render(&self, name: &String, _: &Meta<'_>) -> Rendered { html! { p { (name) } } }
    /// }
    /// ```
    fn update_many(&self, batch: Vec<(&mut ComponentSocket<Self>, Self::Props)>) {
        for (socket, props) in batch {
            self.update(socket, props);
        }
    }

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

    /// Handles the result of a task started with [`ComponentSocket::start_async`] (Phoenix:
    /// `handle_async/3` in a component). The default ignores it.
    fn handle_async(
        &self,
        socket: &mut ComponentSocket<Self>,
        name: &str,
        result: Result<AsyncValue, String>,
    ) -> impl Future<Output = ViewResult> + Send {
        let _ = (socket, name, result);
        async { Ok(()) }
    }

    /// Renders the component; `meta.myself()` is its cid, for `phx-target`.
    fn render(&self, state: &Self::State, meta: &Meta<'_>) -> Rendered;
}

/// The components of one view, as `render` sees them through [`Meta`]. Without a registry
/// (the HTTP render, or a `Meta::default()` in tests) components render inline.
#[derive(Clone, Copy, Default)]
pub struct ComponentScope<'a> {
    pub(crate) registry: Option<&'a RefCell<Registry>>,
    /// Where nested views' containers come from (see [`Meta::live_render`]).
    pub(crate) nested: Option<crate::nested::NestedScope<'a>>,
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
    /// A finished async task of this component; `None` when it is stale (nothing to do).
    fn finish_async(&mut self, done: AsyncDone) -> Option<BoxFuture<'_, ViewResult>>;
    /// `send_update`: `update` with these props; `false` if they are of another type.
    fn update_any(&mut self, props: Box<dyn Any + Send>) -> bool;
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
    /// Navigation and flash the component asked for since the last call.
    fn take_requests(&mut self) -> (Option<Navigation>, Vec<(String, String)>);
}

pub(crate) struct Instance<C: LiveComponent> {
    component: C,
    socket: ComponentSocket<C>,
    /// The props of the last update (a parent render with equal props skips `update`).
    props: Option<C::Props>,
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

    fn finish_async(&mut self, done: AsyncDone) -> Option<BoxFuture<'_, ViewResult>> {
        match self.socket.finish_async(done) {
            Finished::Stale => None,
            Finished::Assigned => Some(Box::pin(async { Ok(()) })),
            Finished::Started(name, result) => Some(Box::pin(async move {
                self.component
                    .handle_async(&mut self.socket, &name, result)
                    .await
            })),
        }
    }

    fn update_any(&mut self, props: Box<dyn Any + Send>) -> bool {
        match props.downcast::<C::Props>() {
            Ok(props) => {
                self.props = Some((*props).clone());
                self.component.update(&mut self.socket, *props);
                true
            }
            Err(_) => false,
        }
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

    fn take_requests(&mut self) -> (Option<Navigation>, Vec<(String, String)>) {
        (
            self.socket.navigation.take(),
            std::mem::take(&mut self.socket.flash),
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

/// Runs `update_many` for instances of one type: each with its new props.
type Batch = fn(Vec<(&mut dyn ErasedComponent, Box<dyn Any + Send>)>);

/// A component referenced by this render, waiting for its update and render.
struct Pending {
    cid: Cid,
    type_id: TypeId,
    /// New props, if they changed.
    props: Option<Box<dyn Any + Send>>,
    batch: Batch,
}

/// How many rounds of nested components one render may have (a component rendering
/// components rendering components…).
const MAX_NESTING: usize = 64;

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
    link: ViewLink,
    /// Components referenced by the render running now, updated and rendered after it.
    pending: Vec<Pending>,
    /// Events pushed by components.
    pub(crate) events: Vec<u8>,
    /// The reply of the component event being handled ([`ComponentSocket::reply`]).
    pub(crate) reply: Option<Vec<u8>>,
    /// The last navigation a component asked for.
    pub(crate) navigation: Option<Navigation>,
    /// Flash messages components put.
    pub(crate) flash: Vec<(String, String)>,
}

impl Registry {
    pub(crate) fn new(parent: ParentInfo, mailbox: Arc<dyn ComponentMailbox>) -> Self {
        Self {
            link: ViewLink {
                parent: Some(parent),
                mailbox: Some(mailbox),
                connected: true,
                pending_async: None,
            },
            next_cid: 1,
            ..Self::default()
        }
    }

    /// A registry whose components cannot reach a parent (the HTTP render).
    /// Counts the async tasks of this registry's components in `pending` too.
    #[cfg(feature = "testing")]
    pub(crate) fn share_async_count(&mut self, pending: Arc<std::sync::atomic::AtomicUsize>) {
        self.link.pending_async = Some(pending);
    }

    pub(crate) fn detached() -> Self {
        Self {
            next_cid: 1,
            ..Self::default()
        }
    }

    /// The cid of the `type_id` component with id `id`.
    pub(crate) fn cid_of(&self, type_id: TypeId, id: &str) -> Option<Cid> {
        self.by_key.get(&(type_id, id.to_owned())).copied()
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
        let (navigation, flash) = instance.take_requests();
        if navigation.is_some() {
            self.navigation = navigation;
        }
        self.flash.extend(flash);
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
    /// The component is updated (if `props` changed) and rendered right after the render that
    /// references it.
    pub fn live_component<C: LiveComponent>(
        &self,
        component: C,
        id: impl Into<String>,
        props: C::Props,
    ) -> Dynamic {
        let id = id.into();
        let Some(registry) = self.components.registry else {
            // Inline: a throwaway instance, rendered once.
            let mut socket = ComponentSocket::<C>::new(0, id, ViewLink::default());
            component.mount(&mut socket);
            component.update(&mut socket, props);
            return Dynamic::Nested(Box::new(component.render(&socket.state, self)));
        };
        let key = (TypeId::of::<C>(), id);
        let mut registry = registry.borrow_mut();
        let cid = match registry.by_key.get(&key).copied() {
            Some(cid) => cid,
            None => {
                let cid = registry.next_cid;
                registry.next_cid += 1;
                let mut socket =
                    ComponentSocket::<C>::new(cid, key.1.clone(), registry.link.clone());
                component.mount(&mut socket);
                registry.by_key.insert(key, cid);
                let instance: Box<dyn ErasedComponent> = Box::new(Instance {
                    component,
                    socket,
                    props: None,
                });
                registry.entries.insert(
                    cid,
                    Entry {
                        instance: Some(instance),
                        sent: None,
                        fresh: None,
                    },
                );
                cid
            }
        };
        let Some(instance) = registry
            .entries
            .get_mut(&cid)
            .and_then(|entry| entry.instance.as_mut())
        else {
            tracing::error!(cid, "a component rendered itself: ignored");
            return Dynamic::EMPTY;
        };
        let changed = instance
            .as_any_mut()
            .downcast_mut::<Instance<C>>()
            .is_some_and(|typed| typed.props.as_ref() != Some(&props));
        registry.pending.push(Pending {
            cid,
            type_id: TypeId::of::<C>(),
            props: changed.then(|| Box::new(props) as Box<dyn Any + Send>),
            batch: batch_update::<C>,
        });
        Dynamic::Component(cid)
    }
}

/// `update_many` for the instances of `C`, each with its new props.
fn batch_update<C: LiveComponent>(items: Vec<(&mut dyn ErasedComponent, Box<dyn Any + Send>)>) {
    let mut component = None;
    let mut batch = Vec::with_capacity(items.len());
    for (instance, props) in items {
        let (Some(typed), Ok(props)) = (
            instance.as_any_mut().downcast_mut::<Instance<C>>(),
            props.downcast::<C::Props>(),
        ) else {
            continue;
        };
        let Instance {
            component: own,
            socket,
            props: last,
        } = typed;
        *last = Some((*props).clone());
        component.get_or_insert(&*own);
        batch.push((socket, *props));
    }
    if let Some(component) = component {
        component.update_many(batch);
    }
}

/// Updates and renders the components referenced by the render that just ran (and the ones
/// their renders reference, round after round). Each instance of a type whose props changed
/// is updated in one `update_many` call per type and round.
pub(crate) fn flush(registry: &RefCell<Registry>, meta: &Meta<'_>) {
    let mut done = HashSet::new();
    for _ in 0..MAX_NESTING {
        let mut pending = std::mem::take(&mut registry.borrow_mut().pending);
        if pending.is_empty() {
            return;
        }
        update_round(registry, &mut pending);
        for Pending { cid, .. } in pending {
            if !done.insert(cid) {
                tracing::error!(cid, "a component is rendered twice in one render: ignored");
                continue;
            }
            render_component(registry, cid, meta);
        }
    }
    tracing::error!(
        "components nested more than {MAX_NESTING} deep: the deeper ones are not rendered"
    );
    registry.borrow_mut().pending.clear();
}

/// Runs the `update_many` calls of one round, one per component type, in render order.
fn update_round(registry: &RefCell<Registry>, pending: &mut [Pending]) {
    let mut types: Vec<(TypeId, Batch)> = Vec::new();
    for item in pending.iter().filter(|item| item.props.is_some()) {
        if !types.iter().any(|(type_id, _)| *type_id == item.type_id) {
            types.push((item.type_id, item.batch));
        }
    }
    for (type_id, batch) in types {
        let mut instances: Vec<(Cid, Box<dyn ErasedComponent>)> = Vec::new();
        let mut props = Vec::new();
        for item in pending.iter_mut().filter(|item| item.type_id == type_id) {
            let Some(new) = item.props.take() else {
                continue;
            };
            // `None` for an instance already taken (listed twice, or rendering itself).
            let Some(instance) = registry.borrow_mut().take_instance(item.cid) else {
                continue;
            };
            instances.push((item.cid, instance));
            props.push(new);
        }
        let items = instances
            .iter_mut()
            .zip(props)
            .map(|((_, instance), props)| (&mut **instance as &mut dyn ErasedComponent, props))
            .collect();
        batch(items);
        let mut registry = registry.borrow_mut();
        for (cid, instance) in instances {
            registry.put_instance(cid, instance);
        }
    }
}

/// Renders component `cid` (taken out of the registry while it renders), then the
/// components its render references; keeps the tree for this turn's `"c"` map.
pub(crate) fn render_component(registry: &RefCell<Registry>, cid: Cid, meta: &Meta<'_>) {
    let Some(mut instance) = registry.borrow_mut().take_instance(cid) else {
        return;
    };
    let scoped = Meta {
        myself: Some(cid),
        components: ComponentScope {
            registry: Some(registry),
            nested: meta.components.nested,
        },
        ..*meta
    };
    let rendered = instance.render(&scoped);
    let mut reg = registry.borrow_mut();
    reg.rendered.insert(cid);
    if let Some(entry) = reg.entries.get_mut(&cid) {
        entry.fresh = Some(rendered);
    }
    reg.put_instance(cid, instance);
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
