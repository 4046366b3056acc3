//! `/nested` (child LiveViews: independent, a crash stays in its child), `/player` (a sticky
//! view surviving live navigation), `/async` (loading states, results, a failure and its
//! retry) and `/streams/components` (streams of one name in four components).

use liveview_core::testing::{live, TestError};

use super::app;

#[tokio::test]
async fn children_run_on_their_own_and_a_crash_stays_in_its_child() -> Result<(), TestError> {
    let app = app();
    let mut page = live(&app, "/nested").await?;
    let mut left = page.find_live("counter-left").await?;
    let mut right = page.find_live("counter-right").await?;
    let clock = page.find_live("clock").await?;
    assert!(clock.has_element(".clock", "Running for"));
    left.element("button.inc").click().await?;
    left.element("button.inc").click().await?;
    right.element("button.inc").click().await?;
    assert_eq!(left.text(".count")?, "2");
    assert_eq!(right.text(".count")?, "1");
    // A parent re-render does not remount its children.
    page.element("#rerender").click().await?;
    left.element("button.inc").click().await?;
    assert_eq!(left.text(".count")?, "3");
    // A crash ends that child only.
    let crash = left.element("button.crash").click().await.unwrap_err();
    assert!(matches!(crash, TestError::Crashed(_)), "{crash}");
    right.element("button.inc").click().await?;
    assert_eq!(right.text(".count")?, "2");
    page.element("#rerender").click().await?;
    assert_eq!(page.text("#parent-renders")?, "2");
    // The browser rejoins the crashed child: it mounts afresh.
    left.rejoin().await?;
    assert_eq!(left.text(".count")?, "0");
    Ok(())
}

#[tokio::test]
async fn the_sticky_player_survives_live_navigation() -> Result<(), TestError> {
    let app = app();
    let mut page = live(&app, "/player").await?;
    let mut player = page.find_live("now-playing").await?;
    player.element("#next-track").click().await?;
    assert_eq!(player.text("#track")?, "Giant Steps");
    page.element("#to-queue").click().await?;
    assert_eq!(page.text("#page-title")?, "Queue");
    page.element("#back-to-album").click().await?;
    page.follow_redirect().await?;
    assert_eq!(page.text("#page-title")?, "Kind of Blue");
    // The player was never torn down: same state, still answering.
    assert!(player.ended().is_none());
    player.element("#next-track").click().await?;
    assert_eq!(player.text("#track")?, "Blue in Green");
    Ok(())
}

#[tokio::test]
async fn async_panels_load_on_their_own_and_a_failed_one_retries() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/async").await?;
    // The join renders every panel loading; results arrive as pushes.
    assert!(view.has_element("#visitors .loading", "Loading"));
    assert!(view.has_element("#revenue .loading", "Loading"));
    view.wait_for("#visitors .value", "1284").await?;
    view.wait_for("#rates .error", "Could not load").await?;
    view.element("#retry-rates").click().await?;
    assert!(
        view.has_element("#rates .loading", ""),
        "loading again: {}",
        view.html()
    );
    view.wait_for("#rates .value", "").await?;
    assert!(!view.has_element("#retry-rates", ""));
    Ok(())
}

#[tokio::test]
async fn four_streams_of_one_name_reset_on_their_own() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/streams/components").await?;
    for holder in ["#box-a", "#box-b", "#box-c", "#box-d"] {
        view.element(&format!("{holder} button.add"))
            .click()
            .await?;
        view.element(&format!("{holder} button.add"))
            .click()
            .await?;
    }
    let count = |view: &liveview_core::testing::LiveViewTest, holder: &str| {
        view.count(&format!("{holder} li"), "")
    };
    // Two items from mount, two added.
    let before = count(&view, "#box-b");
    assert_eq!(before, 4, "{}", view.html());
    view.element("#box-a button.reset").click().await?;
    assert_eq!(
        count(&view, "#box-a"),
        1,
        "a reset keeps its one new item: {}",
        view.html()
    );
    assert!(view.has_element("#box-a li", "item 5"), "{}", view.html());
    for holder in ["#box-b", "#box-c", "#box-d"] {
        assert_eq!(
            count(&view, holder),
            before,
            "{holder} kept its items: {}",
            view.html()
        );
    }
    Ok(())
}
