//! Streams over the wire: each render sends only its operations (`"stream"` with inserts,
//! deletes, reset) and this render's items; the real client accepts every payload.

#[allow(unreachable_pub, dead_code)]
#[path = "../../liveview-diff/tests/support/oracle.rs"]
mod oracle;
mod support;

use serde_json::{json, Value};
use support::{page, start, Client};

fn find_stream(value: &Value) -> Option<&Value> {
    match value {
        Value::Object(map) => map
            .get("stream")
            .map(|_| value)
            .or_else(|| map.values().find_map(find_stream)),
        _ => None,
    }
}

#[tokio::test]
async fn stream_renders_send_only_their_operations() {
    let address = start().await;
    let page = page(address, "/feed").await;
    assert!(
        page.html.contains(r#"<li id="posts-1">"#),
        "the HTTP render shows the first posts"
    );
    let topic = format!("lv:{}", page.id);
    let mut client = Client::connect(address, &page.csrf).await;
    let (join_ref, reply) = client.join(&page, &format!("http://{address}/feed")).await;
    let rendered = &reply[4]["response"]["rendered"];
    let stream = find_stream(rendered).expect("a stream comprehension");
    // The reference is the stream's own (a counter), not its name, and stays for its life.
    let reference = stream["stream"][0]
        .as_str()
        .expect("a string ref")
        .to_owned();
    assert_ne!(reference, "posts");
    let r = reference.as_str();
    assert_eq!(
        stream["stream"],
        json!([
            r,
            [["posts-1", -1, null, false], ["posts-2", -1, null, false]],
            []
        ])
    );
    assert_eq!(stream["k"]["kc"], json!(2));
    let mut lines = vec![rendered.to_string()];

    let mut diffs = Vec::new();
    for (name, value) in [
        ("append", json!({})),
        ("edit", json!({"id": "2"})),
        ("delete", json!({"id": "1"})),
        ("prepend", json!({})),
        ("reset", json!({})),
    ] {
        let payload = json!({"type": "click", "event": name, "value": value});
        client.push(Some(&join_ref), &topic, "event", payload).await;
        let reply = client.recv().await;
        let diff = reply[4]["response"]["diff"].clone();
        lines.push(diff.to_string());
        diffs.push(diff);
    }
    let ops: Vec<Value> = diffs
        .iter()
        .map(|diff| find_stream(diff).unwrap()["stream"].clone())
        .collect();
    assert_eq!(ops[0], json!([r, [["posts-3", -1, null, false]], []]));
    assert_eq!(
        ops[1],
        json!([r, [["posts-2", -1, null, true]], []]),
        "update only"
    );
    assert_eq!(ops[2], json!([r, [], ["posts-1"]]));
    assert_eq!(
        ops[3],
        json!([r, [["posts-4", 0, 5, false]], []]),
        "prepend with a limit"
    );
    assert_eq!(
        ops[4],
        json!([r, [["posts-5", 0, 5, false]], [], true]),
        "reset (at the top, keeping at most 5: reset_at)"
    );
    // Each diff carries only its own items: the server holds none of the earlier ones.
    assert_eq!(find_stream(&diffs[2]).unwrap()["k"], json!({"kc": 0}));
    assert_eq!(find_stream(&diffs[0]).unwrap()["k"]["kc"], json!(1));

    // The real client's merge accepts every payload; its tree holds each render's items only.
    let html = oracle::merge_plain(&lines).unwrap_or_else(|error| panic!("{error}"));
    assert!(
        html[1].contains("appended #3") && !html[1].contains("hello #1"),
        "{}",
        html[1]
    );
    assert!(html[5].contains("after reset #5"), "{}", html[5]);
}
