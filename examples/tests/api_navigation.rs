//! Navigation over a real WebSocket: `handle_params` on mount and on URL changes, `push_patch`
//! (a `live_patch` push, then the diff from `handle_params`), the client's `live_patch` (patch
//! links), `push_redirect` (a `live_redirect` reply carrying a flash token the next view
//! shows), and `redirect` (a full page load).

mod support;

use liveview_core::diff::client::ClientTree;
use serde_json::json;
use support::{click, form, start, Client, Joined};

#[tokio::test]
async fn push_patch_pushes_live_patch_then_replies_with_the_diff_of_handle_params() {
    let address = start().await;
    let mut view = Joined::open(address, "/nav/a").await;
    assert_eq!(view.rendered()["1"], json!("a"));
    assert_eq!(
        view.rendered()["3"],
        json!("1"),
        "handle_params ran once after mount"
    );

    let msg_ref = view
        .push("event", click("patch", json!({"to": "b", "value": ""})))
        .await;
    let (join_ref, topic) = (view.join_ref.clone(), view.topic.clone());
    assert_eq!(
        view.client.recv_raw().await.unwrap(),
        format!(r#"["{join_ref}",null,"{topic}","live_patch",{{"to":"/nav/b","kind":"push"}}]"#),
        "first the live_patch push"
    );
    assert_eq!(
        view.client.recv_raw().await.unwrap(),
        format!(
            r#"["{join_ref}","{msg_ref}","{topic}","phx_reply",{{"status":"ok","response":{{"diff":{{"1":"b","2":"/nav/b","3":"2","t":"Nav b"}}}}}}]"#
        ),
        "then the reply with handle_params' changes, in the same view (no remount)"
    );
}

#[tokio::test]
async fn paginate_reads_the_query_in_handle_params_and_follows_patches() {
    let address = start().await;
    let mut view = Joined::open(address, "/paginate?page=2&per_page=5&sort_by=days").await;
    let rendered = view.rendered().clone();
    assert_eq!(rendered["t"], json!("Donations, page 2"));
    let body = rendered.to_string();
    assert!(body.contains("Page "), "{body}");

    // A column header: handle_event calls push_patch.
    let msg_ref = view
        .push("event", click("sort", json!({"by": "item", "value": ""})))
        .await;
    let (event, payload) = view.pushed().await;
    assert_eq!(event, "live_patch");
    assert_eq!(
        payload,
        json!({"kind": "push", "to": "/paginate?page=1&per_page=5&sort_by=item"})
    );
    let reply = view.reply_to(&msg_ref).await;
    assert_eq!(reply["diff"]["t"], json!("Donations, page 1"));
    assert!(
        reply["diff"].get("1").is_some(),
        "the rows changed: {reply}"
    );

    // The page-size select (phx-change): push_patch too.
    let msg_ref = view
        .push("event", form("per-page", "per_page=20", Some("per_page")))
        .await;
    let (event, payload) = view.pushed().await;
    assert_eq!(event, "live_patch");
    assert_eq!(
        payload["to"],
        json!("/paginate?page=1&per_page=20&sort_by=item")
    );
    view.reply_to(&msg_ref).await;

    // A patch link: the client sends live_patch; the reply is the diff, nothing is pushed.
    let url = format!("http://{address}/paginate?page=3&per_page=20&sort_by=item");
    let msg_ref = view.push("live_patch", json!({"url": url})).await;
    let reply = view.reply_to(&msg_ref).await;
    assert_eq!(reply["diff"]["t"], json!("Donations, page 3"));
    let rows = reply["diff"].to_string();
    assert!(
        rows.contains("\"kc\":10"),
        "page 3 of 20-row pages has 10 rows: {rows}"
    );

    // A patch link to another view: the client must navigate there instead.
    let msg_ref = view
        .push(
            "live_patch",
            json!({"url": format!("http://{address}/counter")}),
        )
        .await;
    assert_eq!(
        view.reply_to(&msg_ref).await,
        json!({"link_redirect": true})
    );
}

#[tokio::test]
async fn push_redirect_replies_live_redirect_with_a_flash_the_next_view_shows() {
    let address = start().await;
    let mut view = Joined::open(address, "/nav/a").await;
    let reply = view
        .event(click("live-redirect", json!({"value": ""})))
        .await;
    let redirect = &reply["live_redirect"];
    assert_eq!(redirect["to"], json!("/nav-landing"));
    assert_eq!(redirect["kind"], json!("push"));
    let flash = redirect["flash"]
        .as_str()
        .expect("a flash token")
        .to_owned();
    assert_eq!(reply.as_object().unwrap().len(), 1, "{reply}");
    // The channel stopped normally: Phoenix's phx_close follows the reply.
    assert_eq!(
        view.client.recv().await,
        json!([view.join_ref, view.join_ref, view.topic, "phx_close", {}])
    );

    // The old view is gone.
    let reply = view.event_raw(click("patch", json!({"to": "b"}))).await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "unmatched topic"}})
    );

    // The client joins the new view on the same topic and socket, with the token.
    let join = |flash: &str| {
        json!({
            "redirect": format!("http://{address}/nav-landing"),
            "params": {"_csrf_token": view.page.csrf, "_mounts": 1},
            "session": view.page.session,
            "static": null,
            "flash": flash,
        })
    };
    let topic = view.topic.clone();
    let payload = join(&flash);
    let join_ref = view.client.next_ref();
    view.client
        .send_text(&json!([join_ref, join_ref, topic, "phx_join", payload]).to_string())
        .await;
    let reply = view.client.recv().await;
    assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
    let rendered = &reply[4]["response"]["rendered"];
    assert_eq!(rendered["t"], json!("Landing"));
    // What the client shows, merged as the client merges it.
    let (mut shown, _) = ClientTree::join(rendered.clone()).expect("the client merges the join");
    assert!(
        shown.html().contains(r#"id="flash-info""#)
            && shown.html().contains("Welcome! You came by push_redirect."),
        "the flash set before push_redirect: {}",
        shown.html()
    );
    view.join_ref = join_ref;
    // lv:clear-flash in the new view.
    let reply = view
        .event(click("lv:clear-flash", json!({"key": "info", "value": ""})))
        .await;
    shown
        .apply(reply["diff"].clone())
        .expect("the client merges the diff");
    assert!(!shown.html().contains("flash-info"), "{}", shown.html());

    // A forged flash token is ignored: the view mounts without flash.
    let mut other = support::page(address, "/nav/a").await;
    other.html.clear();
    let mut client = Client::connect(address, &other.csrf).await;
    let forged = format!("{}x", &flash[..flash.len() - 1]);
    let payload = json!({
        "redirect": format!("http://{address}/nav-landing"),
        "params": {"_csrf_token": other.csrf, "_mounts": 1},
        "session": other.session, "static": null, "flash": forged,
    });
    client
        .send_text(&json!(["9", "9", format!("lv:{}", other.id), "phx_join", payload]).to_string())
        .await;
    let reply = client.recv().await;
    assert_eq!(reply[4]["status"], json!("ok"));
    let (shown, _) = ClientTree::join(reply[4]["response"]["rendered"].clone()).unwrap();
    assert!(!shown.html().contains("flash-info"), "{}", shown.html());
}

