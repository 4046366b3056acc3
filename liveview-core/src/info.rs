//! [`InfoSender`]: where a view's infos go (its own `send_info`s, `repeat` ticks, pub/sub
//! deliveries, its components' `send_parent_info`s) — a bounded queue, and a wake-up of the
//! view, which has no task of its own while idle.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use tokio::sync::Notify;

/// What an info sender wakes: the view's cell in the runtime, which runs the view's turns.
pub(crate) trait InfoWake: Send + Sync + 'static {
    /// An info was queued from inside a turn or synchronous code: the view runs it after
    /// the current turn (or in a task of its own if no turn is running).
    fn info_queued(self: Arc<Self>);

    /// An info was queued from a task: the view runs it there if no turn is running.
    fn run_queued(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// A view's info queue, shared by its senders and the view: a bounded FIFO behind a short
/// lock (an empty queue holds no memory, so an idle view pays a few dozen bytes for it, not a
/// channel's block), the wake-up of the view, and the overflow flag.
pub(crate) struct InfoQueue<I> {
    items: Mutex<VecDeque<I>>,
    capacity: usize,
    /// Signalled when an info is taken or the view ends (senders waiting for room).
    space: Notify,
    closed: AtomicBool,
    overflowed: AtomicBool,
    wake: OnceLock<Weak<dyn InfoWake>>,
}

impl<I> InfoQueue<I> {
    fn lock(&self) -> MutexGuard<'_, VecDeque<I>> {
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a `send_info` found the queue full (the view is then ended).
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// Connects the queue to the view it wakes (once, when the view's cell exists).
    pub(crate) fn wake_with(&self, wake: Weak<dyn InfoWake>) {
        let _ = self.wake.set(wake);
    }

    fn wake(&self) -> Option<Arc<dyn InfoWake>> {
        self.wake.get()?.upgrade()
    }

    /// How many infos wait.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Takes the next info.
    pub(crate) fn pop(&self) -> Option<I> {
        let mut items = self.lock();
        let info = items.pop_front()?;
        if items.is_empty() {
            *items = VecDeque::new();
        }
        drop(items);
        self.space.notify_one();
        Some(info)
    }

    /// The view ended: senders fail from now on, and the infos still queued are dropped.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        *self.lock() = VecDeque::new();
        self.space.notify_waiters();
    }
}

/// What [`InfoSender::offer`] did.
pub(crate) enum Offer {
    Queued,
    Full,
    Closed,
}

/// Where a view's infos go: its bounded info queue, and its wake-up.
pub(crate) struct InfoSender<I> {
    queue: Arc<InfoQueue<I>>,
}

impl<I> Clone for InfoSender<I> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<I: Send> InfoSender<I> {
    /// A queue of `capacity` infos and a sender into it.
    pub(crate) fn channel(capacity: usize) -> (Self, Arc<InfoQueue<I>>) {
        let queue = Arc::new(InfoQueue {
            items: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            space: Notify::new(),
            closed: AtomicBool::new(false),
            overflowed: AtomicBool::new(false),
            wake: OnceLock::new(),
        });
        (
            Self {
                queue: queue.clone(),
            },
            queue,
        )
    }

    /// Queues `info` without waiting; a full queue marks the view overflowed (it is then
    /// ended after its current turn).
    pub(crate) fn try_send(&self, info: I) {
        {
            let mut items = self.queue.lock();
            if self.queue.closed.load(Ordering::Acquire) {
                return;
            }
            if items.len() >= self.queue.capacity {
                drop(items);
                if !self.queue.overflowed.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        target: "liveview::rejection",
                        capacity = self.queue.capacity,
                        "view info queue full: the view is ended"
                    );
                }
                return;
            }
            items.push_back(info);
        }
        if let Some(wake) = self.queue.wake() {
            wake.info_queued();
        }
    }

    /// Queues `info` if there is room, without marking the view overflowed (for
    /// [`ViewSender::try_send`](crate::ViewSender::try_send), whose caller decides).
    pub(crate) fn offer(&self, info: I) -> Offer {
        {
            let mut items = self.queue.lock();
            if self.queue.closed.load(Ordering::Acquire) {
                return Offer::Closed;
            }
            if items.len() >= self.queue.capacity {
                return Offer::Full;
            }
            items.push_back(info);
        }
        if let Some(wake) = self.queue.wake() {
            wake.info_queued();
        }
        Offer::Queued
    }

    /// Whether the view ended.
    pub(crate) fn is_closed(&self) -> bool {
        self.queue.closed.load(Ordering::Acquire)
    }

    /// Queues `info`, waiting while the queue is full; the view runs it in a task of its
    /// own, never in this one (for tasks a turn may abort, such as async tasks).
    pub(crate) async fn send_detached(&self, info: I) -> Result<(), ()> {
        self.wait_and_push(info).await?;
        if let Some(wake) = self.queue.wake() {
            wake.info_queued();
        }
        Ok(())
    }

    async fn wait_and_push(&self, info: I) -> Result<(), ()> {
        let mut info = Some(info);
        loop {
            let space = self.queue.space.notified();
            tokio::pin!(space);
            space.as_mut().enable();
            {
                let mut items = self.queue.lock();
                if self.queue.closed.load(Ordering::Acquire) {
                    return Err(());
                }
                if items.len() < self.queue.capacity {
                    items.extend(info.take());
                    return Ok(());
                }
            }
            space.await;
        }
    }

    /// Queues `info`, waiting while the queue is full, and runs the view in this task if no
    /// turn is running; fails once the view is gone.
    pub(crate) async fn send(&self, info: I) -> Result<(), ()> {
        self.wait_and_push(info).await?;
        if let Some(wake) = self.queue.wake() {
            wake.run_queued().await;
        }
        Ok(())
    }
}
