//! The Phoenix channel protocol over a real WebSocket: join, events, replies, heartbeat,
//! leave, unknown events, garbage frames and refused joins.

mod support;

use serde_json::{json, Value};
use support::{page, start, Client};

fn event(name: &str, value: Value) -> Value {
    json!({"type": "click", "event": name, "value": value})
}

#[tokio::test]
async fn counter_join_event_heartbeat_leave() {
    let address = start().await;
    let page = page(address, "/counter").await;
    assert!(page.html.contains("<h1>Count: 0</h1>"));
    assert!(page.html.contains("data-phx-main"));
    let topic = format!("lv:{}", page.id);
    let mut client = Client::connect(address, &page.csrf).await;

    let (join_ref, reply) = client
        .join(&page, &format!("http://{address}/counter"))
        .await;
    assert_eq!(reply[0], json!(join_ref));
    assert_eq!(reply[1], json!(join_ref));
    assert_eq!(reply[2], json!(topic));
    assert_eq!(reply[3], json!("phx_reply"));
    assert_eq!(reply[4]["status"], json!("ok"));
    let rendered = &reply[4]["response"]["rendered"];
    assert_eq!(rendered["0"], json!("0"), "text is sent as a JSON string");
    assert!(rendered["s"].is_array());
    assert_eq!(rendered["t"], json!("Counter"));
    assert_eq!(reply[4]["response"]["liveview_version"], json!("1.2.12"));

    let msg_ref = client
        .push(
            Some(&join_ref),
            &topic,
            "event",
            event("inc", json!({"value": ""})),
        )
        .await;
    let reply = client.recv_raw().await.unwrap();
    assert_eq!(
        reply,
        format!(
            r#"["{join_ref}","{msg_ref}","{topic}","phx_reply",{{"status":"ok","response":{{"diff":{{"0":"1"}}}}}}]"#
        )
    );

    let msg_ref = client.push(None, "phoenix", "heartbeat", json!({})).await;
    assert_eq!(
        client.recv_raw().await.unwrap(),
        format!(r#"[null,"{msg_ref}","phoenix","phx_reply",{{"status":"ok","response":{{}}}}]"#)
    );

    let msg_ref = client
        .push(Some(&join_ref), &topic, "phx_leave", json!({}))
        .await;
    assert_eq!(
        client.recv_raw().await.unwrap(),
        format!(
            r#"["{join_ref}","{msg_ref}","{topic}","phx_reply",{{"status":"ok","response":{{}}}}]"#
        )
    );
    // Then the channel closes, as Phoenix's does when a channel stops normally.
    assert_eq!(
        client.recv_raw().await.unwrap(),
        format!(r#"["{join_ref}","{join_ref}","{topic}","phx_close",{{}}]"#)
    );
    let msg_ref = client
        .push(Some(&join_ref), &topic, "event", event("inc", json!({})))
        .await;
    let reply = client.recv().await;
    assert_eq!(reply[1], json!(msg_ref));
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "unmatched topic"}})
    );
}

#[tokio::test]
async fn unknown_event_gets_an_error_reply_and_the_channel_keeps_working() {
    let address = start().await;
    let page = page(address, "/counter").await;
    let topic = format!("lv:{}", page.id);
    let mut client = Client::connect(address, &page.csrf).await;
    let (join_ref, _) = client
        .join(&page, &format!("http://{address}/counter"))
        .await;

    let msg_ref = client
        .push(Some(&join_ref), &topic, "event", event("nope", json!({})))
        .await;
    let reply = client.recv().await;
    assert_eq!(reply[1], json!(msg_ref));
    // Refused with an ok reply (an error reply would leave the client's element locked).
    assert_eq!(
        reply[4],
        json!({"status": "ok", "response": {"diff": {"e": [["lv:refused", {"reason": "unknown event", "event": "nope"}]]}}})
    );

    let msg_ref = client
        .push(Some(&join_ref), &topic, "no_such_channel_event", json!({}))
        .await;
    let reply = client.recv().await;
    assert_eq!(reply[1], json!(msg_ref));
    assert_eq!(
        reply[4]["response"]["diff"]["e"][0][1]["reason"],
        json!("unknown event")
    );

    client
        .push(Some(&join_ref), &topic, "event", event("dec", json!({})))
        .await;
    let reply = client.recv().await;
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "-1"}));
}

