//! [`InfoSender`]: where a view's infos go (its own `send_info`s, `repeat` ticks, pub/sub
//! deliveries, its components' `send_parent_info`s) — a bounded queue, and a wake-up of the
//! view, which has no task of its own while idle.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use tokio::sync::mpsc;

/// What an info sender wakes: the view's cell in the runtime, which runs the view's turns.
pub(crate) trait InfoWake: Send + Sync + 'static {
    /// An info was queued from inside a turn or synchronous code: the view runs it after
    /// the current turn (or in a task of its own if no turn is running).
    fn info_queued(self: Arc<Self>);

    /// An info was queued from a task: the view runs it there if no turn is running.
    fn run_queued(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The parts every clone of a view's info sender shares.
pub(crate) struct InfoShared {
    overflowed: AtomicBool,
    wake: OnceLock<Weak<dyn InfoWake>>,
}

impl InfoShared {
    /// Whether a `send_info` found the queue full (the view is then ended).
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// Connects the sender to the view it wakes (once, when the view's cell exists).
    pub(crate) fn wake_with(&self, wake: Weak<dyn InfoWake>) {
        let _ = self.wake.set(wake);
    }

    fn wake(&self) -> Option<Arc<dyn InfoWake>> {
        self.wake.get()?.upgrade()
    }
}

/// Where a view's infos go: its bounded info queue, and its wake-up.
pub(crate) struct InfoSender<I> {
    tx: mpsc::Sender<I>,
    shared: Arc<InfoShared>,
}

impl<I> Clone for InfoSender<I> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<I: Send> InfoSender<I> {
    /// A sender into a queue of `capacity` infos, and its receiver.
    pub(crate) fn channel(capacity: usize) -> (Self, mpsc::Receiver<I>, Arc<InfoShared>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let shared = Arc::new(InfoShared {
            overflowed: AtomicBool::new(false),
            wake: OnceLock::new(),
        });
        let sender = Self {
            tx,
            shared: shared.clone(),
        };
        (sender, rx, shared)
    }

    /// How many infos wait in the queue.
    pub(crate) fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Queues `info` without waiting; a full queue marks the view overflowed (it is then
    /// ended after its current turn).
    pub(crate) fn try_send(&self, info: I) {
        match self.tx.try_send(info) {
            Ok(()) => {
                if let Some(wake) = self.shared.wake() {
                    wake.info_queued();
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.shared.overflowed.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        target: "liveview::rejection",
                        capacity = self.tx.max_capacity(),
                        "view info queue full: the view is ended"
                    );
                }
            }
        }
    }

    /// Queues `info`, waiting while the queue is full, and runs the view in this task if no
    /// turn is running; fails once the view is gone.
    pub(crate) async fn send(&self, info: I) -> Result<(), ()> {
        self.tx.send(info).await.map_err(|_| ())?;
        if let Some(wake) = self.shared.wake() {
            wake.run_queued().await;
        }
        Ok(())
    }
}
