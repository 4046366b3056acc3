//! The [`Socket`]'s messages from outside a turn: its [`ViewSender`], async assigns and
//! tasks (Phoenix: `assign_async`, `start_async`, `cancel_async`), and `send_update`.

use std::fmt::Display;
use std::future::Future;

use crate::async_task::{assign_into, AsyncDone, AsyncResult, Deliver, Finished};
use crate::component::LiveComponent;
use crate::info::InfoSender;
use crate::sender::{ComponentMsg, Inbox, ViewSender};
use crate::socket::Socket;
use crate::view::LiveView;

impl<V: LiveView> Socket<V> {
    /// A cloneable handle that delivers infos to this view's `handle_info` from any task, for
    /// as long as the view lives (see [`ViewSender`]). During the HTTP render the handle is
    /// already ended: its sends return [`SendError::Ended`](crate::SendError::Ended).
    pub fn sender(&self) -> ViewSender<V> {
        ViewSender::new(self.infos.clone())
    }

    /// Runs `future` in a task and keeps its outcome in the state field `field` (Phoenix:
    /// `assign_async/3`): the field is [`AsyncResult::Loading`] now, then
    /// [`AsyncResult::Ok`] with the value or [`AsyncResult::Failed`] with the error (or the
    /// panic's message) when the task finishes; the view re-renders then. Starting again
    /// under the same `name` (a retry) cancels the running task. Every task is cancelled when
    /// the view ends. During the HTTP render the task does not run (the field stays loading;
    /// the connected mount starts it), as in Phoenix.
    ///
    /// The task's result comes back through the view's info queue; a task waits while that
    /// queue is full. A view runs at most one task per name, so the names (a fixed set of the
    /// view's own, not client input) bound how many run at once.
    ///
    /// ```
    /// use liveview_core::{html, AsyncResult, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
    ///
    /// #[derive(Default)]
    /// struct Stats { visits: AsyncResult<u64> }
    ///
    /// struct Dashboard;
    ///
    /// impl LiveView for Dashboard {
    ///     type State = Stats;
    ///     type Event = ();
    ///     type Info = ();
    ///
    ///     async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
    ///         socket.assign_async("visits", |s| &mut s.visits, async {
    ///             // A slow service.
    ///             Ok::<u64, std::io::Error>(42)
    ///         });
    ///         Ok(())
    ///     }
    ///
    ///     fn render(&self, stats: &Stats, _: &Meta<'_>) -> Rendered {
    ///         html! {
    ///             @match &stats.visits {
    ///                 AsyncResult::Loading => { p { "Loading…" } }
    ///                 AsyncResult::Ok(visits) => { p { (visits) " visits" } }
    ///                 AsyncResult::Failed(reason) => { p { "Failed: " (reason) } }
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    pub fn assign_async<T, E, F>(
        &mut self,
        name: impl Into<String>,
        field: fn(&mut V::State) -> &mut AsyncResult<T>,
        future: F,
    ) where
        T: Send + 'static,
        E: Display + Send + 'static,
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let name = name.into();
        self.changed = true;
        *field(&mut self.state) = AsyncResult::Loading;
        let Some(deliver) = self.deliver() else {
            return;
        };
        let apply = assign_into::<V::State, T, E>(field);
        self.async_tasks.start(name, future, Some(apply), deliver);
    }

    /// Runs `future` in a task; when it finishes, `handle_async(name, result)` gets its value
    /// ([`AsyncValue`](crate::AsyncValue)) or, if it panicked, the message (Phoenix:
    /// `start_async/3`). Starting again under the same `name` cancels the running task (its
    /// result never arrives). Tasks are cancelled when the view ends. Does nothing during the
    /// HTTP render. To fill a [`Stream`](crate::Stream) asynchronously (Phoenix:
    /// `stream_async`), return the items from the task and insert them in `handle_async`.
    ///
    /// ```
    /// # use liveview_core::{html, AsyncValue, LiveView, Meta, Rendered, Socket, ViewResult};
    /// # #[derive(Default)] struct Report;
    /// # #[derive(serde::Deserialize)] enum Event { Build }
    /// impl LiveView for Report {
    ///     type State = Option<String>;
    ///     type Event = Event;
    ///     type Info = ();
    ///
    ///     async fn handle_event(&self, socket: &mut Socket<Self>, _: Event) -> ViewResult {
    ///         socket.start_async("report", async { "a long report".to_owned() });
    ///         Ok(())
    ///     }
    ///
    ///     async fn handle_async(
    ///         &self,
    ///         socket: &mut Socket<Self>,
    ///         name: &str,
    ///         result: Result<AsyncValue, String>,
    ///     ) -> ViewResult {
    ///         if name == "report" {
    ///             let text = match result {
    ///                 Ok(value) => value.downcast::<String>().unwrap_or_default(),
    ///                 Err(reason) => format!("failed: {reason}"),
    ///             };
    ///             socket.assign(|report| *report = Some(text));
    ///         }
    ///         Ok(())
    ///     }
    /// #   fn render(&self, _: &Option<String>, _: &Meta<'_>) -> Rendered { html! {} }
    /// }
    /// ```
    pub fn start_async<T, F>(&mut self, name: impl Into<String>, future: F)
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let Some(deliver) = self.deliver() else {
            return;
        };
        self.async_tasks.start(name.into(), future, None, deliver);
    }

    /// Cancels the task running under `name` (Phoenix: `cancel_async/3`); whether one was
    /// running. A cancelled `assign_async` field keeps its loading state.
    ///
    /// ```
    /// # use liveview_core::{html, LiveView, Meta, Rendered, Socket, ViewResult};
    /// # #[derive(Default)] struct Search;
    /// # #[derive(serde::Deserialize)] enum Event { Stop }
    /// # impl LiveView for Search { type State = (); type Event = Event; type Info = ();
    /// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! {} }
    /// async fn handle_event(&self, socket: &mut Socket<Self>, _: Event) -> ViewResult {
    ///     if socket.cancel_async("search") {
    ///         assert_eq!(socket.async_running(), 0);
    ///     }
    ///     Ok(())
    /// }
    /// # }
    /// ```
    pub fn cancel_async(&mut self, name: &str) -> bool {
        self.async_tasks.cancel(name)
    }

    /// How many async tasks of this view are running (see [`Socket::cancel_async`]).
    pub fn async_running(&self) -> usize {
        self.async_tasks.len()
    }

    /// Sends new props to the `C` component with id `id` in this view (Phoenix:
    /// `send_update/3`): after the current callback, its `update` runs with `props` and only
    /// that component re-renders (the diff holds its cid alone). A component that is not
    /// rendered is logged and skipped. Does nothing during the HTTP render.
    ///
    /// ```
    /// # use liveview_core::{html, ComponentSocket, LiveComponent, LiveView, Meta, Rendered, Socket, ViewResult};
    /// # #[derive(Default)] struct Badge;
    /// # impl LiveComponent for Badge { type State = u32; type Props = u32; type Event = ();
    /// #   fn update(&self, s: &mut ComponentSocket<Self>, n: u32) { s.assign(|c| *c = n); }
    /// #   fn render(&self, n: &u32, _: &Meta<'_>) -> Rendered { html! { span { (n) } } } }
    /// # #[derive(Default)] struct Inbox;
    /// impl LiveView for Inbox {
    ///     type State = ();
    ///     type Event = ();
    ///     type Info = u32;
    ///
    ///     async fn handle_info(&self, socket: &mut Socket<Self>, unread: u32) -> ViewResult {
    ///         socket.send_update::<Badge>("unread", unread);
    ///         Ok(())
    ///     }
    /// #   fn render(&self, _: &(), meta: &Meta<'_>) -> Rendered { html! { (meta.live_component(Badge, "unread", 0)) } }
    /// }
    /// ```
    pub fn send_update<C: LiveComponent>(&self, id: impl Into<String>, props: C::Props) {
        if let Some(infos) = &self.infos {
            infos.try_send(Inbox::Component(ComponentMsg::update::<C>(
                id.into(),
                props,
            )));
        }
    }

    /// How a task of this view delivers its result (`None` during the HTTP render).
    fn deliver(&self) -> Option<Deliver> {
        let infos: InfoSender<Inbox<V>> = self.infos.clone()?;
        Some(Box::new(move |done: AsyncDone| {
            Box::pin(async move {
                let _ = infos.send_detached(Inbox::Async(done)).await;
            })
        }))
    }

    /// Applies a finished task of this view (the runtime's side).
    pub(crate) fn finish_async(&mut self, done: AsyncDone) -> Finished {
        let finished = self.async_tasks.finish(done, &mut self.state);
        if matches!(finished, Finished::Assigned) {
            self.changed = true;
        }
        finished
    }
}
