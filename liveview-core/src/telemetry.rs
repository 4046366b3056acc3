//! What the runtime counts, through the [`metrics`] facade: libraries emit, the application
//! installs a recorder (a Prometheus exporter, statsd, …) and exports them. Without one, every
//! call is a no-op.
//!
//! | name | kind | labels | what |
//! | --- | --- | --- | --- |
//! | `liveview_sockets` | gauge | | LiveView sockets open |
//! | `liveview_views` | gauge | | views joined and alive |
//! | `liveview_async_tasks` | gauge | | `assign_async`/`start_async` tasks running (also [`async_tasks`]) |
//! | `liveview_events_total` | counter | `kind` (`event`, `live_patch`, `allow_upload`, `progress`, `cids_will_destroy`, `cids_destroyed`, `info`) | turns run |
//! | `liveview_bytes_sent_total` | counter | | bytes of text frames written to sockets |
//! | `liveview_refusals_total` | counter | `reason` | error replies (`unknown event`, `overloaded`, `stale`, …) and sockets closed for cause (`rate limited`, `protocol`) |
//!
//! Spans (through `tracing`): `socket` (one per LiveView socket, info level, with the peer
//! address when the transport knows it) and `turn` (one per view turn, debug level, with the
//! view's route and the event's name or kind).
//!
//! ```
//! use metrics_util::debugging::{DebugValue, DebuggingRecorder};
//!
//! let recorder = DebuggingRecorder::new();
//! let snapshotter = recorder.snapshotter();
//! metrics::with_local_recorder(&recorder, || {
//!     // What the runtime does when a view refuses an event:
//!     metrics::counter!("liveview_refusals_total", "reason" => "unknown event").increment(1);
//! });
//! let snapshot = snapshotter.snapshot().into_vec();
//! assert!(matches!(snapshot[0].3, DebugValue::Counter(1)));
//! ```

/// Sockets open.
pub const SOCKETS: &str = "liveview_sockets";
/// Views joined and alive.
pub const VIEWS: &str = "liveview_views";
/// Async tasks running.
pub const ASYNC_TASKS: &str = "liveview_async_tasks";

/// How many async tasks (`assign_async`, `start_async`, in every view and component of this
/// process) are running now: started and neither finished nor cancelled. Tests use it to
/// check that leaving a page cancels its tasks.
///
/// ```
/// assert_eq!(liveview_core::telemetry::async_tasks(), 0);
/// ```
pub fn async_tasks() -> usize {
    crate::async_task::alive()
}

/// Turns run, by kind.
pub const EVENTS: &str = "liveview_events_total";
/// Bytes of text frames written.
pub const BYTES_SENT: &str = "liveview_bytes_sent_total";
/// Refusals, by reason.
pub const REFUSALS: &str = "liveview_refusals_total";

/// Counts a refusal (an error reply, or a socket closed for cause).
pub(crate) fn refused(reason: &'static str) {
    metrics::counter!(REFUSALS, "reason" => reason).increment(1);
}

/// Counts one turn.
pub(crate) fn turn(kind: &'static str) {
    metrics::counter!(EVENTS, "kind" => kind).increment(1);
}

/// Counts bytes written.
pub(crate) fn sent(bytes: usize) {
    metrics::counter!(BYTES_SENT).increment(bytes as u64);
}

/// A gauge held up while its guard lives (a socket, a view).
#[derive(Debug)]
pub(crate) struct Alive(&'static str);

impl Alive {
    pub(crate) fn new(gauge: &'static str) -> Self {
        metrics::gauge!(gauge).increment(1.0);
        Self(gauge)
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}