#[tokio::test]
async fn table_bump_sends_only_the_changed_value() {
    let address = start().await;
    let page = page(address, "/table").await;
    let topic = format!("lv:{}", page.id);
    let mut client = Client::connect(address, &page.csrf).await;
    let (join_ref, reply) = client.join(&page, &format!("http://{address}/table")).await;
    let rows = &reply[4]["response"]["rendered"]["0"]["k"];
    assert_eq!(rows["kc"], json!(100));

    client
        .push(
            Some(&join_ref),
            &topic,
            "event",
            event("bump", json!({"id": "5", "value": ""})),
        )
        .await;
    let reply = client.recv().await;
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"0": {"k": {"4": {"3": "1"}, "kc": 100}}})
    );
}

#[tokio::test]
async fn garbage_frames_close_that_socket_only() {
    let address = start().await;
    let page = page(address, "/counter").await;
    let mut healthy = Client::connect(address, &page.csrf).await;
    let (join_ref, _) = healthy
        .join(&page, &format!("http://{address}/counter"))
        .await;

    for garbage in ["not json", "[1,2,3]", r#"["1","2","t","e",[]]"#, "{}"] {
        let mut bad = Client::connect(address, &page.csrf).await;
        bad.send_text(garbage).await;
        assert_eq!(bad.recv_raw().await, None, "{garbage:?} closes the socket");
    }
    let mut bad = Client::connect(address, &page.csrf).await;
    bad.socket
        .send(tokio_tungstenite::tungstenite::Message::binary(vec![
            7u8, 1, 2,
        ]))
        .await
        .unwrap();
    assert_eq!(
        bad.recv_raw().await,
        None,
        "binary garbage closes the socket"
    );

    let topic = format!("lv:{}", page.id);
    healthy
        .push(Some(&join_ref), &topic, "event", event("inc", json!({})))
        .await;
    assert_eq!(
        healthy.recv().await[4]["response"]["diff"],
        json!({"0": "1"})
    );
    let fresh = support::page(address, "/counter").await;
    let mut client = Client::connect(address, &fresh.csrf).await;
    let (_, reply) = client
        .join(&fresh, &format!("http://{address}/counter"))
        .await;
    assert_eq!(reply[4]["status"], json!("ok"));
}

use futures_util::SinkExt;

#[tokio::test]
async fn forged_or_mismatched_joins_are_refused_as_stale() {
    let address = start().await;
    let page = page(address, "/counter").await;
    let url = format!("http://{address}/counter");
    let stale = json!({"status": "error", "response": {"reason": "stale"}});

    let mut forged = page.clone();
    forged.session = format!("{}x", page.session);
    let mut client = Client::connect(address, &page.csrf).await;
    assert_eq!(client.join(&forged, &url).await.1[4], stale);

    let mut wrong_csrf = page.clone();
    wrong_csrf.csrf = "not-the-token".into();
    assert_eq!(client.join(&wrong_csrf, &url).await.1[4], stale);

    let other = support::page(address, "/counter").await;
    let mut swapped = page.clone();
    swapped.session = other.session.clone();
    assert_eq!(
        client.join(&swapped, &url).await.1[4],
        stale,
        "a token is bound to its view id"
    );

    let table_url = format!("http://{address}/table");
    assert_eq!(
        client.join(&page, &table_url).await.1[4],
        json!({"status": "error", "response": {"reason": "unauthorized"}})
    );
    assert_eq!(client.join(&page, &url).await.1[4]["status"], json!("ok"));
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let address = start().await;
    assert_eq!(support::get(address, "/nope").await.0, 404);
    assert_eq!(support::get(address, "/").await.0, 200);
}
