//! [`ViewCell`]: a joined view between turns. A view has no task of its own: whoever brings
//! it work (the socket's read task with a client message, a pub/sub forwarder or a `repeat`
//! tick with an info) claims the view, runs its turns right there, and parks it again. A turn
//! that has to wait (a slow callback) moves to a task spawned for it, and the read task goes
//! on; work that arrives meanwhile is queued and run, in order, by whoever holds the view.
//!
//! The invariant: every push of work is followed by an attempt to claim the view, and every
//! holder re-checks the queue after parking the view, so no work is left behind; only one
//! holder at a time, so a view's callbacks never run concurrently.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::Poll;

use super::message::ChannelMsg;
use crate::info::InfoWake;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A view's turns, with its types erased (implemented by the view task).
pub(crate) trait Turns: Send + 'static {
    /// Runs one message's turn; `false` when the view ended in it (left, redirected,
    /// crashed, or failed to mount).
    fn handle(&mut self, msg: ChannelMsg) -> BoxFuture<'_, bool>;

    /// Runs the turn of the next queued info, if there is one; `Some(false)` when the view
    /// ended in it.
    fn next_info(&mut self) -> Option<BoxFuture<'_, bool>>;

    /// Ends the view now, outside any turn (the socket closed or the topic was joined again).
    fn shut_down(&mut self);
}

/// A joined view and the work waiting for it.
pub(crate) struct ViewCell {
    /// Client and upload messages, in order (at most `capacity`).
    queue: Mutex<VecDeque<ChannelMsg>>,
    capacity: usize,
    /// The view, while no turn runs; `None` while a holder runs it (or once it ended).
    view: Mutex<Option<Box<dyn Turns>>>,
    /// How many infos wait in the view's info queue (read off the queue's sending side).
    infos: Box<dyn Fn() -> usize + Send + Sync>,
    /// The view ended: work for it is refused.
    ended: AtomicBool,
    /// Its nested views (children), ended with it.
    children: Mutex<Vec<Weak<ViewCell>>>,
    /// What the test toolkit reaches of the view from outside (its sender, its pending async
    /// tasks); only with the `testing` feature.
    #[cfg(feature = "testing")]
    pub(crate) test_handle: std::sync::OnceLock<TestHandle>,
}

/// The test toolkit's handle on a view: its [`ViewSender`](crate::ViewSender) (erased) and
/// how many of its (and its components') async tasks have not been applied yet.
#[cfg(feature = "testing")]
pub(crate) struct TestHandle {
    pub(crate) sender: Box<dyn std::any::Any + Send + Sync>,
    pub(crate) pending_async: Arc<std::sync::atomic::AtomicUsize>,
}

/// Why a message was not queued.
pub(crate) enum Refused {
    /// The queue holds `capacity` messages already.
    Full(ChannelMsg),
    /// The view ended.
    Ended(ChannelMsg),
}

impl ViewCell {
    /// A cell holding `view`, with room for `capacity` waiting messages; `infos` tells how
    /// many infos wait in its info queue.
    pub(crate) fn new(
        view: Box<dyn Turns>,
        capacity: usize,
        infos: Box<dyn Fn() -> usize + Send + Sync>,
    ) -> Arc<Self> {
        Arc::new(Self {
            queue: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            view: Mutex::new(Some(view)),
            infos,
            ended: AtomicBool::new(false),
            children: Mutex::new(Vec::new()),
            #[cfg(feature = "testing")]
            test_handle: std::sync::OnceLock::new(),
        })
    }

    /// Whether the view ended.
    pub(crate) fn is_ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// Queues a message (run it with [`run`]).
    pub(crate) fn push(&self, msg: ChannelMsg) -> Result<(), Refused> {
        let mut queue = self.lock_queue();
        // Checked under the queue's lock, which `end` takes too: a message is either refused
        // or queued before the view ended (and then dropped with the view, like a mailbox's).
        if self.is_ended() {
            return Err(Refused::Ended(msg));
        }
        if queue.len() >= self.capacity {
            return Err(Refused::Full(msg));
        }
        queue.push_back(msg);
        Ok(())
    }

