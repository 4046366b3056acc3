//! The upload protocol over a real socket: selection, preflight, the `lvu:` channel with
//! binary chunks, progress, consume; and the refusals (forged token, oversized file).

mod support;

use futures_util::SinkExt;
use serde_json::{json, Value};
use support::upload::upload_ref;
use support::{binary_push, page, start, Client};
use tokio_tungstenite::tungstenite::Message;

struct Session {
    client: Client,
    join_ref: String,
    topic: String,
    upload_ref: String,
}

async fn joined() -> Session {
    let address = start().await;
    let page = page(address, "/upload").await;
    let topic = format!("lv:{}", page.id);
    let mut client = Client::connect(address, &page.csrf).await;
    let join_ref = client.next_ref();
    let payload = json!({
        "url": format!("http://{address}/upload"),
        "params": {"_csrf_token": page.csrf, "_mounts": 0},
        "session": page.session, "static": null,
    });
    client
        .send_text(&json!([join_ref, join_ref, topic, "phx_join", payload]).to_string())
        .await;
    let reply = client.recv_raw().await.unwrap();
    assert!(reply.contains(r#""status":"ok""#), "{reply}");
    let upload_ref = upload_ref(&serde_json::from_str::<Value>(&reply).unwrap());
    Session {
        client,
        join_ref,
        topic,
        upload_ref,
    }
}

impl Session {
    async fn select(&mut self, name: &str, size: u64) -> Value {
        let entry = json!({"path": "files", "ref": "0", "last_modified": 1, "name": name, "type": "text/plain", "size": size});
        let payload = json!({
            "type": "form", "event": "validate", "value": "", "meta": {"_target": "files"},
            "uploads": {self.upload_ref.clone(): [entry]},
        });
        self.client
            .push(
                Some(&self.join_ref.clone()),
                &self.topic.clone(),
                "event",
                payload,
            )
            .await;
        self.client.recv().await
    }

    async fn preflight(&mut self, name: &str, size: u64) -> Value {
        let payload = json!({"ref": self.upload_ref, "entries": [{"last_modified": 1, "name": name, "size": size, "type": "text/plain", "ref": "0"}]});
        self.client
            .push(
                Some(&self.join_ref.clone()),
                &self.topic.clone(),
                "allow_upload",
                payload,
            )
            .await;
        self.client.recv().await
    }
}

#[tokio::test]
async fn a_file_uploads_in_chunks_and_is_consumed() {
    let mut session = joined().await;
    let content: Vec<u8> = (0..40_000u32)
        .map(|i| b"hello, upload! "[i as usize % 15])
        .collect();

    let reply = session.select("a.txt", content.len() as u64).await;
    assert_eq!(reply[4]["status"], json!("ok"));
    assert!(
        reply.to_string().contains("a.txt"),
        "the entry is rendered: {reply}"
    );

    let reply = session.preflight("a.txt", content.len() as u64).await;
    let response = &reply[4]["response"];
    assert_eq!(response["ref"], json!(session.upload_ref));
    assert_eq!(response["config"]["chunk_size"], json!(16_000));
    assert_eq!(response["errors"], json!({}));
    let token = response["entries"]["0"]
        .as_str()
        .expect("a token for entry 0")
        .to_owned();

    let upload_join = session.client.next_ref();
    session
        .client
        .send_text(
            &json!([upload_join, upload_join, "lvu:0", "phx_join", {"token": token}]).to_string(),
        )
        .await;
    let reply = session.client.recv().await;
    assert_eq!(reply[4], json!({"status": "ok", "response": {}}));

    for chunk in content.chunks(16_000) {
        let msg_ref = session.client.next_ref();
        let frame = binary_push(&upload_join, &msg_ref, "lvu:0", "chunk", chunk);
        session
            .client
            .socket
            .send(Message::binary(frame))
            .await
            .unwrap();
        let reply = session.client.recv().await;
        assert_eq!(reply[1], json!(msg_ref));
        assert_eq!(reply[4], json!({"status": "ok", "response": {}}));
    }

    let (join_ref, topic) = (session.join_ref.clone(), session.topic.clone());
    let progress =
        json!({"event": null, "ref": session.upload_ref, "entry_ref": "0", "progress": 100});
    session
        .client
        .push(Some(&join_ref), &topic, "progress", progress)
        .await;
    let reply = session.client.recv().await;
    assert_eq!(reply[4]["status"], json!("ok"));

    // uploaded_entries sees the finished entry (the form's next change event asks it).
    let validate =
        json!({"type": "form", "event": "validate", "value": "", "meta": {"_target": "files"}});
    session
        .client
        .push(Some(&join_ref), &topic, "event", validate)
        .await;
    let reply = session.client.recv().await;
    let counts = reply[4]["response"]["diff"].to_string();
    // Slots 6 and 7 are the counts: after the selection they were 0 completed, 1 in progress.
    assert_eq!(counts, r#"{"6":"1","7":"0"}"#, "completed 1, in progress 0");

    let save = json!({"type": "form", "event": "save", "value": "", "meta": {}});
    session
        .client
        .push(Some(&join_ref), &topic, "event", save)
        .await;
    let reply = session.client.recv().await.to_string();
    assert!(
        reply.contains(r#"{"0":"a.txt","1":"40000","2":"hello, upload! h"}"#),
        "the stored file is listed with its size and first bytes: {reply}"
    );
    assert!(
        reply.contains(r#"data-phx-active-refs=\"\""#),
        "the entry was consumed: {reply}"
    );
}

#[tokio::test]
async fn forged_tokens_and_oversized_files_are_refused() {
    let mut session = joined().await;
    session.select("b.txt", 10).await;
    let reply = session.preflight("b.txt", 10).await;
    let token = reply[4]["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_owned();

    let join = session.client.next_ref();
    let forged = format!("{token}x");
    session
        .client
        .send_text(&json!([join, join, "lvu:0", "phx_join", {"token": forged}]).to_string())
        .await;
    assert_eq!(
        session.client.recv().await[4],
        json!({"status": "error", "response": {"reason": "invalid_token"}})
    );

    let join = session.client.next_ref();
    session
        .client
        .send_text(&json!([join, join, "lvu:0", "phx_join", {"token": token}]).to_string())
        .await;
    assert_eq!(session.client.recv().await[4]["status"], json!("ok"));
    let msg_ref = session.client.next_ref();
    let frame = binary_push(&join, &msg_ref, "lvu:0", "chunk", &[7u8; 20]);
    session
        .client
        .socket
        .send(Message::binary(frame))
        .await
        .unwrap();
    assert_eq!(
        session.client.recv().await[4],
        json!({"status": "error", "response": {"reason": "file_size_limit_exceeded", "limit": 10}})
    );

    // The view still works.
    let (join_ref, topic) = (session.join_ref.clone(), session.topic.clone());
    let cancel = json!({"type": "click", "event": "cancel", "value": {"ref": "0"}});
    session
        .client
        .push(Some(&join_ref), &topic, "event", cancel)
        .await;
    assert_eq!(session.client.recv().await[4]["status"], json!("ok"));
}

#[tokio::test]
async fn files_of_the_wrong_type_or_size_get_entry_errors() {
    let mut session = joined().await;
    // One file over the 2 MB limit (of an accepted type), one of a type not accepted.
    let big = json!({"path": "files", "ref": "0", "name": "big.txt", "type": "text/plain", "size": 5_000_000});
    let exe = json!({"path": "files", "ref": "1", "name": "evil.exe", "type": "application/x-msdownload", "size": 10});
    let payload = json!({
        "type": "form", "event": "validate", "value": "", "meta": {"_target": "files"},
        "uploads": {session.upload_ref.clone(): [big, exe]},
    });
    let (join_ref, topic) = (session.join_ref.clone(), session.topic.clone());
    session
        .client
        .push(Some(&join_ref), &topic, "event", payload)
        .await;
    let diff = &session.client.recv().await[4]["response"]["diff"];
    let input = diff["3"].as_str().expect("the file input is re-rendered");
    assert!(
        input.contains(r#"data-phx-error-refs="0,1""#),
        "both entries are in error: {input}"
    );
    let rows = &diff["5"]["k"];
    assert_eq!(rows["kc"], json!(2));
    assert_eq!(rows["0"]["1"], json!("big.txt"));
    assert_eq!(
        rows["0"]["5"]["k"]["0"]["0"],
        json!(" data-reason=\"too_large\"")
    );
    assert_eq!(
        rows["0"]["5"]["k"]["0"]["1"],
        json!("This file is larger than 2 MB.")
    );
    assert_eq!(rows["1"]["1"], json!("evil.exe"));
    assert_eq!(
        rows["1"]["5"]["k"]["0"]["0"],
        json!(" data-reason=\"not_accepted\"")
    );
    assert_eq!(
        rows["1"]["5"]["k"]["0"]["1"],
        json!("This kind of file is not accepted (only .txt, .png, .jpg, .bin).")
    );
}
