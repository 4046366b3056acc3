//! Client-supplied strings in log lines are cut and escaped: a client can neither flood the
//! log (a 500 KB event name) nor forge a line or a terminal escape (`\n`, ANSI codes).

mod support;

use serde_json::json;
use support::{assert_server_works, start, Captured, Joined};

/// Everything the test's subscriber writes.

#[tokio::test]
async fn hostile_event_names_and_topics_are_cut_and_escaped_in_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter("liveview=warn")
        .with_writer(move || writer.clone())
        .init();
    let address = start().await;
    let mut joined = Joined::open(address, "/counter").await;

    let forged = "\nERROR forged line\u{1b}[31m";
    let name = format!("{forged}{}", "x".repeat(500_000));
    let reply = joined
        .event_raw(support::click(&name, json!({"value": ""})))
        .await;
    let refused = &reply[4]["response"]["diff"]["e"][0][1];
    assert_eq!(refused["reason"], json!("unknown event"));
    assert!(
        refused["event"].as_str().unwrap().len() <= 200,
        "the refusal echoes a bounded name: {refused}"
    );
    let topic = format!("lv:{}{}", forged, "y".repeat(400_000));
    joined.client.push(None, &topic, "event", json!({})).await;
    let reply = joined.client.recv().await;
    assert_eq!(reply[4]["response"]["reason"], json!("unmatched topic"));
    assert_server_works(address).await;

    let log = captured.text();
    assert!(
        log.contains("unknown event"),
        "the refusal is logged: {log}"
    );
    // 900 KB of hostile names made at most a few KB of log.
    assert!(log.len() < 8_000, "{} bytes of log", log.len());
    assert!(!log.contains('\u{1b}'), "no raw escape reaches the log");
    assert!(
        log.lines().all(|line| !line.starts_with("ERROR forged")),
        "no forged line: {log}"
    );
    assert!(log.contains("\\nERROR forged line\\u{1b}[31m"), "{log}");
}
