//! The `Socket` API over a real WebSocket, one example per call: the exact frames each call
//! produces (`id`, `connected`, `context`, `assign`, `page_title`, `put_flash` and
//! `lv:clear-flash`, `push_event`, `send_info`, `repeat`, `subscribe`/`broadcast`, `shutdown`,
//! router path parameters and query strings).

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use examples::dashboard::Dashboard;
use liveview_core::diff::client::ClientTree;
use liveview_core::Router;
use serde_json::json;
use support::{click, form, keydown, page, start, start_router, Client, Joined};

#[tokio::test]
async fn id_connected_and_path_params_in_the_dead_render_and_the_join() {
    let address = start().await;
    let page = page(address, "/hi/J%C3%BCrgen?greeting=Howdy").await;
    // The dead render: connected is false, the id is the container's id.
    assert!(
        page.html.contains("<h1 id=\"hello\">Howdy, Jürgen!</h1>"),
        "{}",
        page.html
    );
    assert!(page
        .html
        .contains(&format!("<dd id=\"view-id\">{}</dd>", page.id)));
    assert!(page.html.contains("<dd id=\"connected\">no</dd>"));
    assert!(page.html.contains("<title>Hi Jürgen</title>"));

    let mut client = Client::connect(address, &page.csrf).await;
    let (_, reply) = client
        .join(
            &page,
            &format!("http://{address}/hi/J%C3%BCrgen?greeting=Howdy"),
        )
        .await;
    let rendered = &reply[4]["response"]["rendered"];
    assert_eq!(
        rendered["0"],
        json!("Howdy"),
        "the query string reaches handle_params"
    );
    assert_eq!(
        rendered["1"],
        json!("Jürgen"),
        "the path parameter, percent-decoded"
    );
    assert_eq!(
        rendered["2"],
        json!(page.id),
        "socket.id() is the container id"
    );
    assert_eq!(
        rendered["3"]["s"],
        json!(["yes"]),
        "socket.connected() over the socket"
    );
    assert_eq!(rendered["4"], json!("/hi/J%C3%BCrgen?greeting=Howdy"));
    assert_eq!(rendered["t"], json!("Hi Jürgen"));

    // Without a query string, handle_params falls back to its default.
    let mut plain = Joined::open(address, "/hi/bob").await;
    assert_eq!(plain.rendered()["0"], json!("Hello"));
    assert_eq!(plain.rendered()["1"], json!("bob"));
    plain.leave().await;
}

#[tokio::test]
async fn assign_and_context_toggle_the_greeting() {
    let address = start().await;
    let mut view = Joined::open(address, "/hello-toggle").await;
    assert_eq!(view.rendered()["0"]["s"], json!(["Goodbye 👋"]));
    // assign marks the state changed; context() reads it back in the next event.
    let diff = view.event(click("toggle", json!({"value": ""}))).await;
    assert_eq!(diff, json!({"diff": {"0": {"s": ["Hello 👋"]}}}));
    let diff = view.event(click("toggle", json!({"value": ""}))).await;
    assert_eq!(diff, json!({"diff": {"0": {"s": ["Goodbye 👋"]}}}));
}

