//! [`ComponentSocket`]: a live component's state and its handle on its view (LiveViewJS:
//! `LiveComponentSocket`; Phoenix: the component's `socket`).

use std::any::Any;
use std::fmt::{self, Display};
use std::future::Future;
use std::sync::Arc;

use crate::async_task::{assign_into, AsyncDone, AsyncResult, AsyncTasks, Deliver, Finished};
use crate::component::{Cid, LiveComponent};
use crate::sender::{ComponentMailbox, ComponentMsg};
use crate::socket::Navigation;

pub(crate) type ParentInfo = Arc<dyn Fn(Box<dyn Any + Send>) + Send + Sync>;

/// What a component's socket reaches of its view (none of it in the HTTP render).
#[derive(Clone, Default)]
pub(crate) struct ViewLink {
    pub(crate) parent: Option<ParentInfo>,
    pub(crate) mailbox: Option<Arc<dyn ComponentMailbox>>,
    pub(crate) connected: bool,
    /// The view's count of pending async tasks, shared with its components (only kept for
    /// the test toolkit).
    pub(crate) pending_async: Option<Arc<std::sync::atomic::AtomicUsize>>,
}

/// A component's state and its handle on the view (LiveViewJS: `LiveComponentSocket`).
///
/// Besides its own state, a component can ask things of its view: navigation and flash
/// (carried out by the view's turn, as Phoenix does for `push_patch`, `push_navigate`,
/// `redirect` and `put_flash` in a component), `send_update` to another component, and async
/// work of its own.
///
/// ```
/// use liveview_core::{html, ComponentSocket, LiveComponent, Meta, Rendered, ViewResult};
/// # #[derive(Default)] struct Badge;
/// # impl LiveComponent for Badge { type State = u32; type Props = u32; type Event = ();
/// #   fn update(&self, s: &mut ComponentSocket<Self>, n: u32) { s.assign(|c| *c = n); }
/// #   fn render(&self, n: &u32, _: &Meta<'_>) -> Rendered { html! { b { (n) } } } }
/// #[derive(Default)]
/// struct Row;
///
/// #[derive(serde::Deserialize)]
/// #[serde(rename_all = "kebab-case")]
/// enum RowEvent { Open, Save, Leave, Count }
///
/// impl LiveComponent for Row {
///     type State = ();
///     type Props = u32;
///     type Event = RowEvent;
///
///     fn update(&self, _: &mut ComponentSocket<Self>, _: u32) {}
///
///     async fn handle_event(&self, socket: &mut ComponentSocket<Self>, event: RowEvent) -> ViewResult {
///         assert!(socket.connected());
///         match event {
///             RowEvent::Open => socket.push_patch(format!("/rows/{}", socket.id()), false),
///             RowEvent::Save => {
///                 socket.put_flash("info", "Saved");
///                 socket.push_redirect("/rows", false);
///             }
///             RowEvent::Leave => socket.redirect("/logout"),
///             RowEvent::Count => socket.send_update::<Badge>("badge", 1),
///         }
///         if socket.cancel_async("refresh") {
///             // A refresh was running; it will not report.
///         }
///         socket.start_async("refresh", async { 42u32 });
///         Ok(())
///     }
/// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { tr {} } }
/// }
/// ```
pub struct ComponentSocket<C: LiveComponent> {
    pub(crate) cid: Cid,
    id: String,
    pub(crate) state: C::State,
    pub(crate) changed: bool,
    pub(crate) events: Vec<u8>,
    link: ViewLink,
    /// Navigation asked for by the component; the view's turn carries it out.
    pub(crate) navigation: Option<Navigation>,
    /// Flash messages put by the component, for the view's flash.
    pub(crate) flash: Vec<(String, String)>,
    pub(crate) async_tasks: AsyncTasks<C::State>,
    /// The reply to the event being handled ([`ComponentSocket::reply`]).
    pub(crate) reply: Option<Vec<u8>>,
    /// The component's own uploads (`allow_upload`; see `component_uploads`).
    pub(crate) uploads: crate::Uploads,
}

impl<C: LiveComponent> ComponentSocket<C> {
    pub(crate) fn new(cid: Cid, id: String, link: ViewLink) -> Self {
        let mut async_tasks = AsyncTasks::default();
        async_tasks.share_count(link.pending_async.clone());
        Self {
            cid,
            id,
            state: C::State::default(),
            changed: true,
            events: Vec::new(),
            link,
            navigation: None,
            flash: Vec::new(),
            async_tasks,
            reply: None,
            uploads: crate::Uploads::default(),
        }
    }

    /// Replies to the event being handled, like [`Socket::reply`](crate::Socket::reply): a
    /// hook's `pushEventTo(myself, name, payload, reply => …)` receives `payload`.
    pub fn reply(&mut self, payload: &impl serde::Serialize) {
        let mut out = Vec::new();
        crate::json::write_value(payload, &mut out);
        self.reply = Some(out);
    }

