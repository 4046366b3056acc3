//! Components updated from outside a render and async work, over the protocol:
//! `send_update` from `handle_info` (a diff with that cid alone), props change tracking
//! (`update` only when props changed), `update_many` (one call per type and render),
//! a component's `assign_async`, a component's `put_flash`/`push_patch`, and a view's
//! panicking async task (a failed result, not a crashed view). The real client's merge code
//! checks the component-only diffs.

#[allow(unreachable_pub, dead_code)]
#[path = "../../liveview-diff/tests/support/oracle.rs"]
mod oracle;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

mod support;

use liveview_core::{
    html, AsyncResult, ComponentSocket, Endpoint, LiveComponent, LiveView, Meta, Params, Rendered,
    Router, SendError, Session, Socket, ViewResult, ViewSender,
};
use serde::Deserialize;
use serde_json::{json, Value};
use support::Client;

/// Counts `update_many` calls and the instances they carried.
static BATCHES: AtomicUsize = AtomicUsize::new(0);
static BATCHED: AtomicUsize = AtomicUsize::new(0);
/// The connected boards' senders, by view id.
static SENDERS: Mutex<Vec<(String, ViewSender<Board>)>> = Mutex::new(Vec::new());

#[derive(Default)]
struct Tile;

#[derive(Default)]
struct TileState {
    label: String,
    clicks: u32,
    lookup: AsyncResult<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum TileEvent {
    Click,
    Flash,
    Patch,
    Lookup,
    Poke,
}

impl LiveComponent for Tile {
    type State = TileState;
    type Props = String;
    type Event = TileEvent;

    fn mount(&self, socket: &mut ComponentSocket<Self>) {
        socket.assign(|state| state.lookup = AsyncResult::Ok("not looked up".into()));
    }

    fn update(&self, socket: &mut ComponentSocket<Self>, label: String) {
        socket.assign(|state| state.label = label);
    }

    fn update_many(&self, batch: Vec<(&mut ComponentSocket<Self>, String)>) {
        BATCHES.fetch_add(1, Ordering::SeqCst);
        BATCHED.fetch_add(batch.len(), Ordering::SeqCst);
        for (socket, label) in batch {
            self.update(socket, label);
        }
    }

    async fn handle_event(
        &self,
        socket: &mut ComponentSocket<Self>,
        event: TileEvent,
    ) -> ViewResult {
        assert!(socket.connected());
        match event {
            TileEvent::Click => socket.assign(|state| state.clicks += 1),
            TileEvent::Flash => socket.put_flash("info", "from a tile"),
            TileEvent::Patch => socket.push_patch("/?page=2", false),
            TileEvent::Poke => socket.send_update::<Tile>("tile-2", "poked".to_owned()),
            TileEvent::Lookup => {
                let id = socket.id().to_owned();
                socket.assign_async("lookup", |s| &mut s.lookup, async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, String>(format!("found {id}"))
                });
            }
        }
        Ok(())
    }

    fn render(&self, state: &TileState, meta: &Meta<'_>) -> Rendered {
        html! {
            div.tile {
                span { (&state.label) }
                button phx-click="click" phx-target=(meta.myself) { (state.clicks) }
                @match &state.lookup {
                    AsyncResult::Loading => { i { "…" } }
                    AsyncResult::Ok(found) => { i { (found) } }
                    AsyncResult::Failed(reason) => { i { (reason) } }
                }
            }
        }
    }
}

#[derive(Default)]
struct Board;

#[derive(Default)]
struct BoardState {
    labels: Vec<String>,
    other: u32,
    page: String,
    risky: AsyncResult<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum BoardEvent {
    Other,
    Relabel,
    Risky,
}

enum Info {
    Label(String),
}

impl LiveView for Board {
    type State = BoardState;
    type Event = BoardEvent;
    type Info = Info;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.assign(|state| state.labels = vec!["a".into(), "b".into(), "c".into()]);
        if socket.connected() {
            let entry = (socket.id().to_owned(), socket.sender());
            SENDERS.lock().unwrap().push(entry);
        } else {
            assert_eq!(
                socket.sender().try_send(Info::Label("x".into())),
                Err(SendError::Ended)
            );
        }
        Ok(())
    }

