//! Nested and sticky LiveViews over the protocol (`/nested`, `/player`): the parent's
//! render holds the children's containers; each child joins on its own topic with its
//! parent's id and runs alone (its events, diffs and crash are its own); a parent re-render
//! does not touch the containers; a child cannot join without its parent, and ends with it;
//! a sticky view outlives the view that rendered it. The real client's merge code (`js/oracle`)
//! rebuilds the dead render from the join payloads.

#[allow(unreachable_pub, dead_code)]
#[path = "../../liveview-diff/tests/support/oracle.rs"]
mod oracle;
mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{attribute, click, start, Client, Joined};

/// The `data-phx-session` token of the container with DOM id `id` in `html`.
fn token_of(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("<div id=\"{id}\""))
        .unwrap_or_else(|| panic!("no container {id} in {html}"));
    attribute(&html[at..], "data-phx-session=\"")
}

/// Joins the nested view `id` on `client`, as the browser does after its parent's join: no
/// `url`, its own token. Returns the join ref and the reply.
async fn join_child(client: &mut Client, csrf: &str, id: &str, token: &str) -> (String, Value) {
    let join_ref = client.next_ref();
    let payload = json!({
        "params": {"_csrf_token": csrf, "_mounts": 0, "_mount_attempts": 0},
        "session": token,
        "static": null,
        "sticky": false,
    });
    let frame = json!([join_ref, join_ref, format!("lv:{id}"), "phx_join", payload]);
    client.send_text(&frame.to_string()).await;
    let reply = client.recv().await;
    (join_ref, reply)
}

/// Waits for the frame answering `msg_ref`, skipping pushes (clock ticks) before it.
async fn reply_to(client: &mut Client, msg_ref: &str) -> Value {
    loop {
        let frame = client.recv().await;
        if frame[1] == json!(msg_ref) {
            return frame;
        }
        assert_eq!(
            frame[1],
            Value::Null,
            "only pushes come before the reply: {frame}"
        );
    }
}

