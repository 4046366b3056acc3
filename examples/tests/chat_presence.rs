//! The chat's presence over real sockets, on one node: who is online (a user with two tabs
//! once), who is typing, and leaving. The list is read from the page a new visitor gets
//! (the dead render lists what the node knows) and from the diffs pushed to an open tab.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use support::{form, get, start, Joined};

/// The `<li>` of `name` in the online list of a freshly rendered `/chat`, if listed.
async fn online_row(address: SocketAddr, name: &str) -> Option<String> {
    let (status, html) = get(address, "/chat").await;
    assert_eq!(status, 200);
    let start = html.find(&format!("data-name=\"{name}\""))?;
    let end = html[start..].find("</li>").expect("a closed row") + start;
    Some(html[start..end].to_owned())
}

/// Polls the page until `check(row of name)` holds (fails after 10 s).
async fn eventually(address: SocketAddr, name: &str, check: impl Fn(Option<&str>) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let row = online_row(address, name).await;
        if check(row.as_deref()) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the online row of {name} stayed {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads pushes until one contains `needle` (fails after 5 s).
async fn pushed_containing(view: &mut Joined, needle: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame = view
            .client
            .try_recv(wait)
            .await
            .unwrap_or_else(|| panic!("no push containing {needle:?}"));
        view.assert_push(&frame);
        if frame.to_string().contains(needle) {
            return frame;
        }
    }
}

/// Pushes an event and returns the reply's response, skipping the pushes (presence diffs)
/// that arrive before it.
async fn event(view: &mut Joined, payload: Value) -> Value {
    let msg_ref = view.push("event", payload).await;
    loop {
        let frame = view.client.recv().await;
        if frame[1] == json!(msg_ref) {
            view.assert_reply(&frame, &msg_ref);
            return frame[4]["response"].clone();
        }
        view.assert_push(&frame);
    }
}

#[tokio::test]
async fn online_users_with_their_tabs_and_who_is_typing() {
    let address = start().await;
    let mut bob = Joined::open(address, "/chat?name=bob").await;
    eventually(address, "bob", |row| row.is_some()).await;

    // Ann opens two tabs: one user, two tabs, in the list and in bob's pushes.
    let mut ann1 = Joined::open(address, "/chat?name=ann").await;
    pushed_containing(&mut bob, "ann").await;
    let ann2 = Joined::open(address, "/chat?name=ann").await;
    eventually(address, "ann", |row| {
        row.is_some_and(|r| r.contains("2 tabs"))
    })
    .await;
    let (_, html) = get(address, "/chat").await;
    assert!(
        html.contains("<span id=\"online-count\">2</span>"),
        "ann and bob: {html}"
    );
    assert_eq!(
        html.matches("data-name=\"ann\"").count(),
        1,
        "ann is listed once"
    );

    // Ann types in one tab: bob sees it, and the list marks her.
    let reply = event(
        &mut ann1,
        form("typing", "author=ann&text=hel", Some("text")),
    )
    .await;
    assert_eq!(reply, json!({}), "typing renders nothing in ann's own tab");
    pushed_containing(&mut bob, "ann is typing…").await;
    eventually(address, "ann", |row| {
        row.is_some_and(|r| r.contains("typing…"))
    })
    .await;

    // Sending ends the typing.
    event(&mut ann1, form("send", "author=ann&text=hello", None)).await;
    eventually(address, "ann", |row| {
        row.is_some_and(|r| !r.contains("typing…"))
    })
    .await;

    // One tab closes: still online, one tab; the last one: gone.
    drop(ann2);
    eventually(address, "ann", |row| {
        row.is_some_and(|r| !r.contains("tabs"))
    })
    .await;
    ann1.leave().await;
    eventually(address, "ann", |row| row.is_none()).await;
    let (_, html) = get(address, "/chat").await;
    assert!(
        html.contains("<span id=\"online-count\">1</span>"),
        "{html}"
    );
}

#[tokio::test]
async fn a_new_name_moves_the_tab_in_the_list() {
    let address = start().await;
    let mut tab = Joined::open(address, "/chat").await;
    let (_, html) = get(address, "/chat").await;
    assert!(
        html.contains("data-name=\"guest-"),
        "a guest until named: {html}"
    );

    event(&mut tab, form("send", "author=zoe&text=hi", None)).await;
    eventually(address, "zoe", |row| row.is_some()).await;
    let (_, html) = get(address, "/chat").await;
    assert!(
        !html.contains("data-name=\"guest-"),
        "the guest entry left: {html}"
    );
    assert!(
        html.contains("<span id=\"online-count\">1</span>"),
        "{html}"
    );
}
