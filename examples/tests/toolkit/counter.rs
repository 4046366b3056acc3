//! `/counter`.

use liveview_core::testing::{live, TestError};

use super::app;

#[tokio::test]
async fn counts_up_and_down() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/counter").await?;
    assert!(view.dead_page().html.contains("Count: 0"));
    assert_eq!(view.title(), Some("Counter"));
    assert!(view.has_element("h1", "Count: 0"));
    view.element("button[phx-click=inc]").click().await?;
    view.element("button[phx-click=inc]").click().await?;
    view.element("button[phx-click=dec]").click().await?;
    assert_eq!(view.text("h1")?, "Count: 1");
    Ok(())
}

#[tokio::test]
async fn a_missing_element_names_the_selector_and_shows_the_page() {
    let app = app();
    let mut view = live(&app, "/counter").await.unwrap();
    let err = view.element("button.nope").click().await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("button.nope") && message.contains("matched 0"),
        "{message}"
    );
    assert!(message.contains("Count: 0"), "the page is shown: {message}");
}

#[tokio::test]
async fn two_clients_are_independent() -> Result<(), TestError> {
    let app = app();
    let mut a = live(&app, "/counter").await?;
    let b = live(&app, "/counter").await?;
    a.element("button[phx-click=inc]").click().await?;
    assert_eq!(a.text("h1")?, "Count: 1");
    assert_eq!(b.text("h1")?, "Count: 0");
    Ok(())
}
