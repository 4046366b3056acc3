//! A crashing view affects that view only: panics and errors in callbacks end the view with
//! `phx_error`, the client can rejoin (fresh mount), and other views on the same socket carry
//! on. Driven through the transport-agnostic `Connection`, without any socket.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use liveview_core::{
    html, Endpoint, LiveView, Meta, Outbound, Page, Params, Rendered, Router, Session, Socket,
    ViewError, ViewResult,
};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

#[derive(Default)]
struct Fragile {
    ticks: Arc<AtomicUsize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Event {
    Inc,
    Panic,
    Fail,
    BreakRender,
}

#[derive(Default)]
struct State {
    count: i64,
    broken: bool,
}

impl LiveView for Fragile {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, params: &Params, _: &Session) -> ViewResult {
        if params.get("crash").is_some() && socket.connected() {
            panic!("mount exploded");
        }
        let ticks = self.ticks.clone();
        socket.repeat(Duration::from_millis(5), move || {
            ticks.fetch_add(1, Ordering::SeqCst);
        });
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Inc => socket.assign(|s| s.count += 1),
            Event::Panic => panic!("handler exploded"),
            Event::Fail => return Err(ViewError::msg("handler failed")),
            Event::BreakRender => socket.assign(|s| s.broken = true),
        }
        Ok(())
    }

    fn render(&self, state: &State, _: &Meta<'_>) -> Rendered {
        assert!(!state.broken, "render exploded");
        html! { p { "Count: " (state.count) } }
    }
}

struct Harness {
    endpoint: Arc<Endpoint>,
    ticks: Arc<AtomicUsize>,
}

struct Joined {
    topic: String,
    join_ref: String,
}

