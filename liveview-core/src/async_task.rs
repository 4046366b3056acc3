//! Async work owned by a view or a component (Phoenix: `assign_async`, `start_async`,
//! `handle_async`, `AsyncResult`): [`AsyncResult`], the value a template matches on, and the
//! runtime's table of running tasks, one per name.
//!
//! Each task runs in a tokio task of its own; its result goes back through the view's bounded
//! info queue (the task waits for room) and is applied in a turn of the view, so callbacks
//! never run concurrently. Starting a task under a name that is running aborts the old one,
//! and a result that arrives for an aborted task is dropped. Every task is aborted when its
//! owner (the view, or the component) ends. A panic in the task becomes a failed result.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::task::AbortHandle;

use crate::catch::catch;

/// The state of an async assign (Phoenix: `Phoenix.LiveView.AsyncResult`), set by
/// [`Socket::assign_async`](crate::Socket::assign_async): loading until the task finishes,
/// then its value or the reason it failed. Templates match on it.
///
/// ```
/// use liveview_core::{html, AsyncResult};
///
/// let stats: AsyncResult<u32> = AsyncResult::Loading;
/// let page = html! {
///     @match &stats {
///         AsyncResult::Loading => { p { "Loading…" } }
///         AsyncResult::Ok(count) => { p { (count) " visits" } }
///         AsyncResult::Failed(reason) => { p.error { (reason) } }
///     }
/// };
/// assert!(page.to_html().contains("Loading"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AsyncResult<T> {
    /// The task runs (Phoenix: `loading: true`).
    #[default]
    Loading,
    /// The task returned this value (Phoenix: `ok?: true, result: value`).
    Ok(T),
    /// The task returned an error or panicked (Phoenix: `failed: reason`).
    Failed(String),
}

impl<T> AsyncResult<T> {
    /// Whether the task still runs.
    pub fn is_loading(&self) -> bool {
        matches!(self, AsyncResult::Loading)
    }

    /// The value, once the task succeeded.
    pub fn ok(&self) -> Option<&T> {
        match self {
            AsyncResult::Ok(value) => Some(value),
            _ => None,
        }
    }

    /// Why the task failed, if it did.
    pub fn failed(&self) -> Option<&str> {
        match self {
            AsyncResult::Failed(reason) => Some(reason),
            _ => None,
        }
    }
}

/// The value a [`start_async`](crate::Socket::start_async) task returned, handed to
/// `handle_async` (Phoenix: the `{:ok, result}` of `handle_async/3`); take it out with
/// [`AsyncValue::downcast`] as the type the task returned.
pub struct AsyncValue(Box<dyn Any + Send>);

impl AsyncValue {
    /// The value as `T`, or `self` back if the task returned another type.
    ///
    /// ```
    /// # use liveview_core::AsyncValue;
    /// # let value = AsyncValue::new(7u32);
    /// let count: u32 = value.downcast().unwrap_or(0);
    /// assert_eq!(count, 7);
    /// ```
    pub fn downcast<T: 'static>(self) -> Result<T, AsyncValue> {
        self.0
            .downcast::<T>()
            .map(|value| *value)
            .map_err(AsyncValue)
    }

    /// The value as a `&T`, if it is one.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }

    /// Wraps a value (for tests of `handle_async`).
    pub fn new<T: Send + 'static>(value: T) -> Self {
        Self(Box::new(value))
    }
}

impl fmt::Debug for AsyncValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AsyncValue(..)")
    }
}

/// Async tasks alive in this process (all views).
static ALIVE: AtomicUsize = AtomicUsize::new(0);

/// How many async tasks (`assign_async`, `start_async`, in views and components) are running
/// in this process; also the `liveview_async_tasks` gauge.
pub(crate) fn alive() -> usize {
    ALIVE.load(Ordering::Acquire)
}

/// Counts a task while its future lives (dropped when it finishes or is aborted).
struct TaskGuard;

impl TaskGuard {
    fn new() -> Self {
        ALIVE.fetch_add(1, Ordering::AcqRel);
        metrics::gauge!(crate::telemetry::ASYNC_TASKS).increment(1.0);
        TaskGuard
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        ALIVE.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!(crate::telemetry::ASYNC_TASKS).decrement(1.0);
    }
}

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What a task's value or failure is, erased.
pub(crate) type Outcome = Result<Box<dyn Any + Send>, String>;

/// A finished task, on its way back to its owner through the info queue.
pub(crate) struct AsyncDone {
    pub(crate) name: String,
    generation: u64,
    outcome: Outcome,
}

/// Writes an `assign_async` result into the state.
pub(crate) type Apply<S> = Box<dyn FnOnce(&mut S, Outcome) + Send + Sync>;

/// Sends a finished task to its owner (waiting for room in its queue).
pub(crate) type Deliver = Box<dyn FnOnce(AsyncDone) -> BoxFuture<()> + Send>;

struct Running<S> {
    generation: u64,
    abort: AbortHandle,
    apply: Option<Apply<S>>,
}

/// What a finished task means for its owner.
pub(crate) enum Finished {
    /// It was cancelled or replaced since: nothing to do.
    Stale,
    /// An `assign_async`: its result is in the state.
    Assigned,
    /// A `start_async`: `handle_async` gets this.
    Started(String, Result<AsyncValue, String>),
}

/// The async tasks of one view or component, by name.
pub(crate) struct AsyncTasks<S> {
    running: HashMap<String, Running<S>>,
    next: u64,
    /// Tasks running or finished but not yet applied, counted for a view and its components
    /// together when shared (the test toolkit's `render_async` waits for it to reach zero).
    pending: Option<Arc<AtomicUsize>>,
}

impl<S> Default for AsyncTasks<S> {
    fn default() -> Self {
        Self {
            running: HashMap::new(),
            next: 0,
            pending: None,
        }
    }
}