    /// Queues a message and runs the view's waiting work (see [`run`]).
    pub(crate) async fn deliver(self: &Arc<Self>, msg: ChannelMsg) -> Result<(), Refused> {
        // The common case, an idle view with nothing waiting: its turn runs without going
        // through the queue (no queue memory, no extra lock).
        if let Some(view) = self.claim() {
            if self.lock_queue().is_empty() {
                start(self, view, Some(msg)).await;
                return Ok(());
            }
            self.park(view);
        }
        self.push(msg)?;
        run(self).await;
        Ok(())
    }

    /// Ends the view: at once if no turn is running, else right after the running turn (its
    /// holder finds the shutdown queued when it re-checks the queue).
    pub(crate) fn shut_down(&self) {
        {
            let mut queue = self.lock_queue();
            if self.is_ended() {
                return;
            }
            queue.push_back(ChannelMsg::Shutdown);
        }
        if let Some(mut view) = self.claim() {
            view.shut_down();
            self.end();
        }
    }

    fn lock_queue(&self) -> MutexGuard<'_, VecDeque<ChannelMsg>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn pop(&self) -> Option<ChannelMsg> {
        self.lock_queue().pop_front()
    }

    fn claim(&self) -> Option<Box<dyn Turns>> {
        self.view
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn park(&self, view: Box<dyn Turns>) {
        {
            // An idle view keeps no queue memory (a few hundred bytes per view, times every
            // idle view of the server).
            let mut queue = self.lock_queue();
            if queue.is_empty() && queue.capacity() > 0 {
                *queue = VecDeque::new();
            }
        }
        *self.view.lock().unwrap_or_else(PoisonError::into_inner) = Some(view);
    }

    fn has_work(&self) -> bool {
        !self.lock_queue().is_empty() || (self.infos)() > 0
    }

    fn end(&self) {
        {
            let mut queue = self.lock_queue();
            self.ended.store(true, Ordering::Release);
            *queue = VecDeque::new();
        }
        let children =
            std::mem::take(&mut *self.children.lock().unwrap_or_else(PoisonError::into_inner));
        for child in children.iter().filter_map(Weak::upgrade) {
            child.shut_down();
        }
    }

    /// Makes `child` (a nested view) end when this view ends — at once if it has ended.
    pub(crate) fn adopt(&self, child: &Arc<ViewCell>) {
        {
            let mut children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
            if !self.is_ended() {
                children.retain(|known| known.strong_count() > 0);
                children.push(Arc::downgrade(child));
                return;
            }
        }
        child.shut_down();
    }
}

/// Runs the view's waiting work on this task if nobody holds the view: the turns that finish
/// without waiting run here and now; the first that has to wait continues, with everything
/// after it, in a task of its own.
pub(crate) async fn run(cell: &Arc<ViewCell>) {
    let Some(view) = cell.claim() else {
        return;
    };
    start(cell, view, None).await;
}

/// Runs `first`, then the waiting work, here until a turn has to wait (see [`run`]).
async fn start(cell: &Arc<ViewCell>, view: Box<dyn Turns>, first: Option<ChannelMsg>) {
    let mut work = Box::pin(drain(cell.clone(), view, first));
    let ready = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx).is_ready())).await;
    if !ready {
        tokio::spawn(work);
    }
}

/// Runs `first` and the waiting work while there is some, then parks the view.
async fn drain(cell: Arc<ViewCell>, mut view: Box<dyn Turns>, first: Option<ChannelMsg>) {
    if let Some(msg) = first {
        if !view.handle(msg).await {
            return cell.end();
        }
    }
    loop {
        // Client and upload messages first, in order; then infos.
        while let Some(msg) = cell.pop() {
            if !view.handle(msg).await {
                return cell.end();
            }
        }
        if let Some(turn) = view.next_info() {
            if !turn.await {
                return cell.end();
            }
            continue;
        }
        cell.park(view);
        // Work pushed while we held the view is ours to run, unless another holder took it.
        if !cell.has_work() {
            return;
        }
        match cell.claim() {
            Some(again) => view = again,
            None => return,
        }
    }
}

