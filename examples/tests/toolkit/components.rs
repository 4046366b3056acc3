//! `/cards` (components, targeted events, a component messaging its view) and `/feed` (streams).

use liveview_core::testing::{live, TestError};

use super::app;

#[tokio::test]
async fn cards_are_components_with_their_own_state() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/cards").await?;
    assert_eq!(view.count("section.card", ""), 3);
    assert_eq!(view.count("[data-phx-component]", ""), 3);
    view.element("[data-card='2'] button.like").click().await?;
    view.element("[data-card='2'] button.like").click().await?;
    assert_eq!(view.text("[data-card='2'] .likes")?, "2");
    assert_eq!(view.text("[data-card='1'] .likes")?, "0");
    // A component asks its view to star it.
    view.element("[data-card='3'] button.star").click().await?;
    view.wait_for("#starred", "c3").await?;
    // The view adds and removes cards; a removed card's component is destroyed.
    view.element("#add").click().await?;
    assert_eq!(view.count("section.card", ""), 4);
    view.element("[data-card='2'] button.remove")
        .click()
        .await?;
    assert_eq!(view.count("section.card", ""), 3);
    assert!(!view.has_element("[data-card='2']", ""));
    // The others kept their state.
    view.element("[data-card='1'] button.like").click().await?;
    assert_eq!(view.text("[data-card='1'] .likes")?, "1");
    Ok(())
}

#[tokio::test]
async fn feed_stream_items_stay_in_the_page() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/feed").await?;
    assert_eq!(view.count("#posts li", ""), 2);
    view.element("#append").click().await?;
    assert_eq!(view.count("#posts li", ""), 3, "{}", view.html());
    view.element("#posts-1 button.edit").click().await?;
    assert!(view.text("#posts-1")?.contains("edited #1"));
    view.element("#posts-2 button.delete").click().await?;
    assert!(!view.has_element("#posts-2", ""));
    for _ in 0..6 {
        view.element("#prepend").click().await?;
    }
    assert_eq!(
        view.count("#posts li", ""),
        5,
        "prepend keeps 5: {}",
        view.html()
    );
    assert!(view.html().find("prepended #9").unwrap() < view.html().find("prepended #8").unwrap());
    view.element("#reset").click().await?;
    assert_eq!(view.count("#posts li", ""), 1);
    assert!(view.text("#posts li")?.contains("after reset"));
    Ok(())
}