impl<S> AsyncTasks<S> {
    /// Counts this table's tasks in `pending` too.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn share_count(&mut self, pending: Option<Arc<AtomicUsize>>) {
        self.pending = pending;
    }

    fn count(&self, delta: isize) {
        if let Some(pending) = &self.pending {
            if delta >= 0 {
                pending.fetch_add(delta.unsigned_abs(), Ordering::AcqRel);
            } else {
                pending.fetch_sub(delta.unsigned_abs(), Ordering::AcqRel);
            }
        }
    }

    /// Starts `future` under `name`, aborting a task running under it; its result is
    /// delivered with `deliver` and, for an `assign_async`, written with `apply`.
    pub(crate) fn start<T, F>(
        &mut self,
        name: String,
        future: F,
        apply: Option<Apply<S>>,
        deliver: Deliver,
    ) where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        self.cancel(&name);
        self.next += 1;
        let generation = self.next;
        let task_name = name.clone();
        let guard = TaskGuard::new();
        let task = tokio::spawn(async move {
            let _guard = guard;
            let outcome = catch(future)
                .await
                .map(|value| Box::new(value) as Box<dyn Any + Send>);
            let done = AsyncDone {
                name: task_name,
                generation,
                outcome,
            };
            deliver(done).await;
        });
        self.running.insert(
            name,
            Running {
                generation,
                abort: task.abort_handle(),
                apply,
            },
        );
        self.count(1);
    }

    /// Applies a finished task: writes an `assign_async` result into `state`, or hands a
    /// `start_async` result back for `handle_async`.
    pub(crate) fn finish(&mut self, done: AsyncDone, state: &mut S) -> Finished {
        let current = self
            .running
            .get(&done.name)
            .is_some_and(|running| running.generation == done.generation);
        if !current {
            return Finished::Stale;
        }
        let Some(running) = self.running.remove(&done.name) else {
            return Finished::Stale;
        };
        self.count(-1);
        match running.apply {
            Some(apply) => {
                apply(state, done.outcome);
                Finished::Assigned
            }
            None => Finished::Started(done.name, done.outcome.map(AsyncValue)),
        }
    }

    /// Aborts the task running under `name`; whether there was one.
    pub(crate) fn cancel(&mut self, name: &str) -> bool {
        match self.running.remove(name) {
            Some(running) => {
                running.abort.abort();
                self.count(-1);
                true
            }
            None => false,
        }
    }

    /// Aborts every task.
    pub(crate) fn cancel_all(&mut self) {
        let cancelled = self.running.len();
        for (_, running) in self.running.drain() {
            running.abort.abort();
        }
        self.count(-(cancelled as isize));
    }

    /// How many tasks run.
    pub(crate) fn len(&self) -> usize {
        self.running.len()
    }
}

impl<S> Drop for AsyncTasks<S> {
    fn drop(&mut self) {
        self.cancel_all();
    }
}

/// The `assign_async` writer of the result of a `Result<T, E>` task into `field`.
pub(crate) fn assign_into<S: 'static, T, E>(field: fn(&mut S) -> &mut AsyncResult<T>) -> Apply<S>
where
    T: Send + 'static,
    E: fmt::Display + Send + 'static,
{
    Box::new(move |state: &mut S, outcome: Outcome| {
        let value = match outcome {
            Ok(value) => match value.downcast::<Result<T, E>>() {
                Ok(result) => match *result {
                    Ok(value) => AsyncResult::Ok(value),
                    Err(error) => AsyncResult::Failed(error.to_string()),
                },
                Err(_) => AsyncResult::Failed("unexpected result type".to_owned()),
            },
            Err(panic) => AsyncResult::Failed(panic),
        };
        *field(state) = value;
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn collector() -> (Arc<Mutex<Vec<AsyncDone>>>, impl Fn() -> Deliver) {
        let done = Arc::new(Mutex::new(Vec::new()));
        let sink = done.clone();
        let make = move || -> Deliver {
            let sink = sink.clone();
            Box::new(move |d: AsyncDone| -> BoxFuture<()> {
                Box::pin(async move { sink.lock().unwrap().push(d) })
            })
        };
        (done, make)
    }

    async fn settle() {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_new_start_under_a_name_replaces_the_old_and_panics_fail() {
        let (done, deliver) = collector();
        let mut tasks = AsyncTasks::<(AsyncResult<u8>, u8)>::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tasks.start(
            "a".into(),
            async move {
                let _ = rx.await;
                Ok::<u8, String>(1)
            },
            Some(assign_into::<_, u8, String>(
                |s: &mut (AsyncResult<u8>, u8)| &mut s.0,
            )),
            deliver(),
        );
        tasks.start(
            "a".into(),
            async { Ok::<u8, String>(2) },
            Some(assign_into::<_, u8, String>(
                |s: &mut (AsyncResult<u8>, u8)| &mut s.0,
            )),
            deliver(),
        );
        let _ = tx.send(());
        tasks.start(
            "b".into(),
            async {
                panic!("boom");
            },
            None::<Apply<_>>,
            deliver(),
        );
        settle().await;
        let mut state = (AsyncResult::Loading, 0);
        let finished: Vec<AsyncDone> = done.lock().unwrap().drain(..).collect();
        assert_eq!(finished.len(), 2, "the replaced task was aborted");
        for d in finished {
            match tasks.finish(d, &mut state) {
                Finished::Assigned => assert_eq!(state.0, AsyncResult::Ok(2)),
                Finished::Started(name, result) => {
                    assert_eq!(name, "b");
                    assert!(result.unwrap_err().contains("boom"));
                }
                Finished::Stale => panic!("nothing stale here"),
            }
        }
        assert_eq!(tasks.len(), 0);
    }
}
