//! Replies to events (`Socket::reply`, `ComponentSocket::reply`) over the protocol: the
//! payload travels as the reply diff's `"r"` (what a hook's `pushEvent` callback receives),
//! only in the answer to the event that set it; and a refused event's ok reply.

mod support;

use liveview_core::{
    html, ComponentSocket, Endpoint, LiveComponent, LiveView, Meta, Rendered, Router, Socket,
    ViewResult,
};
use serde::Deserialize;
use serde_json::{json, Value};
use support::Client;

#[derive(Default)]
struct Counter;

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum CounterEvent {
    Ask { n: i64 },
}

impl LiveComponent for Counter {
    type State = u32;
    type Props = ();
    type Event = CounterEvent;

    fn update(&self, _: &mut ComponentSocket<Self>, _: ()) {}

    async fn handle_event(
        &self,
        socket: &mut ComponentSocket<Self>,
        event: CounterEvent,
    ) -> ViewResult {
        let CounterEvent::Ask { n } = event;
        socket.assign(|asked| *asked += 1);
        socket.reply(&json!({"double": n * 2, "asked": *socket.context()}));
        Ok(())
    }

    fn render(&self, asked: &u32, meta: &Meta<'_>) -> Rendered {
        html! { div #counter phx-hook="Ask" phx-target=(meta.myself) { (asked) } }
    }
}

#[derive(Default)]
struct Page1;

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Event {
    Square { n: i64 },
    Quiet,
}

impl LiveView for Page1 {
    type State = ();
    type Event = Event;
    type Info = ();

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Square { n } => socket.reply(&json!({"square": n * n})),
            Event::Quiet => {}
        }
        Ok(())
    }

    fn render(&self, _: &(), meta: &Meta<'_>) -> Rendered {
        html! { div #page phx-hook="Square" {} (meta.live_component(Counter, "counter", ())) }
    }
}

fn hook(name: &str, value: Value, cid: Option<u32>) -> Value {
    let mut payload = json!({"type": "hook", "event": name, "value": value});
    if let Some(cid) = cid {
        payload["cid"] = json!(cid);
    }
    payload
}

#[tokio::test]
async fn a_view_replies_to_the_event_that_asked() {
    let mut client = join().await;
    let reply = client
        .push("event", hook("square", json!({"n": 12}), None))
        .await;
    assert_eq!(
        reply[4],
        json!({"status": "ok", "response": {"diff": {"r": {"square": 144}}}})
    );
    // The next event sets no reply: none is sent.
    let reply = client.push("event", hook("quiet", json!({}), None)).await;
    assert_eq!(reply[4], json!({"status": "ok", "response": {}}));
}

#[tokio::test]
async fn a_component_replies_with_its_diff() {
    let mut client = join().await;
    let reply = client
        .push("event", hook("ask", json!({"n": 21}), Some(1)))
        .await;
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"c": {"1": {"1": "1"}}, "r": {"double": 42, "asked": 1}})
    );
}

#[tokio::test]
async fn a_refused_event_is_an_ok_reply_naming_the_reason() {
    let mut client = join().await;
    let reply = client.push("event", hook("nope", json!({}), None)).await;
    assert_eq!(
        reply[4],
        json!({"status": "ok", "response": {"diff": {"e": [["lv:refused", {"reason": "unknown event", "event": "nope"}]]}}})
    );
    // The view goes on.
    let reply = client
        .push("event", hook("square", json!({"n": 3}), None))
        .await;
    assert_eq!(reply[4]["response"]["diff"]["r"], json!({"square": 9}));
}

/// Joins the page.
async fn join() -> Client {
    let endpoint = Endpoint::builder(Router::new().live("/", Page1))
        .random_secret_key()
        .build()
        .unwrap();
    let (client, reply) = Client::join(endpoint).await;
    assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
    client
}