    async fn handle_params(
        &self,
        socket: &mut Socket<Self>,
        _: &liveview_core::Url,
        params: &Params,
    ) -> ViewResult {
        let page = params.get("page").unwrap_or("1").to_owned();
        socket.assign(|state| state.page = page);
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: BoardEvent) -> ViewResult {
        match event {
            BoardEvent::Other => socket.assign(|state| state.other += 1),
            BoardEvent::Relabel => socket.assign(|state| state.labels[2] = "C".into()),
            BoardEvent::Risky => socket.assign_async("risky", |s| &mut s.risky, async {
                if true {
                    panic!("the service exploded");
                }
                Ok::<u32, String>(1)
            }),
        }
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: Info) -> ViewResult {
        let Info::Label(label) = info;
        socket.send_update::<Tile>("tile-1", label);
        Ok(())
    }

    fn render(&self, state: &BoardState, meta: &Meta<'_>) -> Rendered {
        html! {
            div #board {
                @for (i, label) in state.labels.iter().enumerate() {
                    (meta.live_component(Tile, format!("tile-{i}"), label.clone()))
                }
                p { "other " (state.other) " page " (&state.page) }
                p { (meta.flash.get("info").unwrap_or("")) }
                @match &state.risky {
                    AsyncResult::Loading => { p { "risky: loading" } }
                    AsyncResult::Ok(n) => { p { "risky: " (n) } }
                    AsyncResult::Failed(reason) => { p { "risky failed: " (reason) } }
                }
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
async fn update_runs_only_on_changed_props_in_one_update_many_and_component_async_diffs_alone() {
    let endpoint = Endpoint::builder(Router::new().live("/", Board))
        .random_secret_key()
        .build()
        .unwrap();
    let (mut client, reply) = Client::join(endpoint).await;
    let rendered = reply[4]["response"]["rendered"].clone();
    assert_eq!(rendered["c"]["1"]["0"], json!("a"));
    let mut lines = vec![rendered.to_string()];

    // State a component set in its own event survives parent renders that did not change its
    // props (`update` does not run).
    let reply = client.push("event", click("click", Some(2))).await;
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"c": {"2": {"2": "1"}}})
    );
    lines.push(reply[4]["response"]["diff"].to_string());
    let batches = BATCHES.load(Ordering::SeqCst);
    let reply = client.push("event", click("other", None)).await;
    let diff = reply[4]["response"]["diff"].clone();
    assert!(diff.get("c").is_none(), "no component changed: {diff}");
    assert_eq!(
        BATCHES.load(Ordering::SeqCst),
        batches,
        "no update_many when no props changed"
    );
    lines.push(diff.to_string());

    // A parent render that changes one component's props: one update_many call, with it alone.
    let batched = BATCHED.load(Ordering::SeqCst);
    let reply = client.push("event", click("relabel", None)).await;
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"c": {"3": {"0": "C"}}})
    );
    lines.push(reply[4]["response"]["diff"].to_string());
    assert_eq!(BATCHES.load(Ordering::SeqCst), batches + 1);
    assert_eq!(BATCHED.load(Ordering::SeqCst), batched + 1);

    // A component's own async assign: loading at once, the value pushed later, cid alone.
    let reply = client.push("event", click("lookup", Some(1))).await;
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"c": {"1": {"3": {"s": ["<i>…</i>"]}}}})
    );
    lines.push(reply[4]["response"]["diff"].to_string());
    let push = client.recv().await;
    assert_eq!(push[3], json!("diff"));
    assert_eq!(push[4]["c"].as_object().unwrap().len(), 1, "{push}");
    assert_eq!(push[4]["c"]["1"]["3"]["0"], json!("found tile-0"), "{push}");
    assert_eq!(push[4].as_object().unwrap().len(), 1, "only \"c\": {push}");
    lines.push(push[4].to_string());

    let html = oracle::merge_plain(&lines).unwrap_or_else(|error| panic!("{error}"));
    let last = html.last().unwrap();
    assert!(last.contains("<span>C</span>"), "{last}");
    assert!(last.contains("<i>found tile-0</i>"), "{last}");
    assert!(last.contains("phx-target=\"2\">1</button>"), "{last}");
}