fn attribute(html: &str, marker: &str) -> String {
    let start = html.find(marker).unwrap() + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

impl Harness {
    fn new() -> Self {
        let ticks = Arc::new(AtomicUsize::new(0));
        let view = Fragile {
            ticks: ticks.clone(),
        };
        let endpoint = Endpoint::builder(Router::new().live("/", view))
            .random_secret_key()
            .build()
            .unwrap();
        Self { endpoint, ticks }
    }

    async fn page(&self, path: &str) -> (String, String, String) {
        let Page::Html(html) = self
            .endpoint
            .render_page(path, Session::default())
            .await
            .unwrap()
        else {
            panic!("not a page")
        };
        (
            attribute(&html, "<div id=\""),
            attribute(&html, "data-phx-session=\""),
            attribute(&html, "name=\"csrf-token\" content=\""),
        )
    }
}

async fn recv(rx: &mut mpsc::Receiver<Outbound>) -> Value {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
    {
        Some(Outbound::Text(text)) => serde_json::from_str(&text).unwrap(),
        other => panic!("expected a frame, got {other:?}"),
    }
}

async fn join(
    connection: &mut liveview_core::Connection,
    rx: &mut mpsc::Receiver<Outbound>,
    harness: &Harness,
    path: &str,
    join_ref: &str,
) -> (Joined, Value) {
    let (id, session, csrf) = harness.page(path).await;
    let topic = format!("lv:{id}");
    let frame = json!([join_ref, join_ref, topic, "phx_join", {
        "url": format!("http://localhost{path}"),
        "params": {"_csrf_token": csrf},
        "session": session,
    }]);
    connection.handle_text(&frame.to_string()).await.unwrap();
    let reply = recv(rx).await;
    (
        Joined {
            topic,
            join_ref: join_ref.to_owned(),
        },
        reply,
    )
}

async fn event(
    connection: &mut liveview_core::Connection,
    joined: &Joined,
    msg_ref: &str,
    name: &str,
) {
    let frame = json!([joined.join_ref, msg_ref, joined.topic, "event", {"type": "click", "event": name, "value": {}}]);
    connection.handle_text(&frame.to_string()).await.unwrap();
}

#[tokio::test]
async fn panics_and_errors_crash_only_their_view() {
    let harness = Harness::new();
    let (mut connection, mut rx) = harness.endpoint.connect();
    let (a, reply) = join(&mut connection, &mut rx, &harness, "/", "1").await;
    assert_eq!(reply[4]["status"], json!("ok"));
    let (b, _) = join(&mut connection, &mut rx, &harness, "/", "2").await;

    for (index, crash) in ["panic", "fail", "break-render"].into_iter().enumerate() {
        let join_ref = format!("{}", 10 + index);
        let (victim, _) = join(&mut connection, &mut rx, &harness, "/", &join_ref).await;
        event(&mut connection, &victim, "50", crash).await;
        let error = recv(&mut rx).await;
        assert_eq!(
            error,
            json!([join_ref, join_ref, victim.topic, "phx_error", {"reason": "channel_crash"}]),
            "{crash} crashes the view with phx_error carrying the join ref"
        );
        // Messages to the crashed view get an error reply, not silence.
        event(&mut connection, &victim, "51", "inc").await;
        let reply = recv(&mut rx).await;
        assert_eq!(
            reply[4],
            json!({"status": "error", "response": {"reason": "unmatched topic"}})
        );
    }

    // The other views on the same connection carry on.
    event(&mut connection, &a, "60", "inc").await;
    assert_eq!(
        recv(&mut rx).await[4]["response"]["diff"],
        json!({"0": "1"})
    );
    event(&mut connection, &b, "61", "inc").await;
    assert_eq!(
        recv(&mut rx).await[4]["response"]["diff"],
        json!({"0": "1"})
    );
}

#[tokio::test]
async fn a_crashed_view_rejoins_with_a_fresh_mount() {
    let harness = Harness::new();
    let (mut connection, mut rx) = harness.endpoint.connect();
    let (id, session, csrf) = harness.page("/").await;
    let topic = format!("lv:{id}");
    let join_frame = |join_ref: &str, mounts: u32| {
        json!([join_ref, join_ref, topic, "phx_join", {
            "url": "http://localhost/", "params": {"_csrf_token": csrf, "_mounts": mounts}, "session": session,
        }])
        .to_string()
    };
    connection.handle_text(&join_frame("1", 0)).await.unwrap();
    recv(&mut rx).await;
    let joined = Joined {
        topic: topic.clone(),
        join_ref: "1".into(),
    };
    event(&mut connection, &joined, "2", "inc").await;
    recv(&mut rx).await;
    event(&mut connection, &joined, "3", "panic").await;
    assert_eq!(recv(&mut rx).await[3], json!("phx_error"));

    connection.handle_text(&join_frame("4", 1)).await.unwrap();
    let reply = recv(&mut rx).await;
    assert_eq!(reply[4]["status"], json!("ok"));
    assert_eq!(
        reply[4]["response"]["rendered"]["0"],
        json!("0"),
        "fresh state after rejoin"
    );
}

#[tokio::test]
async fn a_panicking_mount_refuses_the_join_only() {
    let harness = Harness::new();
    let (mut connection, mut rx) = harness.endpoint.connect();
    let (_, reply) = join(&mut connection, &mut rx, &harness, "/?crash=1", "1").await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "join crashed"}})
    );
    let (ok, reply) = join(&mut connection, &mut rx, &harness, "/", "2").await;
    assert_eq!(reply[4]["status"], json!("ok"));
    event(&mut connection, &ok, "3", "inc").await;
    assert_eq!(
        recv(&mut rx).await[4]["response"]["diff"],
        json!({"0": "1"})
    );
}

#[tokio::test]
async fn repeat_timers_end_with_their_view() {
    let harness = Harness::new();
    let (mut connection, mut rx) = harness.endpoint.connect();
    let (joined, _) = join(&mut connection, &mut rx, &harness, "/", "1").await;
    // Wait for a tick however loaded the machine is (no fixed sleep).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while harness.ticks.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the timer runs while the view lives"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let leave = json!([joined.join_ref, "2", joined.topic, "phx_leave", {}]);
    connection.handle_text(&leave.to_string()).await.unwrap();
    assert_eq!(
        recv(&mut rx).await[4],
        json!({"status": "ok", "response": {}})
    );
    tokio::time::sleep(Duration::from_millis(30)).await;
    let after_leave = harness.ticks.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(
        harness.ticks.load(Ordering::SeqCst),
        after_leave,
        "no tick after the view ended"
    );

    // Dropping the connection (socket closed) ends its views and their timers too.
    let (_joined, _) = join(&mut connection, &mut rx, &harness, "/", "3").await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    drop(connection);
    tokio::time::sleep(Duration::from_millis(30)).await;
    let after_close = harness.ticks.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(
        harness.ticks.load(Ordering::SeqCst),
        after_close,
        "no tick after the socket closed"
    );
}
