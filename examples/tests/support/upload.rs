//! The upload protocol as the client speaks it: the input's upload ref, selection and
//! preflight, `lvu:` joins and binary chunks.

use serde_json::{json, Value};

use super::{binary_push, Joined};

/// The upload ref of the page's file input, from a join reply or a diff.
pub fn upload_ref(reply: &Value) -> String {
    let text = reply.to_string();
    let marker = "data-phx-upload-ref=\\\"";
    let start = text.find(marker).expect("the upload input is rendered") + marker.len();
    let end = text[start..].find('\\').unwrap() + start;
    text[start..end].to_owned()
}

/// One selected file as the client lists it (`text/plain`).
pub fn client_entry(entry_ref: &str, name: &str, size: usize) -> Value {
    json!({"path": "files", "ref": entry_ref, "last_modified": 1, "name": name,
           "type": "text/plain", "size": size})
}

/// The form `event` of a selection: `validate` with `uploads: {upload: entries}`.
pub fn select(upload: &str, entries: &[Value]) -> Value {
    json!({"type": "form", "event": "validate", "value": "", "meta": {"_target": "files"},
           "uploads": {upload: entries}})
}

/// Selects `entries` and preflights them (`allow_upload`); returns the preflight reply's
/// `response`.
pub async fn preflight(joined: &mut Joined, upload: &str, entries: &[Value]) -> Value {
    joined.event(select(upload, entries)).await;
    let msg_ref = joined
        .push("allow_upload", json!({"ref": upload, "entries": entries}))
        .await;
    joined.reply_to(&msg_ref).await
}

/// Joins `lvu:<entry_ref>` with `token`; returns the join ref and the reply.
pub async fn join_upload(joined: &mut Joined, entry_ref: &str, token: &str) -> (String, Value) {
    let join_ref = joined.client.next_ref();
    let topic = format!("lvu:{entry_ref}");
    joined
        .client
        .send_text(&json!([join_ref, join_ref, topic, "phx_join", {"token": token}]).to_string())
        .await;
    (join_ref, joined.client.recv().await)
}

/// Sends one chunk of `entry_ref`'s upload; returns its message ref.
pub async fn send_chunk(
    joined: &mut Joined,
    join_ref: &str,
    entry_ref: &str,
    data: &[u8],
) -> String {
    let msg_ref = joined.client.next_ref();
    let topic = format!("lvu:{entry_ref}");
    let frame = binary_push(join_ref, &msg_ref, &topic, "chunk", data);
    joined.client.send_binary(frame).await;
    msg_ref
}
