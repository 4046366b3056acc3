//! `/js` (JS commands that stay in the browser, a push chained with them, a hook that gets a
//! reply) and `/upload/avatar` (an upload owned by a component, saved from its progress
//! callback).

use liveview_core::testing::{live, TestError, TestFile};
use serde_json::json;

use super::app;

#[tokio::test]
async fn js_commands_stay_in_the_browser_and_a_push_in_a_chain_reaches_the_server(
) -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/js").await?;
    let sent = view.messages_sent();
    view.element("#open-modal").click().await?;
    view.element("#cancel-modal").click().await?;
    view.element("#menu-button").click().await?;
    view.element(".tabs button:nth-child(2)").click().await?;
    assert_eq!(
        view.messages_sent(),
        sent,
        "show, hide, toggle, classes: no frame"
    );
    view.element("#confirm-modal").click().await?;
    assert_eq!(view.messages_sent(), sent + 1, "the push, once");
    assert_eq!(view.text("#confirmed")?, "Confirmed 1 times");
    Ok(())
}

#[tokio::test]
async fn a_hook_gets_its_reply() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/js").await?;
    let reply = view
        .element("#ask")
        .render_hook("ask", json!({"n": 12}))
        .await?;
    assert_eq!(reply, Some(json!({"square": 144})));
    assert_eq!(view.text("#answered")?, "Answered 1 questions");
    Ok(())
}

/// The smallest PNG: a 1×1 pixel.
const PIXEL: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0a, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn a_components_upload_is_saved_as_soon_as_it_arrives() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/upload/avatar").await?;
    let mut upload = view
        .upload(
            "#avatar-form",
            "avatar",
            vec![TestFile::new("me.png", "image/png", PIXEL)],
        )
        .await?;
    assert!(
        view.has_element("#avatar-entries li.entry .name", "me.png"),
        "{}",
        view.html()
    );
    view.render_upload(&mut upload, "me.png", 100).await?;
    assert!(
        view.has_element("#avatar figcaption", "Saved me.png"),
        "{}",
        view.html()
    );
    assert!(view.has_element("#avatar img[src^='data:image/png;base64,']", ""));
    assert!(
        !view.has_element("#avatar-entries li.entry", ""),
        "consumed"
    );
    Ok(())
}