    /// The component's cid (LiveViewJS: `myself`).
    pub fn myself(&self) -> Cid {
        self.cid
    }

    /// The id the parent gave this component.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `false` during the HTTP render, `true` over the WebSocket (Phoenix:
    /// `connected?(socket)`).
    pub fn connected(&self) -> bool {
        self.link.connected
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

    /// Sends `info` to the parent view's `handle_info` (LiveViewJS: `sendParentInfo`). It must be
    /// of the parent's `LiveView::Info` type; anything else is logged and dropped.
    pub fn send_parent_info<I: Any + Send>(&self, info: I) {
        if let Some(parent) = &self.link.parent {
            parent(Box::new(info));
        }
    }

    /// Patches the view's URL, like [`Socket::push_patch`](crate::Socket::push_patch)
    /// (Phoenix: `push_patch/2` from a component): the view's `handle_params` runs.
    pub fn push_patch(&mut self, to: impl Into<String>, replace: bool) {
        self.navigation = Some(Navigation::Patch {
            to: to.into(),
            replace,
        });
    }

    /// Replaces the view with the one at `to`, like
    /// [`Socket::push_redirect`](crate::Socket::push_redirect) (Phoenix: `push_navigate/2`).
    pub fn push_redirect(&mut self, to: impl Into<String>, replace: bool) {
        self.navigation = Some(Navigation::LiveRedirect {
            to: to.into(),
            replace,
        });
    }

    /// Sends the browser to `to` with a page load, like
    /// [`Socket::redirect`](crate::Socket::redirect) (Phoenix: `redirect/2`).
    pub fn redirect(&mut self, to: impl Into<String>) {
        self.navigation = Some(Navigation::Redirect { to: to.into() });
    }

    /// Adds a flash message to the view's flash, like
    /// [`Socket::put_flash`](crate::Socket::put_flash) (Phoenix: `put_flash/3` in a
    /// component).
    pub fn put_flash(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.flash.push((key.into(), message.into()));
    }

    /// Sends new props to the `D` component with id `id` of the same view (Phoenix:
    /// `send_update/3` from a component), after the current callback; see
    /// [`Socket::send_update`](crate::Socket::send_update).
    pub fn send_update<D: LiveComponent>(&self, id: impl Into<String>, props: D::Props) {
        if let Some(mailbox) = &self.link.mailbox {
            mailbox.post(ComponentMsg::update::<D>(id.into(), props));
        }
    }

    /// [`Socket::assign_async`](crate::Socket::assign_async) for a component: `field` of its
    /// state is loading, then the task's value or failure; the component re-renders. The task
    /// is cancelled when the component or its view ends.
    ///
    /// ```
    /// # use liveview_core::{html, AsyncResult, ComponentSocket, LiveComponent, Meta, Rendered};
    /// # #[derive(Default)] struct Weather;
    /// impl LiveComponent for Weather {
    ///     type State = AsyncResult<String>;
    ///     type Props = String;
    ///     type Event = ();
    ///
    ///     fn update(&self, socket: &mut ComponentSocket<Self>, city: String) {
    ///         socket.assign_async("forecast", |state| state, async move {
    ///             Ok::<_, std::io::Error>(format!("sunny in {city}"))
    ///         });
    ///     }
    /// #   fn render(&self, _: &AsyncResult<String>, _: &Meta<'_>) -> Rendered { html! { p {} } }
    /// }
    /// ```
    pub fn assign_async<T, E, F>(
        &mut self,
        name: impl Into<String>,
        field: fn(&mut C::State) -> &mut AsyncResult<T>,
        future: F,
    ) where
        T: Send + 'static,
        E: Display + Send + 'static,
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.changed = true;
        *field(&mut self.state) = AsyncResult::Loading;
        let Some(deliver) = self.deliver() else {
            return;
        };
        let apply = assign_into::<C::State, T, E>(field);
        self.async_tasks
            .start(name.into(), future, Some(apply), deliver);
    }

    /// [`Socket::start_async`](crate::Socket::start_async) for a component: the result goes
    /// to [`LiveComponent::handle_async`].
    pub fn start_async<T, F>(&mut self, name: impl Into<String>, future: F)
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        if let Some(deliver) = self.deliver() {
            self.async_tasks.start(name.into(), future, None, deliver);
        }
    }

    /// Cancels the component's task running under `name`; whether there was one.
    pub fn cancel_async(&mut self, name: &str) -> bool {
        self.async_tasks.cancel(name)
    }

    fn deliver(&self) -> Option<Deliver> {
        let mailbox = self.link.mailbox.clone()?;
        let cid = self.cid;
        Some(Box::new(move |done: AsyncDone| {
            Box::pin(async move {
                let _ = mailbox.deliver(ComponentMsg::Async { cid, done }).await;
            })
        }))
    }

    pub(crate) fn finish_async(&mut self, done: AsyncDone) -> Finished {
        let finished = self.async_tasks.finish(done, &mut self.state);
        if matches!(finished, Finished::Assigned) {
            self.changed = true;
        }
        finished
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
