//! Conformance with the real client: the join payload and every diff the server sends over the
//! socket, merged by the Phoenix LiveView client's own code (`js/oracle`, jsdom), give exactly
//! the server's own full render of the same state, after every step.

#[allow(unreachable_pub, dead_code)]
#[path = "../../liveview-diff/tests/support/oracle.rs"]
mod oracle;
mod support;

use examples::{counter, table};
use liveview_core::diff::client::ClientTree;
use liveview_core::{Flash, LiveView, Meta, Uploads};
use serde_json::{json, Value};
use support::{page, start, Client};

fn meta<'a>(flash: &'a Flash, uploads: &'a Uploads) -> Meta<'a> {
    Meta {
        connected: true,
        flash,
        uploads,
        ..Meta::default()
    }
}

/// Joins `path`, sends `events` one by one, and returns the join `rendered` followed by every
/// reply's diff (`{}` when a reply had none), as JSON lines.
async fn wire_lines(path: &str, events: &[(&str, Value)]) -> Vec<String> {
    let address = start().await;
    let page = page(address, path).await;
    let mut client = Client::connect(address, &page.csrf).await;
    let (join_ref, reply) = client.join(&page, &format!("http://{address}{path}")).await;
    let topic = format!("lv:{}", page.id);
    let mut lines = vec![reply[4]["response"]["rendered"].to_string()];
    for (name, value) in events {
        let payload = json!({"type": "click", "event": name, "value": value});
        client.push(Some(&join_ref), &topic, "event", payload).await;
        let reply = client.recv().await;
        assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
        let diff = reply[4]["response"]
            .get("diff")
            .cloned()
            .unwrap_or(json!({}));
        lines.push(diff.to_string());
    }
    lines
}

fn merged(lines: &[String]) -> Vec<String> {
    let html = oracle::merge_plain(lines)
        .unwrap_or_else(|error| panic!("the client refused the payloads: {error}"));
    // The test toolkit's own merge (`ClientTree`) holds what the real client holds.
    let mut tree = None;
    for (index, line) in lines.iter().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line).expect("wire JSON");
        let value = value.get("rendered").cloned().unwrap_or(value);
        let value = value.get("diff").cloned().unwrap_or(value);
        if index == 0 {
            tree = Some(ClientTree::join(value).expect("ClientTree joins").0);
        } else {
            tree.as_mut()
                .unwrap()
                .apply(value)
                .expect("ClientTree merges");
        }
        let ours = tree
            .as_mut()
            .unwrap()
            .plain_html()
            .expect("ClientTree renders");
        assert_eq!(
            ours, html[index],
            "ClientTree differs from the real client at line {index}"
        );
    }
    html
}

#[tokio::test]
async fn counter_diffs_merge_to_the_servers_render() {
    let events = [
        ("inc", json!({})),
        ("inc", json!({})),
        ("inc", json!({})),
        ("dec", json!({})),
    ];
    let lines = wire_lines("/counter", &events).await;
    let html = merged(&lines);
    let (flash, uploads) = (Flash::default(), Uploads::default());
    for (step, count) in [0, 1, 2, 3, 2].into_iter().enumerate() {
        let expected = counter::Counter.render(&counter::State { count }, &meta(&flash, &uploads));
        assert_eq!(html[step], expected.to_html(), "after step {step}");
    }
    assert!(html[4].contains("<h1>Count: 2</h1>"));
}

#[tokio::test]
async fn table_diffs_merge_to_the_servers_render() {
    let bumps = ["5", "5", "100", "1", "5"];
    let events: Vec<(&str, Value)> = bumps
        .iter()
        .map(|id| ("bump", json!({"id": id, "value": ""})))
        .collect();
    let lines = wire_lines("/table", &events).await;
    let html = merged(&lines);
    let (flash, uploads) = (Flash::default(), Uploads::default());
    let mut state = table::State::initial();
    assert_eq!(
        html[0],
        table::Table
            .render(&state, &meta(&flash, &uploads))
            .to_html()
    );
    for (step, id) in bumps.iter().enumerate() {
        let id: u32 = id.parse().unwrap();
        state
            .rows
            .iter_mut()
            .find(|row| row.id == id)
            .unwrap()
            .value += 1;
        let expected = table::Table
            .render(&state, &meta(&flash, &uploads))
            .to_html();
        assert_eq!(html[step + 1], expected, "after bump {step}");
    }
    // Each bump's diff carries one value: a few dozen bytes, not the table.
    for diff in &lines[1..] {
        assert!(diff.len() < 60, "{diff}");
    }
}