/// Removes every `data-phx-session="…"` value (tokens are signed anew per render).
fn without_tokens(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find("data-phx-session=\"") {
        let start = at + "data-phx-session=\"".len();
        out.push_str(&rest[..start]);
        let end = rest[start..].find('"').unwrap() + start;
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn children_join_under_their_parent_and_run_on_their_own() {
    let address = start().await;
    let mut parent = Joined::open(address, "/nested").await;
    let csrf = parent.page.csrf.clone();
    let rendered = parent.rendered().to_string();
    let parent_id = parent.page.id.clone();
    // The connected render holds the children's empty containers, with the parent's id.
    let left_token = token_of(&rendered.replace("\\\"", "\""), "counter-left");
    assert!(rendered.contains(&format!("data-phx-parent-id=\\\"{parent_id}\\\"")));
    let right_token = token_of(&rendered.replace("\\\"", "\""), "counter-right");

    let (left_ref, reply) =
        join_child(&mut parent.client, &csrf, "counter-left", &left_token).await;
    assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
    let left_rendered = reply[4]["response"]["rendered"].clone();
    assert!(
        left_rendered.to_string().contains("Left"),
        "its session: {left_rendered}"
    );
    let (right_ref, reply) =
        join_child(&mut parent.client, &csrf, "counter-right", &right_token).await;
    assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
    let right_rendered = reply[4]["response"]["rendered"].clone();

    // An event for the left child: its reply carries its diff; nothing else is sent.
    let msg_ref = parent
        .client
        .push(
            Some(&left_ref),
            "lv:counter-left",
            "event",
            click("inc", json!({})),
        )
        .await;
    let reply = reply_to(&mut parent.client, &msg_ref).await;
    assert_eq!(reply[2], json!("lv:counter-left"));
    let left_diff = reply[4]["response"]["diff"].clone();
    assert_eq!(left_diff, json!({"1": "1"}), "the count slot alone");
    assert!(
        parent
            .client
            .try_recv(Duration::from_millis(100))
            .await
            .is_none(),
        "the parent and the other child send nothing"
    );

    // A parent re-render: its diff leaves the children's containers alone.
    let response = parent.event(click("rerender", json!({}))).await;
    let diff = response["diff"].to_string();
    assert!(
        !diff.contains("data-phx-session"),
        "containers unchanged: {diff}"
    );

    // The real client rebuilds the page the HTTP render showed, from the join payloads.
    let (_, dead) = support::get(address, "/nested").await;
    let parent_html = oracle::merge_plain(std::slice::from_ref(&rendered))
        .unwrap()
        .remove(0);
    let left_html = oracle::merge_plain(&[left_rendered.to_string()])
        .unwrap()
        .remove(0);
    let right_html = oracle::merge_plain(&[right_rendered.to_string()])
        .unwrap()
        .remove(0);
    let fill = |html: &str, id: &str, inner: &str| {
        let at = html.find(&format!("<div id=\"{id}\"")).unwrap();
        let close = html[at..].find("></div>").unwrap() + at + 1;
        format!("{}{}{}", &html[..close], inner, &html[close..])
    };
    let composed = fill(&parent_html, "counter-left", &left_html);
    let composed = fill(&composed, "counter-right", &right_html);
    // The main container's content (compared up to the clock's container, below).
    let dead_inner = {
        let main = dead.find("data-phx-main").unwrap();
        let start = dead[main..].find('>').unwrap() + main + 1;
        dead[start..].to_owned()
    };
    // (The clock child is not joined here: compare up to its container.)
    let clock_at = |html: &str| html.find("<div id=\"clock\"").unwrap();
    assert_eq!(
        without_tokens(&composed[..clock_at(&composed)]).replace(&parent_id, "P"),
        without_tokens(&dead_inner[..clock_at(&dead_inner)])
            .replace(&attribute(&dead, "<div id=\""), "P"),
    );

    // The left child crashes: phx_error on its topic only; the right child and the parent go on.
    let msg_ref = parent
        .client
        .push(
            Some(&left_ref),
            "lv:counter-left",
            "event",
            click("crash", json!({})),
        )
        .await;
    let error = parent.client.recv().await;
    assert_eq!(
        error,
        json!([left_ref, left_ref, "lv:counter-left", "phx_error", {"reason": "channel_crash"}]),
        "{msg_ref}"
    );
    let msg_ref = parent
        .client
        .push(
            Some(&right_ref),
            "lv:counter-right",
            "event",
            click("inc", json!({})),
        )
        .await;
    let reply = reply_to(&mut parent.client, &msg_ref).await;
    assert_eq!(reply[4]["status"], json!("ok"));
    let response = parent.event(click("rerender", json!({}))).await;
    assert!(response["diff"].to_string().contains('2'), "{response}");
    // It rejoins alone, with a fresh mount.
    let (_, reply) = join_child(&mut parent.client, &csrf, "counter-left", &left_token).await;
    assert_eq!(reply[4]["status"], json!("ok"), "{reply}");

    // The parent leaves: its children end with it.
    parent.leave().await;
    let msg_ref = parent
        .client
        .push(
            Some(&right_ref),
            "lv:counter-right",
            "event",
            click("inc", json!({})),
        )
        .await;
    let reply = reply_to(&mut parent.client, &msg_ref).await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "unmatched topic"}}),
        "the child ended with its parent"
    );
}

#[tokio::test]
async fn a_child_cannot_join_without_its_parent_and_tokens_are_bound() {
    let address = start().await;
    let page = support::page(address, "/nested").await;
    let token = token_of(&page.html, "counter-left");
    let mut client = Client::connect(address, &page.csrf).await;
    // Its parent is not joined on this socket: stale (the client reloads the page).
    let (_, reply) = join_child(&mut client, &page.csrf, "counter-left", &token).await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "stale"}})
    );
    // A child token used for another id: stale.
    let (_, reply) = join_child(&mut client, &page.csrf, "counter-right", &token).await;
    assert_eq!(reply[4]["response"]["reason"], json!("stale"));
    support::assert_server_works(address).await;
}

