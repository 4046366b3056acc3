//! Views updated from the server: `/search` and `/autocomplete` (work sent to
//! `handle_info`), `/dashboard` (a timer and events pushed to a hook), `/rtcounter` and
//! `/chat` (pub/sub between clients, presence).

use std::sync::atomic::Ordering;
use std::time::Duration;

use examples::{autocomplete, chat, dashboard, search, Node};
use liveview_core::testing::{live, TestError};
use liveview_core::Router;

use super::app;

#[tokio::test]
async fn search_shows_loading_then_the_stores() -> Result<(), TestError> {
    let app = examples::endpoint(
        Router::new().live("/search", search::Search::new(Duration::from_millis(50))),
        None,
    )
    .unwrap();
    let mut view = live(&app, "/search").await?;
    view.form("#search-form")
        .fill("zip", "5960")
        .submit()
        .await?;
    // The reply to the submit shows the loading state; the results come from handle_info.
    assert!(view.has_element("#loading", "Searching for 5960"));
    assert!(view.has_element("#zip[readonly]", ""));
    view.wait_for("#result-count", "stores found").await?;
    assert!(!view.has_element("#loading", ""));
    assert!(view.has_element("#stores li", "Helena"), "{}", view.html());
    Ok(())
}

#[tokio::test]
async fn autocomplete_suggests_as_you_type_and_searches() -> Result<(), TestError> {
    let app = examples::endpoint(
        Router::new().live(
            "/autocomplete",
            autocomplete::Autocomplete::new(Duration::from_millis(10)),
        ),
        None,
    )
    .unwrap();
    let mut view = live(&app, "/autocomplete").await?;
    view.form("#city-form").fill("city", "he").change().await?;
    assert!(
        view.has_element("#matches option[value=Helena]", ""),
        "{}",
        view.html()
    );
    assert_eq!(view.text("#suggests")?, "1");
    view.form("#city-form")
        .fill("city", "Helena")
        .submit()
        .await?;
    view.wait_for("#stores li", "Helena").await?;
    Ok(())
}

#[tokio::test]
async fn dashboard_ticks_pushes_points_and_stops_its_timer_on_leave() -> Result<(), TestError> {
    let board = dashboard::Dashboard::new(Duration::from_millis(10)).with_seed(7);
    let stats = board.stats();
    let app = examples::endpoint(Router::new().live("/dashboard", board), None).unwrap();
    let mut view = live(&app, "/dashboard").await?;
    view.wait_until(|v| {
        v.text("#ticks")
            .is_ok_and(|t| t.parse::<u64>().unwrap_or(0) >= 3)
    })
    .await?;
    let point = view.assert_push_event("point")?;
    assert_eq!(point["tick"], 1);
    assert_eq!(stats.timers.load(Ordering::SeqCst), 1);
    view.leave().await?;
    assert_eq!(stats.shutdowns.load(Ordering::SeqCst), 1, "shutdown ran");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        stats.timers.load(Ordering::SeqCst),
        0,
        "the timer stopped with the view"
    );
    Ok(())
}

#[tokio::test]
async fn the_shared_counter_updates_every_client() -> Result<(), TestError> {
    let app = app();
    let mut a = live(&app, "/rtcounter").await?;
    let mut b = live(&app, "/rtcounter").await?;
    let start: i64 = a.text("#count")?.parse().unwrap();
    a.element("button[phx-click=inc]").click().await?;
    a.element("button[phx-click=inc]").click().await?;
    b.wait_for("#count", &(start + 2).to_string()).await?;
    b.element("button[phx-click=dec]").click().await?;
    a.wait_for("#count", &(start + 1).to_string()).await?;
    Ok(())
}

#[tokio::test]
async fn chat_messages_and_presence_reach_the_other_tab() -> Result<(), TestError> {
    let node = Node::local();
    let app = examples::endpoint(
        Router::new().live("/chat", chat::Chat::new(node.presence.clone())),
        None,
    )
    .unwrap();
    let mut ada = live(&app, "/chat").await?;
    let mut bob = live(&app, "/chat").await?;
    ada.form("#chat-form")
        .fill("author", "Ada")
        .fill("text", "hello")
        .submit()
        .await?;
    bob.wait_for("#messages .message", "Ada: hello").await?;
    bob.form("#chat-form")
        .fill("author", "Bob")
        .fill("text", "hi Ada")
        .submit()
        .await?;
    ada.wait_for("#messages .message", "Bob: hi Ada").await?;
    // The log keeps earlier messages (phx-update="append" with temp_assign on the server).
    assert_eq!(ada.count("#messages .message", ""), 2, "{}", ada.html());
    ada.wait_for("#online li", "Bob").await?;
    // Bob types: Ada sees it.
    bob.form("#chat-form")
        .fill("text", "typing…")
        .change()
        .await?;
    ada.wait_for("#typing", "Bob").await?;
    Ok(())
}

#[tokio::test]
async fn a_message_published_by_the_server_reaches_the_chat() -> Result<(), TestError> {
    use liveview_core::PubSubExt;
    let app = app();
    let mut view = live(&app, "/chat").await?;
    let message = chat::Message {
        id: "ops-1".into(),
        author: "Ops".into(),
        text: "maintenance at noon".into(),
    };
    app.pubsub()
        .publish_json(chat::TOPIC, &message)
        .await
        .expect("published");
    view.wait_for("#msg-ops-1", "Ops: maintenance at noon")
        .await?;
    Ok(())
}

#[tokio::test]
async fn an_info_sent_to_the_dashboard_runs_like_a_tick() -> Result<(), TestError> {
    // A timer that never fires during the test: only the info sent below ticks.
    let board = dashboard::Dashboard::new(Duration::from_secs(3600)).with_seed(3);
    let app = examples::endpoint(Router::new().live("/dashboard", board), None).unwrap();
    let mut view = live(&app, "/dashboard").await?;
    assert_eq!(view.text("#ticks")?, "0");
    view.send_info::<dashboard::Dashboard>(dashboard::Info::Tick)
        .await?;
    view.wait_for("#ticks", "1").await?;
    assert_eq!(view.assert_push_event("point")?["tick"], 1);
    Ok(())
}
