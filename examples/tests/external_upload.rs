//! External (client-side) uploads over a real socket, on the `/upload/external` example: the
//! preflight hands each entry its uploader and a presigned URL instead of a channel token,
//! the bytes go to the object store (here with a raw `PUT`, as the browser's uploader does),
//! `progress` events alone complete the entry, and saving checks the store.

mod support;

use serde_json::{json, Value};
use support::upload::{client_entry, preflight, upload_ref};
use support::{assert_server_works, start, Joined};

async fn progress(joined: &mut Joined, upload: &str, progress: Value) -> Value {
    let msg_ref = joined
        .push(
            "progress",
            json!({"event": null, "ref": upload, "entry_ref": "0", "progress": progress}),
        )
        .await;
    joined.reply_to(&msg_ref).await
}

/// `PUT`s `body` to `url` as the browser's uploader does; returns the status code.
async fn put(url: &str, body: &[u8]) -> u16 {
    examples::object_store::send(url, "PUT", body)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_client_uploads_elsewhere_and_progress_completes_the_entry() {
    let address = start().await;
    let mut joined = Joined::open(address, "/upload/external").await;
    let upload = upload_ref(&joined.reply);
    let content = b"sent straight to the object store".repeat(100);

    let response = preflight(
        &mut joined,
        &upload,
        &[client_entry("0", "notes.txt", content.len())],
    )
    .await;
    let meta = &response["entries"]["0"];
    assert_eq!(meta["uploader"], json!("DemoStore"), "{response}");
    let url = meta["url"].as_str().expect("a presigned URL").to_owned();
    let key = meta["key"].as_str().unwrap().to_owned();
    assert!(key.ends_with("/notes.txt"), "{key}");
    assert!(
        url.contains(&format!("/{key}?size={}&", content.len())),
        "{url}"
    );
    assert_eq!(response["errors"], json!({}));

    // There is no channel token: a channel join with the metadata is refused.
    let join_ref = joined.client.next_ref();
    joined
        .client
        .send_text(&json!([join_ref, join_ref, "lvu:0", "phx_join", {"token": meta}]).to_string())
        .await;
    let reply = joined.client.recv().await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "invalid_token"}})
    );

    // The client's uploader sends the file and reports its progress.
    assert_eq!(put(&url, &content).await, 200);
    let response = progress(&mut joined, &upload, json!(42)).await;
    assert!(response.to_string().contains("42"), "{response}");
    let response = progress(&mut joined, &upload, json!(100)).await;
    assert!(
        response.to_string().contains("uploaded"),
        "the entry is done: {response}"
    );

    let saved = joined
        .event(json!({"type": "form", "event": "save", "value": "", "meta": {}}))
        .await
        .to_string();
    // The stored row: key, name, size, type, first bytes.
    assert!(
        saved.contains(&format!(
            r#""1":"notes.txt","2":"{}","3":"text/plain","4":"sent straight to""#,
            content.len()
        )),
        "the object is found in the store: {saved}"
    );
    assert!(
        saved.contains(r#"data-phx-active-refs=\"\""#),
        "the entry was consumed: {saved}"
    );
    assert_server_works(address).await;
}

#[tokio::test]
async fn a_claimed_upload_that_never_reached_the_store_is_reported() {
    let address = start().await;
    let mut joined = Joined::open(address, "/upload/external").await;
    let upload = upload_ref(&joined.reply);
    let response = preflight(&mut joined, &upload, &[client_entry("0", "ghost.txt", 10)]).await;
    assert_eq!(response["entries"]["0"]["uploader"], json!("DemoStore"));
    // The client says it is done, but never sent the bytes.
    progress(&mut joined, &upload, json!(100)).await;
    let saved = joined
        .event(json!({"type": "form", "event": "save", "value": "", "meta": {}}))
        .await
        .to_string();
    assert!(
        saved.contains("The browser reported it sent, but the object store does not have it."),
        "{saved}"
    );
}

#[tokio::test]
async fn a_failure_reported_by_the_uploader_is_shown_in_words() {
    let address = start().await;
    let mut joined = Joined::open(address, "/upload/external").await;
    let upload = upload_ref(&joined.reply);
    preflight(&mut joined, &upload, &[client_entry("0", "a.txt", 10)]).await;
    let response = progress(
        &mut joined,
        &upload,
        json!({"error": "the store answered 403"}),
    )
    .await;
    let text = response.to_string();
    assert!(text.contains("external_client_failure"), "{text}");
    assert!(
        text.contains("The browser could not upload this file."),
        "{text}"
    );
}