#[tokio::test]
async fn send_update_from_handle_info_diffs_that_component_alone_and_component_requests_reach_the_view(
) {
    let endpoint = Endpoint::builder(Router::new().live("/", Board))
        .random_secret_key()
        .build()
        .unwrap();
    let (mut client, reply) = Client::join(endpoint).await;
    let id = client.topic.strip_prefix("lv:").unwrap().to_owned();
    let sender = SENDERS
        .lock()
        .unwrap()
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, sender)| sender.clone())
        .expect("the connected mount kept its sender");
    let mut lines = vec![reply[4]["response"]["rendered"].to_string()];

    // An info from outside the view (its sender), handled by handle_info, which calls
    // send_update: the push carries component 2 (id "tile-1") alone.
    sender.try_send(Info::Label("B!".into())).unwrap();
    let push = client.recv().await;
    assert_eq!(push[3], json!("diff"));
    assert_eq!(push[4], json!({"c": {"2": {"0": "B!"}}}));
    lines.push(push[4].to_string());
    // From a task, waiting for room.
    sender.send(Info::Label("B2".into())).await.unwrap();
    let push = client.recv().await;
    assert_eq!(push[4], json!({"c": {"2": {"0": "B2"}}}));
    lines.push(push[4].to_string());

    // send_update from another component: the push carries the target (cid 3) alone.
    let reply = client.push("event", click("poke", Some(1))).await;
    assert_eq!(
        reply[4]["response"],
        json!({}),
        "the poking component did not change"
    );
    let push = client.recv().await;
    assert_eq!(push[4], json!({"c": {"3": {"0": "poked"}}}));
    lines.push(push[4].to_string());
    // The real client merges the component-only diffs into the page.
    let html = oracle::merge_plain(&lines).unwrap_or_else(|error| panic!("{error}"));
    let last = html.last().unwrap();
    assert!(
        last.contains("<span>a</span>")
            && last.contains("<span>B2</span>")
            && last.contains("<span>poked</span>"),
        "{last}"
    );

    // A component's put_flash reaches the view's flash; its push_patch runs handle_params.
    let reply = client.push("event", click("flash", Some(1))).await;
    let diff = reply[4]["response"]["diff"].to_string();
    assert!(diff.contains("from a tile"), "{diff}");
    let patch = client.push("event", click("patch", Some(1))).await;
    assert_eq!(patch[3], json!("live_patch"), "{patch}");
    assert_eq!(patch[4], json!({"to": "/?page=2", "kind": "push"}));
    let reply = client.recv().await;
    assert_eq!(reply[3], json!("phx_reply"));
    let diff = reply[4]["response"]["diff"].to_string();
    assert!(
        diff.contains("\"2\""),
        "handle_params ran with page=2: {diff}"
    );

    // A panicking async task: a failed result, and the view goes on.
    let reply = client.push("event", click("risky", None)).await;
    assert_eq!(reply[4]["status"], json!("ok"));
    let push = client.recv().await;
    assert_eq!(push[3], json!("diff"), "{push}");
    assert!(
        push[4].to_string().contains("the service exploded"),
        "{push}"
    );
    let reply = client.push("event", click("other", None)).await;
    assert_eq!(reply[4]["status"], json!("ok"), "the view lives: {reply}");

    // Once the view ended, the sender says so and drops the message.
    let reply = client.push("phx_leave", json!({})).await;
    assert_eq!(reply[4]["status"], json!("ok"));
    assert_eq!(client.recv().await[3], json!("phx_close"));
    assert!(sender.is_ended());
    assert_eq!(
        sender.try_send(Info::Label("late".into())),
        Err(SendError::Ended)
    );
    assert_eq!(
        sender.send(Info::Label("late".into())).await,
        Err(SendError::Ended)
    );
}
