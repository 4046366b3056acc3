//! Live components over the protocol: `"c"` maps with `"r": 1`, component-only diffs for
//! targeted events, props updates from the parent, send_parent_info, the destroy round trip,
//! and conformance of all of it with the real client's merge code.

#[allow(unreachable_pub, dead_code)]
#[path = "../../liveview-diff/tests/support/oracle.rs"]
mod oracle;

mod support;

use liveview_core::{
    html, ComponentSocket, Endpoint, LiveComponent, LiveView, Meta, Rendered, Router, Session,
    Socket, ViewResult,
};
use serde::Deserialize;
use serde_json::{json, Value};
use support::Client;

#[derive(Default)]
struct Card;

#[derive(Default)]
struct CardState {
    title: String,
    likes: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum CardEvent {
    Like,
    Tell,
}

impl LiveComponent for Card {
    type State = CardState;
    type Props = String;
    type Event = CardEvent;

    fn update(&self, socket: &mut ComponentSocket<Self>, title: String) {
        socket.assign(|state| state.title = title);
    }

    async fn handle_event(
        &self,
        socket: &mut ComponentSocket<Self>,
        event: CardEvent,
    ) -> ViewResult {
        match event {
            CardEvent::Like => socket.assign(|state| state.likes += 1),
            CardEvent::Tell => socket.send_parent_info(Info::Liked(socket.id().to_owned())),
        }
        Ok(())
    }

    fn render(&self, state: &CardState, meta: &Meta<'_>) -> Rendered {
        html! {
            section.card {
                h2 { (&state.title) }
                button phx-click="like" phx-target=(meta.myself) { "likes: " (state.likes) }
            }
        }
    }
}

#[derive(Default)]
struct Board;

#[derive(Default)]
struct BoardState {
    cards: Vec<(u32, String)>,
    told: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum BoardEvent {
    Rename,
    Drop,
}

enum Info {
    Liked(String),
}

impl LiveView for Board {
    type State = BoardState;
    type Event = BoardEvent;
    type Info = Info;

    async fn mount(
        &self,
        socket: &mut Socket<Self>,
        _: &liveview_core::Params,
        _: &Session,
    ) -> ViewResult {
        socket.assign(|state| state.cards = vec![(1, "one".into()), (2, "two".into())]);
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: BoardEvent) -> ViewResult {
        match event {
            BoardEvent::Rename => socket.assign(|state| state.cards[1].1 = "TWO".into()),
            BoardEvent::Drop => socket.assign(|state| {
                state.cards.remove(0);
            }),
        }
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: Info) -> ViewResult {
        let Info::Liked(id) = info;
        socket.assign(|state| state.told.push(id));
        Ok(())
    }

    fn render(&self, state: &BoardState, meta: &Meta<'_>) -> Rendered {
        html! {
            div #board {
                @for (id, title) in &state.cards, key = id {
                    (meta.live_component(Card, format!("card-{id}"), title.clone()))
                }
                p { "told: " (state.told.join(",")) }
            }
        }
    }
}

fn click(name: &str, cid: Option<u32>) -> Value {
    let mut payload = json!({"type": "click", "event": name, "value": {}});
    if let Some(cid) = cid {
        payload["cid"] = json!(cid);
    }
    payload
}

#[tokio::test]
async fn components_travel_in_c_and_diff_on_their_own() {
    let (mut client, reply) = join().await;
    let rendered = &reply[4]["response"]["rendered"];
    let rows = &rendered["0"]["k"];
    assert_eq!(
        (rows["0"]["0"].clone(), rows["1"]["0"].clone()),
        (json!(1), json!(2)),
        "slots hold cids"
    );
    for cid in ["1", "2"] {
        assert_eq!(
            rendered["c"][cid]["r"],
            json!(1),
            "component {cid} is a root element"
        );
        assert!(rendered["c"][cid]["s"].is_array());
    }
    let mut lines = vec![rendered.to_string()];

    // A targeted event re-renders that component only: a component-only diff.
    let reply = client.push("event", click("like", Some(2))).await;
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"c": {"2": {"2": "1"}}})
    );
    lines.push(reply[4]["response"]["diff"].to_string());

    // New props from the parent update only the component whose output changed.
    let reply = client.push("event", click("rename", None)).await;
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"c": {"2": {"0": "TWO"}}})
    );
    lines.push(reply[4]["response"]["diff"].to_string());

    // send_parent_info reaches the view's handle_info, whose render is pushed as a diff.
    let reply = client.push("event", click("tell", Some(1))).await;
    assert_eq!(reply[4]["response"], json!({}));
    let push = client.recv().await;
    assert_eq!(push[3], json!("diff"));
    assert_eq!(push[4]["1"], json!("card-1"));
    lines.push(push[4].to_string());

    // Removing a component: the parent's diff drops its slot; the client then destroys it.
    let reply = client.push("event", click("drop", None)).await;
    let diff = &reply[4]["response"]["diff"];
    assert_eq!(diff["0"]["k"]["kc"], json!(1));
    lines.push(diff.to_string());
    assert_eq!(
        client.push("cids_will_destroy", json!({"cids": [1]})).await[4]["response"],
        json!({})
    );
    assert_eq!(
        client.push("cids_destroyed", json!({"cids": [1]})).await[4]["response"],
        json!({"cids": [1]})
    );
    // Events for a destroyed component get an empty reply.
    assert_eq!(
        client.push("event", click("like", Some(1))).await[4]["response"],
        json!({})
    );
    // Unknown component events are refused (an ok reply that unlocks the element); the view
    // keeps working.
    let reply = client.push("event", click("nope", Some(2))).await;
    assert_eq!(
        reply[4]["response"],
        json!({"diff": {"e": [["lv:refused", {"reason": "unknown event", "event": "nope"}]]}})
    );
    let reply = client.push("event", click("like", Some(2))).await;
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"c": {"2": {"2": "2"}}})
    );
    lines.push(reply[4]["response"]["diff"].to_string());

    // The real client merges all of it into the server's own (inline) render.
    let html = oracle::merge_plain(&lines).unwrap_or_else(|error| panic!("{error}"));
    let last = html.last().unwrap();
    assert_eq!(
        last,
        "<div id=\"board\"><section class=\"card\"><h2>TWO</h2><button phx-click=\"like\" phx-target=\"2\">likes: 2</button></section><p>told: card-1</p></div>"
    );
}

/// Joins the board (its components render inline over HTTP).
async fn join() -> (Client, Value) {
    let endpoint = Endpoint::builder(Router::new().live("/", Board))
        .random_secret_key()
        .build()
        .unwrap();
    Client::join_with(endpoint, |html| {
        assert!(
            html.contains("<section class=\"card\"><h2>one</h2>"),
            "components render inline over HTTP"
        );
    })
    .await
}
