//! What reaches a view between client messages, through its bounded info queue: infos, the
//! results of its async tasks, and messages for its components (async results,
//! `send_update`). [`ViewSender`] is the public, cloneable handle on that queue.

use std::any::{Any, TypeId};
use std::fmt;

use crate::async_task::{AsyncDone, BoxFuture};
use crate::component::{Cid, LiveComponent};
use crate::info::{InfoSender, Offer};
use crate::view::LiveView;

/// One item of a view's info queue.
pub(crate) enum Inbox<V: LiveView> {
    /// For `handle_info`.
    Info(V::Info),
    /// A finished async task of the view.
    Async(AsyncDone),
    /// For one of its components.
    Component(ComponentMsg),
}

/// A message for a component of the view.
pub(crate) enum ComponentMsg {
    /// A finished async task of component `cid`.
    Async { cid: Cid, done: AsyncDone },
    /// `send_update`: new props for the component of type `type_id` and this id.
    Update {
        type_id: TypeId,
        type_name: &'static str,
        id: String,
        props: Box<dyn Any + Send>,
    },
}

impl ComponentMsg {
    /// A `send_update` of `props` to the `C` component with id `id`.
    pub(crate) fn update<C: LiveComponent>(id: String, props: C::Props) -> Self {
        ComponentMsg::Update {
            type_id: TypeId::of::<C>(),
            type_name: std::any::type_name::<C>(),
            id,
            props: Box::new(props),
        }
    }
}

/// How components reach their view's queue, with the view's type erased.
pub(crate) trait ComponentMailbox: Send + Sync {
    /// Queues without waiting (a full queue ends the view, like `send_info`).
    fn post(&self, msg: ComponentMsg);
    /// Queues, waiting for room; fails once the view ended.
    fn deliver(&self, msg: ComponentMsg) -> BoxFuture<Result<(), ()>>;
}

impl<V: LiveView> ComponentMailbox for InfoSender<Inbox<V>> {
    fn post(&self, msg: ComponentMsg) {
        self.try_send(Inbox::Component(msg));
    }

    fn deliver(&self, msg: ComponentMsg) -> BoxFuture<Result<(), ()>> {
        let sender = self.clone();
        Box::pin(async move { sender.send_detached(Inbox::Component(msg)).await })
    }
}

/// Why a [`ViewSender`] did not deliver.
///
/// ```
/// use liveview_core::SendError;
/// assert_eq!(SendError::Ended.to_string(), "the view has ended: the message was dropped");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The view ended (or never ran over a socket: the HTTP render); nothing was sent.
    #[error("the view has ended: the message was dropped")]
    Ended,
    /// The view's info queue holds [`Config::info_queue`](crate::Config::info_queue)
    /// messages already ([`ViewSender::try_send`] only; [`ViewSender::send`] waits).
    #[error("the view's info queue is full: the message was dropped")]
    Full,
}

/// A cloneable, `Send` handle that delivers infos to a view's `handle_info` from anywhere (a
/// spawned task, another view, a callback of a library) for as long as the view lives
/// (Phoenix: `send(pid, msg)` to a LiveView process; LiveViewJS: `socket.sendInfo` from
/// outside). Get one with [`Socket::sender`](crate::Socket::sender).
///
/// Bounded like every queue of the view: it holds at most
/// [`Config::info_queue`](crate::Config::info_queue) messages; [`send`](Self::send) waits
/// for room, [`try_send`](Self::try_send) says [`SendError::Full`]. Once the view ended both
/// return [`SendError::Ended`] and drop the message.
///
/// ```no_run
/// # use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
/// # #[derive(Default)] struct Clock;
/// # impl LiveView for Clock { type State = u64; type Event = (); type Info = u64;
/// #   fn render(&self, _: &u64, _: &Meta<'_>) -> Rendered { html! {} }
/// async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
///     let sender = socket.sender();
///     let task = tokio::spawn(async move {
///         let mut seconds = 0;
///         // Stops by itself once the view is gone.
///         while sender.send(seconds).await.is_ok() {
///             tokio::time::sleep(std::time::Duration::from_secs(1)).await;
///             seconds += 1;
///         }
///     });
///     socket.spawn_owned(task.abort_handle());
///     Ok(())
/// }
/// # }
/// ```
pub struct ViewSender<V: LiveView> {
    tx: Option<InfoSender<Inbox<V>>>,
}

impl<V: LiveView> Clone for ViewSender<V> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<V: LiveView> fmt::Debug for ViewSender<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViewSender")
            .field("ended", &self.is_ended())
            .finish()
    }
}

impl<V: LiveView> ViewSender<V> {
    pub(crate) fn new(tx: Option<InfoSender<Inbox<V>>>) -> Self {
        Self { tx }
    }

    /// Queues `info` for `handle_info`, waiting while the queue is full.
    pub async fn send(&self, info: V::Info) -> Result<(), SendError> {
        self.deliver(Inbox::Info(info)).await
    }

    /// Queues `info` for `handle_info` if there is room.
    pub fn try_send(&self, info: V::Info) -> Result<(), SendError> {
        self.offer(Inbox::Info(info))
    }

    /// Sends new props to the `C` component with id `id` of this view (Phoenix:
    /// `send_update/3`), waiting while the queue is full; see
    /// [`Socket::send_update`](crate::Socket::send_update).
    pub async fn send_update<C: LiveComponent>(
        &self,
        id: impl Into<String>,
        props: C::Props,
    ) -> Result<(), SendError> {
        let msg = ComponentMsg::update::<C>(id.into(), props);
        self.deliver(Inbox::Component(msg)).await
    }

    /// Whether the view ended (sending would fail).
    pub fn is_ended(&self) -> bool {
        self.tx.as_ref().is_none_or(InfoSender::is_closed)
    }

    async fn deliver(&self, item: Inbox<V>) -> Result<(), SendError> {
        let Some(tx) = &self.tx else {
            return Err(ended());
        };
        tx.send(item).await.map_err(|()| ended())
    }

    fn offer(&self, item: Inbox<V>) -> Result<(), SendError> {
        let Some(tx) = &self.tx else {
            return Err(ended());
        };
        match tx.offer(item) {
            Offer::Queued => Ok(()),
            Offer::Full => Err(SendError::Full),
            Offer::Closed => Err(ended()),
        }
    }
}

fn ended() -> SendError {
    tracing::debug!("message for a view that has ended: dropped");
    SendError::Ended
}
