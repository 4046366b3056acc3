//! `temp_assign` over a real WebSocket: 10,000 chat messages pass through one view; each diff
//! carries only the new row, and the view never holds more than the message being rendered.

mod support;

use std::sync::atomic::Ordering;

use examples::chat::Chat;
use liveview_core::{Config, Endpoint, Router};
use serde_json::json;
use support::{form, start_endpoint, Joined};

const MESSAGES: u64 = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_leave_the_view_holding_nothing() {
    let chat = Chat::default();
    let stats = chat.stats();
    let node = chat.node().to_owned();
    // 10,000 messages as fast as the server answers: above the default flood limit.
    let mut config = Config::default();
    config.max_messages_per_second = 1_000_000;
    config.message_burst = 1_000_000;
    let endpoint = Endpoint::builder(Router::new().live("/chat", chat))
        .random_secret_key()
        .config(config)
        .build()
        .unwrap();
    let address = start_endpoint(endpoint).await;
    let mut sender = Joined::open(address, "/chat").await;
    let mut watcher = Joined::open(address, "/chat").await;
    assert_eq!(sender.rendered()["0"]["k"], json!({"kc": 0}));

    for n in 1..=MESSAGES {
        let text = format!("message {n}");
        let reply = sender
            .event(form("send", &format!("author=ann&text=message+{n}"), None))
            .await;
        assert!(
            !reply.to_string().contains("message "),
            "the reply carries no message: {reply}"
        );
        let row = json!({"0": {"k": {"0": {"0": format!(" id=\"msg-{node}-{n}\""), "1": "ann", "2": text}, "kc": 1}}});
        // The sender's own view and another tab's view both get exactly the new row.
        for view in [&mut sender, &mut watcher] {
            let (event, diff) = view.pushed().await;
            assert_eq!(event, "diff");
            assert_eq!(diff, row, "message {n}");
        }
    }
    assert_eq!(stats.rendered.load(Ordering::SeqCst), 2 * MESSAGES);
    assert_eq!(
        stats.max_retained.load(Ordering::SeqCst),
        0,
        "temp_assign emptied the list after every render"
    );
}