#[tokio::test]
async fn page_title_is_sent_as_t_and_put_flash_is_cleared_by_lv_clear_flash() {
    let address = start().await;
    let mut view = Joined::open(address, "/volume").await;
    assert_eq!(view.rendered()["t"], json!("Volume 50%"));
    assert_eq!(view.rendered()["1"], json!("50"));
    // What the client shows, merged as the client merges it.
    let (mut shown, _) = ClientTree::join(view.rendered().clone()).unwrap();
    assert!(!shown.html().contains("alert"), "no flash yet");

    let reply = view.event(keydown("key_update", "ArrowUp")).await;
    assert_eq!(
        reply,
        json!({"diff": {"1": "60", "2": " style=\"width: 60%; height: 1em; background: #4a4\"", "t": "Volume 60%"}})
    );
    // A key that changes nothing: an empty reply, no title.
    assert_eq!(view.event(keydown("key_update", "a")).await, json!({}));
    for volume in [70, 80, 90] {
        let reply = view.event(keydown("key_update", "ArrowUp")).await;
        assert_eq!(reply["diff"]["t"], json!(format!("Volume {volume}%")));
        assert!(
            reply["diff"].get("0").is_none(),
            "no flash below 100: {reply}"
        );
    }
    let reply = view.event(keydown("key_update", "ArrowUp")).await;
    assert_eq!(reply["diff"]["t"], json!("Volume 100%"));
    shown.apply(reply["diff"].clone()).unwrap();
    assert!(
        shown.html().contains(r#"<p class="alert alert-info" id="flash-info" role="alert" phx-click="lv:clear-flash" phx-value-key="info">Cranked to 100!</p>"#),
        "put_flash renders the info flash: {}",
        shown.html()
    );
    // Pressing up again changes nothing: the title is not re-sent.
    assert_eq!(
        view.event(keydown("key_update", "ArrowUp")).await,
        json!({})
    );

    // The client's lv:clear-flash (phx-click="lv:clear-flash" phx-value-key="info").
    let reply = view
        .event(click("lv:clear-flash", json!({"key": "info", "value": ""})))
        .await;
    shown.apply(reply["diff"].clone()).unwrap();
    assert!(!shown.html().contains("flash-info"), "{}", shown.html());

    // Down to 0: the error flash; clearing without a key clears every flash.
    for _ in 0..9 {
        let reply = view.event(keydown("key_update", "ArrowDown")).await;
        shown.apply(reply["diff"].clone()).unwrap();
    }
    let reply = view.event(keydown("key_update", "ArrowDown")).await;
    assert_eq!(reply["diff"]["t"], json!("Volume 0%"));
    shown.apply(reply["diff"].clone()).unwrap();
    assert!(shown.html().contains("Silence!"), "{}", shown.html());
    let reply = view.event(click("lv:clear-flash", json!({}))).await;
    shown.apply(reply["diff"].clone()).unwrap();
    assert!(!shown.html().contains("alert"), "{}", shown.html());
}

#[tokio::test]
async fn phx_change_on_a_range_slider() {
    let address = start().await;
    let mut view = Joined::open(address, "/prints").await;
    assert_eq!(view.rendered()["0"], json!("10"));
    let reply = view
        .event(form("update", "photo_count=120", Some("photo_count")))
        .await;
    // 120 prints at 50 cents, 20% off: $48.00.
    assert_eq!(
        reply,
        json!({"diff": {"0": "120", "1": " value=\"120\"", "2": "48"}}),
        "the cents did not change: not sent"
    );
}

#[tokio::test]
async fn push_event_arrives_as_e_on_every_repeat_tick_and_ticks_stop_after_phx_leave() {
    let interval = Duration::from_millis(100);
    let dashboard = Dashboard::new(interval).with_seed(7);
    let stats = dashboard.stats();
    let address = start_router(Router::new().live("/dashboard", dashboard)).await;

    // The dead render starts no timer.
    let page = page(address, "/dashboard").await;
    assert_eq!(stats.timers.load(Ordering::SeqCst), 0);
    drop(page);

    let mut view = Joined::open(address, "/dashboard").await;
    assert_eq!(view.rendered()["0"], json!("0"));
    let mut shown_load = view.rendered()["1"].as_str().unwrap().to_owned();
    assert_eq!(stats.timers.load(Ordering::SeqCst), 1);
    for tick in 1..=3u64 {
        let (event, diff) = view.pushed().await;
        assert_eq!(event, "diff", "a repeat tick is a diff push");
        assert_eq!(diff["0"], json!(tick.to_string()), "{diff}");
        if tick == 1 {
            assert_eq!(diff["3"], json!("1"), "one timer runs: {diff}");
        } else {
            assert!(
                diff.get("3").is_none(),
                "unchanged slots are not sent: {diff}"
            );
        }
        // The pushed point carries the tick's load; the load slot is sent only if it changed
        // (two ticks may draw the same value).
        let points = diff["e"].as_array().expect("a pushed event");
        assert_eq!(points.len(), 1, "{diff}");
        assert_eq!(points[0][0], json!("point"));
        assert_eq!(points[0][1]["tick"], json!(tick));
        let load = points[0][1]["load"].as_u64().expect("a load");
        assert!(load <= 100, "{diff}");
        if load.to_string() == shown_load {
            assert!(
                diff.get("1").is_none(),
                "an unchanged load is not sent: {diff}"
            );
        } else {
            assert_eq!(diff["1"], json!(load.to_string()), "{diff}");
            shown_load = load.to_string();
        }
    }

    // phx_leave: the reply, then nothing more, for two intervals and beyond.
    view.leave().await;
    let ticks = stats.ticks.load(Ordering::SeqCst);
    assert_eq!(
        view.client.try_recv(interval * 3).await,
        None,
        "no frame after the leave"
    );
    assert_eq!(
        stats.timers.load(Ordering::SeqCst),
        0,
        "the timer task was dropped"
    );
    assert_eq!(
        stats.ticks.load(Ordering::SeqCst),
        ticks,
        "the timer stopped ticking"
    );
    assert_eq!(
        stats.shutdowns.load(Ordering::SeqCst),
        1,
        "shutdown ran once"
    );
}

#[tokio::test]
async fn no_repeat_task_outlives_its_view_whatever_ends_it() {
    // A long interval: a timer that is not aborted when its view ends would live on until its
    // next tick (when it finds the view gone), far longer than this test waits.
    let interval = Duration::from_secs(30);
    let dashboard = Dashboard::new(interval);
    let stats = dashboard.stats();
    let address = start_router(
        Router::new()
            .live("/dashboard", dashboard)
            .live("/counter", examples::counter::Counter),
    )
    .await;

    // 1. A socket that closes without leaving.
    let mut closed = Joined::open(address, "/dashboard").await;
    closed.client.socket.close(None).await.unwrap();
    drop(closed);
    // 2. A socket dropped abruptly (TCP reset, no close frame).
    let dropped = Joined::open(address, "/dashboard").await;
    drop(dropped);
    // 3. A rejoin of the same topic (the old view is replaced).
    let mut rejoined = Joined::open(address, "/dashboard").await;
    let (join_ref, reply) = rejoined
        .client
        .join(&rejoined.page, &format!("http://{address}/dashboard"))
        .await;
    assert_eq!(reply[4]["status"], json!("ok"));
    rejoined.join_ref = join_ref;
    // 4. Several views, each left.
    let mut many = Vec::new();
    for _ in 0..5 {
        many.push(Joined::open(address, "/dashboard").await);
    }

    let settle = |want: usize| {
        let stats = stats.clone();
        async move {
            for _ in 0..50 {
                if stats.timers.load(Ordering::SeqCst) == want {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!(
                "{} timers alive, expected {want}",
                stats.timers.load(Ordering::SeqCst)
            );
        }
    };
    settle(6).await;
    for view in &mut many {
        view.leave().await;
    }
    settle(1).await;
    rejoined.leave().await;
    settle(0).await;
    assert_eq!(
        stats.ticks.load(Ordering::SeqCst),
        0,
        "no timer ever ticked"
    );
    // 1 + 1 + 2 (the rejoin replaced a view) + 5.
    assert_eq!(
        stats.shutdowns.load(Ordering::SeqCst),
        9,
        "every view's shutdown ran"
    );
}

#[tokio::test]
async fn send_info_results_arrive_as_a_diff_push_after_the_reply() {
    let address = start_router(Router::new().live(
        "/search",
        examples::search::Search::new(Duration::from_millis(50)),
    ))
    .await;
    let mut view = Joined::open(address, "/search").await;
    let reply = view.event(form("zip-search", "zip=596", None)).await;
    // The reply: the loading state only.
    assert_eq!(
        reply,
        json!({"diff": {
            "0": " value=\"596\"",
            "1": " readonly",
            "2": {"0": "596", "s": ["<p id=\"loading\" class=\"loading\">Searching for ", "…</p>"]}
        }})
    );
    // Then handle_info's results, pushed.
    let (event, diff) = view.pushed().await;
    assert_eq!(event, "diff");
    assert_eq!(diff["1"], json!(""));
    assert_eq!(diff["2"], json!(""), "the loading state is gone");
    assert_eq!(diff["3"]["0"], json!("3"));
    assert_eq!(diff["4"]["k"]["kc"], json!(3));
    assert_eq!(
        diff["4"]["k"]["0"],
        json!({"0": "Downtown Helena", "1": "Helena", "2": "59601"})
    );
    assert_eq!(view.client.try_recv(Duration::from_millis(200)).await, None);
}

#[tokio::test]
async fn autocomplete_suggests_on_change_and_searches_through_send_info() {
    let address = start().await;
    let mut view = Joined::open(address, "/autocomplete").await;
    let reply = view.event(form("suggest", "city=ch", Some("city"))).await;
    let diff = &reply["diff"];
    assert_eq!(diff["0"], json!(" value=\"ch\""));
    let options = json!({"k": {
        "0": {"0": " value=\"Charlotte\""}, "1": {"0": " value=\"Chattanooga\""},
        "2": {"0": " value=\"Cheyenne\""}, "3": {"0": " value=\"Chicago\""}, "kc": 4
    }});
    let suggestions = json!({"k": {
        "0": {"0": "Charlotte"}, "1": {"0": "Chattanooga"}, "2": {"0": "Cheyenne"},
        "3": {"0": "Chicago"}, "kc": 4
    }});
    assert_eq!(diff["1"], options, "the datalist");
    assert_eq!(diff["2"], suggestions, "the list");
    assert_eq!(diff["3"], json!("1"), "one suggest event counted");

    let reply = view.event(form("search", "city=Chicago", None)).await;
    assert!(reply["diff"]["4"].is_object(), "the loading state: {reply}");
    let (event, diff) = view.pushed().await;
    assert_eq!(event, "diff");
    assert_eq!(diff["4"], json!(""));
    assert_eq!(diff["5"]["k"]["kc"], json!(2), "{diff}");
}

#[tokio::test]
async fn subscribe_delivers_a_broadcast_from_another_connection() {
    let address = start().await;
    let mut alice = Joined::open(address, "/rtcounter").await;
    let mut bob = Joined::open(address, "/rtcounter").await;
    assert_eq!(alice.rendered()["0"], json!("0"));
    assert_eq!(bob.rendered()["0"], json!("0"));

    let reply = alice.event(click("inc", json!({"value": ""}))).await;
    assert_eq!(reply, json!({"diff": {"0": "1"}}));
    // Bob did nothing: the broadcast reaches his handle_info, pushed as a diff.
    let (event, diff) = bob.pushed().await;
    assert_eq!((event.as_str(), diff), ("diff", json!({"0": "1"})));
    // Alice's own view already shows 1: her copy of the broadcast renders no diff.
    assert_eq!(
        alice.client.try_recv(Duration::from_millis(200)).await,
        None
    );

    let reply = bob.event(click("dec", json!({"value": ""}))).await;
    assert_eq!(reply, json!({"diff": {"0": "0"}}));
    let (event, diff) = alice.pushed().await;
    assert_eq!((event.as_str(), diff), ("diff", json!({"0": "0"})));

    // A view mounted later starts from the shared count; a left view gets nothing more.
    bob.leave().await;
    alice.event(click("inc", json!({"value": ""}))).await;
    let carol = Joined::open(address, "/rtcounter").await;
    assert_eq!(carol.rendered()["0"], json!("1"));
    assert_eq!(bob.client.try_recv(Duration::from_millis(200)).await, None);
}

#[tokio::test]
async fn a_form_value_that_does_not_decode_is_refused_naming_its_field_and_the_view_goes_on() {
    let address = start().await;
    let mut view = Joined::open(address, "/prints").await;
    let reply = view
        .event_raw(form("update", "photo_count=lots", Some("photo_count")))
        .await;
    // An ok reply, so the browser unlocks the input, carrying lv:refused with the field.
    assert_eq!(reply[4]["status"], json!("ok"));
    let refused = &reply[4]["response"]["diff"]["e"][0];
    assert_eq!(refused[0], json!("lv:refused"));
    assert_eq!(refused[1]["reason"], json!("invalid value"));
    assert_eq!(refused[1]["event"], json!("update"));
    let message = refused[1]["detail"].as_str().unwrap();
    assert!(
        message.starts_with("invalid value for `photo_count`: "),
        "{message}"
    );
    // The view kept its state and still works.
    let reply = view
        .event(form("update", "photo_count=20", Some("photo_count")))
        .await;
    assert_eq!(reply["diff"]["0"], json!("20"));
}
