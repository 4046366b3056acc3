//! `/async` over the protocol: the panels render loading, then each result arrives as a diff
//! push without any client message; the failing panel shows its error and its retry works;
//! leaving the page cancels the tasks still running (counted with
//! `liveview_core::telemetry::async_tasks`). One test, so no other test of this binary
//! starts tasks while it counts.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{click, start, Joined};

/// Waits for diff pushes until `done` holds for the collected diffs (text), for at most 5 s.
async fn pushes_until(joined: &mut Joined, done: impl Fn(&str) -> bool) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !done(&seen) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out; saw {seen}"
        );
        let (event, payload) = joined.pushed().await;
        assert_eq!(event, "diff");
        seen.push_str(&payload.to_string());
    }
    seen
}

#[tokio::test]
async fn panels_load_on_their_own_the_failed_one_retries_and_leaving_cancels_the_rest() {
    let address = start().await;
    let before = liveview_core::telemetry::async_tasks();
    assert_eq!(before, 0, "no async task runs before the page is joined");

    // The HTTP render runs no task: every panel is loading.
    let (status, html) = support::get(address, "/async").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("Loading…").count(), 3, "{html}");
    assert_eq!(liveview_core::telemetry::async_tasks(), 0);

    let mut joined = Joined::open(address, "/async").await;
    let rendered = joined.rendered().to_string();
    // The three panels share the loading template (`"p"`), referenced by index.
    assert!(rendered.contains("Loading…"), "{rendered}");
    for panel in ["0", "1", "2"] {
        assert_eq!(joined.rendered()[panel], json!({"s": 0}), "{rendered}");
    }
    // visitors, revenue, rates and the report run now.
    assert_eq!(liveview_core::telemetry::async_tasks(), 4);

    // The fast panels and the failure come first, each as a push, then the slow revenue.
    let seen = pushes_until(&mut joined, |seen| {
        seen.contains("1284") && seen.contains("unavailable (503)")
    })
    .await;
    assert!(!seen.contains("12,940"), "revenue is slower: {seen}");
    let seen = pushes_until(&mut joined, |seen| seen.contains("12,940")).await;
    assert!(seen.contains("12,940"));
    assert_eq!(
        liveview_core::telemetry::async_tasks(),
        1,
        "only the report still runs"
    );

    // Retry: loading at once in the reply, then the rates.
    let msg_ref = joined
        .push("event", click("retry-rates", json!({"value": ""})))
        .await;
    let reply = loop {
        // Task-count ticks may be pushed before the reply.
        let frame = joined.client.recv().await;
        if frame[1] == json!(msg_ref) {
            break frame;
        }
        joined.assert_push(&frame);
    };
    assert!(
        reply[4]["response"].to_string().contains("Loading…"),
        "{reply}"
    );
    let seen = pushes_until(&mut joined, |seen| seen.contains("1 EUR = 1.08 USD")).await;
    assert!(!seen.contains("unavailable"), "{seen}");

    // Leaving cancels the report's task (it would run for a minute).
    let before_leaving = liveview_core::telemetry::async_tasks();
    assert_eq!(before_leaving, 1, "before leaving");
    joined.leave().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while liveview_core::telemetry::async_tasks() != 0 {
        assert!(tokio::time::Instant::now() < deadline, "tasks still alive");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "async tasks: {before_leaving} before leaving /async, {} after",
        liveview_core::telemetry::async_tasks()
    );

    // The same for a socket that closes without leaving.
    let joined = Joined::open(address, "/async").await;
    assert_eq!(liveview_core::telemetry::async_tasks(), 4);
    drop(joined);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while liveview_core::telemetry::async_tasks() != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "tasks outlive a closed socket"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
