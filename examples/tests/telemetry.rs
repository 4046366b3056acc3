//! Telemetry: the counters a user exports through the `metrics` facade (sockets, views, turns,
//! bytes sent, refusals by reason) and the `tracing` spans per socket and per turn, read off a
//! real recorder and a real subscriber while a client clicks, errs and leaves.

mod support;

use std::time::Duration;

use liveview_core::telemetry;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::{CompositeKey, MetricKind};
use serde_json::json;
use support::{start, Captured, Joined};

/// One snapshot (the debugging recorder resets what it reports: each snapshot holds the
/// change since the previous one).
struct Snapshot(Vec<(CompositeKey, DebugValue)>);

impl Snapshot {
    fn take(snapshotter: &Snapshotter) -> Self {
        Self(
            snapshotter
                .snapshot()
                .into_vec()
                .into_iter()
                .map(|(key, _, _, value)| (key, value))
                .collect(),
        )
    }

    fn value(
        &self,
        kind: MetricKind,
        name: &str,
        label: Option<(&str, &str)>,
    ) -> Option<&DebugValue> {
        self.0
            .iter()
            .find(|(key, _)| {
                key.kind() == kind
                    && key.key().name() == name
                    && label.is_none_or(|(k, v)| {
                        key.key().labels().any(|l| l.key() == k && l.value() == v)
                    })
            })
            .map(|(_, value)| value)
    }

    fn counter(&self, name: &str, label: Option<(&str, &str)>) -> u64 {
        match self.value(MetricKind::Counter, name, label) {
            Some(DebugValue::Counter(n)) => *n,
            None => 0,
            other => panic!("{name} {label:?}: {other:?}"),
        }
    }

    fn gauge(&self, name: &str) -> f64 {
        match self.value(MetricKind::Gauge, name, None) {
            Some(DebugValue::Gauge(g)) => g.into_inner(),
            None => 0.0,
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn counters_and_spans_follow_a_clients_session() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::set_global_recorder(recorder).unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter("liveview_core=debug,liveview_hyper=info")
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .init();

    let address = start().await;
    let mut joined = Joined::open(address, "/counter").await;
    for _ in 0..2 {
        joined
            .event(support::click("inc", json!({"value": ""})))
            .await;
    }
    let refused = joined
        .event_raw(support::click("nope", json!({"value": ""})))
        .await;
    assert_eq!(
        refused[4]["response"]["diff"]["e"][0][1]["reason"],
        json!("unknown event")
    );
    let during = Snapshot::take(&snapshotter);
    assert_eq!(during.gauge(telemetry::VIEWS), 1.0);
    assert_eq!(during.gauge(telemetry::SOCKETS), 1.0);
    assert_eq!(
        during.counter(telemetry::EVENTS, Some(("kind", "mount"))),
        1
    );
    assert_eq!(
        during.counter(telemetry::EVENTS, Some(("kind", "event"))),
        3
    );
    assert_eq!(
        during.counter(telemetry::REFUSALS, Some(("reason", "unknown event"))),
        1
    );
    let sent = during.counter(telemetry::BYTES_SENT, None);
    assert!(sent > 300, "the join reply and three replies: {sent} bytes");

    joined.leave().await;
    drop(joined);
    let mut after = Snapshot::take(&snapshotter);
    let (mut views, mut sockets) = (
        after.gauge(telemetry::VIEWS),
        after.gauge(telemetry::SOCKETS),
    );
    let mut leaves = after.counter(telemetry::EVENTS, Some(("kind", "leave")));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sockets > -1.0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        after = Snapshot::take(&snapshotter);
        views += after.gauge(telemetry::VIEWS);
        sockets += after.gauge(telemetry::SOCKETS);
        leaves += after.counter(telemetry::EVENTS, Some(("kind", "leave")));
    }
    assert_eq!(leaves, 1);
    assert_eq!(views, -1.0, "the view ended");
    assert_eq!(sockets, -1.0, "the socket closed");

    let log = captured.text();
    assert!(
        log.lines()
            .any(|line| line.contains("socket{peer=127.0.0.1:")
                && line.contains("turn{view=/counter kind=\"event\" event=inc}")),
        "a turn span inside the socket span: {log}"
    );
    assert!(log.contains("event=nope"), "{log}");
}