#[tokio::test]
async fn redirect_replies_redirect_for_a_full_page_load() {
    let address = start().await;
    let mut view = Joined::open(address, "/nav/a").await;
    let reply = view.event(click("redirect", json!({"value": ""}))).await;
    assert_eq!(reply["redirect"]["to"], json!("/nav-landing?full=1"));
    let token = reply["redirect"]["flash"]
        .as_str()
        .expect("the flash travels as a token")
        .to_owned();
    assert_eq!(
        view.client.recv().await,
        json!([view.join_ref, view.join_ref, view.topic, "phx_close", {}]),
        "phx_close follows the redirect reply"
    );
    let reply = view.event_raw(click("patch", json!({"to": "b"}))).await;
    assert_eq!(reply[4]["status"], json!("error"), "the view ended");
    // The page the browser loads next, with the flash cookie the client set.
    let (status, headers, html) = support::get_with_cookie(
        address,
        "/nav-landing?full=1",
        &format!("__phoenix_flash__={token}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Arrived with a full page load."));
    assert!(
        html.contains("Welcome! You came by redirect."),
        "the flash shows after a full redirect"
    );
    assert!(
        headers.contains("set-cookie: __phoenix_flash__=; max-age=0; path=/"),
        "the cookie is deleted"
    );
    // A forged cookie shows nothing.
    let (_, _, html) = support::get_with_cookie(
        address,
        "/nav-landing?full=1",
        "__phoenix_flash__=forged.token",
    )
    .await;
    assert!(!html.contains("Welcome!"));
}