impl InfoWake for ViewCell {
    fn info_queued(self: Arc<Self>) {
        // Inside a turn the holder runs it next; otherwise a task does.
        if let Some(view) = self.claim() {
            tokio::spawn(drain(self, view, None));
        }
    }

    fn run_queued(self: Arc<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            if let Some(view) = self.claim() {
                drain(self, view, None).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A view that records its turns; a turn on `Leave` waits for `gate` before finishing.
    struct Recorder {
        log: Arc<Mutex<Vec<&'static str>>>,
        gate: Arc<tokio::sync::Notify>,
        shut: Arc<AtomicUsize>,
    }

    impl Turns for Recorder {
        fn handle(&mut self, msg: ChannelMsg) -> BoxFuture<'_, bool> {
            Box::pin(async move {
                let kind = msg.kind_name();
                if kind == "leave" {
                    self.gate.notified().await;
                }
                self.log.lock().unwrap().push(kind);
                if kind == "shutdown" {
                    self.shut.fetch_add(1, Ordering::SeqCst);
                    return false;
                }
                true
            })
        }

        fn next_info(&mut self) -> Option<BoxFuture<'_, bool>> {
            None
        }

        fn shut_down(&mut self) {
            self.shut.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A cell with a recorder view: the cell, the turn log, the gate, the shutdown count.
    type Fixture = (
        Arc<ViewCell>,
        Arc<Mutex<Vec<&'static str>>>,
        Arc<tokio::sync::Notify>,
        Arc<AtomicUsize>,
    );

    fn cell() -> Fixture {
        let log = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(tokio::sync::Notify::new());
        let shut = Arc::new(AtomicUsize::new(0));
        let view = Recorder {
            log: log.clone(),
            gate: gate.clone(),
            shut: shut.clone(),
        };
        (
            ViewCell::new(Box::new(view), 2, Box::new(|| 0)),
            log,
            gate,
            shut,
        )
    }

    async fn wait_until_ended(cell: &ViewCell) {
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while !cell.is_ended() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the view ended within 5 s");
    }

    fn leave() -> ChannelMsg {
        ChannelMsg::Leave { msg_ref: None }
    }

    #[tokio::test]
    async fn work_queued_during_a_waiting_turn_runs_after_it_in_order() {
        let (cell, log, gate, _) = cell();
        // The first turn waits: it moves to a task of its own and the caller goes on.
        cell.deliver(leave()).await.ok().unwrap();
        assert!(log.lock().unwrap().is_empty());
        cell.deliver(ChannelMsg::Shutdown).await.ok().unwrap();
        // Bounded: one waiting plus the capacity (2) queued; the next is refused.
        cell.push(leave()).ok().unwrap();
        assert!(matches!(cell.push(leave()), Err(Refused::Full(_))));
        gate.notify_one();
        wait_until_ended(&cell).await;
        // In order; the shutdown ended the view, and what was queued after it was dropped.
        assert_eq!(*log.lock().unwrap(), ["leave", "shutdown"]);
        assert!(matches!(cell.push(leave()), Err(Refused::Ended(_))));
    }

    #[tokio::test]
    async fn shutting_down_a_parked_view_ends_it_at_once() {
        let (cell, log, _, shut) = cell();
        cell.shut_down();
        assert!(cell.is_ended());
        assert_eq!(shut.load(Ordering::SeqCst), 1, "the view's shutdown ran");
        assert!(log.lock().unwrap().is_empty(), "no turn ran");
        cell.shut_down();
        assert_eq!(shut.load(Ordering::SeqCst), 1, "once");
    }

    #[tokio::test]
    async fn shutting_down_during_a_turn_ends_the_view_after_it() {
        let (cell, log, gate, shut) = cell();
        cell.deliver(leave()).await.ok().unwrap();
        cell.shut_down();
        assert!(!cell.is_ended(), "the running turn finishes first");
        gate.notify_one();
        wait_until_ended(&cell).await;
        assert_eq!(*log.lock().unwrap(), ["leave", "shutdown"]);
        assert_eq!(shut.load(Ordering::SeqCst), 1);
    }
}