#[tokio::test]
async fn a_sticky_view_outlives_the_view_that_rendered_it() {
    let address = start().await;
    let mut album = Joined::open(address, "/player").await;
    let html = album.page.html.clone();
    assert!(html.contains("data-phx-sticky"), "{html}");
    assert!(html.contains("Now playing"), "rendered inline over HTTP");
    let token = token_of(&html, "now-playing");
    // Joined as a root of its own (no parent id in its token; no url).
    let csrf = album.page.csrf.clone();
    let (player_ref, reply) = join_child(&mut album.client, &csrf, "now-playing", &token).await;
    assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
    let msg_ref = album
        .client
        .push(
            Some(&player_ref),
            "lv:now-playing",
            "event",
            click("next", json!({})),
        )
        .await;
    let reply = reply_to(&mut album.client, &msg_ref).await;
    assert!(
        reply[4]["response"].to_string().contains("Giant Steps"),
        "{reply}"
    );

    // The album view goes (live navigation leaves it): the player stays, with its state.
    album.leave().await;
    let msg_ref = album
        .client
        .push(
            Some(&player_ref),
            "lv:now-playing",
            "event",
            click("next", json!({})),
        )
        .await;
    let reply = reply_to(&mut album.client, &msg_ref).await;
    assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
    assert!(
        reply[4]["response"].to_string().contains("Blue in Green"),
        "{reply}"
    );
}

/// A parent that crashes on demand, with a clock child.
#[derive(Default)]
struct Fragile;

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum FragileEvent {
    Crash,
}

impl liveview_core::LiveView for Fragile {
    type State = ();
    type Event = FragileEvent;
    type Info = ();

    async fn handle_event(
        &self,
        _: &mut liveview_core::Socket<Self>,
        event: FragileEvent,
    ) -> liveview_core::ViewResult {
        let FragileEvent::Crash = event;
        Err(liveview_core::ViewError::msg(
            "the parent crashed on purpose",
        ))
    }

    fn render(&self, _: &(), meta: &liveview_core::Meta<'_>) -> liveview_core::Rendered {
        liveview_core::html! {
            p { "parent" }
            (meta.live_render::<examples::nested::Clock>(liveview_core::LiveRender::new("clock")))
        }
    }
}

#[tokio::test]
async fn a_crashing_parent_ends_its_children() {
    let router = liveview_core::Router::new()
        .live("/", Fragile)
        .live_child(examples::nested::Clock);
    let address = support::start_router(router).await;
    let mut parent = Joined::open(address, "/").await;
    let csrf = parent.page.csrf.clone();
    let token = token_of(&parent.page.html, "clock");
    let (clock_ref, reply) = join_child(&mut parent.client, &csrf, "clock", &token).await;
    assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
    // The clock ticks (a push on its topic) while its parent lives.
    let tick = parent.client.recv().await;
    assert_eq!(tick[2], json!("lv:clock"), "{tick}");
    assert_eq!(tick[3], json!("diff"));

    parent.push("event", click("crash", json!({}))).await;
    let error = loop {
        let frame = parent.client.recv().await;
        if frame[2] == json!(parent.topic) {
            break frame;
        }
    };
    assert_eq!(error[3], json!("phx_error"), "{error}");
    // The child ended with it: no more ticks, and its topic is gone.
    let msg_ref = parent
        .client
        .push(
            Some(&clock_ref),
            "lv:clock",
            "event",
            click("noop", json!({})),
        )
        .await;
    let reply = reply_to(&mut parent.client, &msg_ref).await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "unmatched topic"}}),
        "the clock ended with its parent"
    );
    assert!(
        parent
            .client
            .try_recv(Duration::from_millis(1_500))
            .await
            .is_none(),
        "no tick after the parent ended"
    );
}
