//! `/`, `/healthz`, `/hello-toggle`, `/hi/:name`, `/volume`, `/prints`, `/table`.

use liveview_core::testing::{dead_render, live, TestError};

use super::app;

#[tokio::test]
async fn the_index_links_every_example() -> Result<(), TestError> {
    let app = app();
    let view = live(&app, "/").await?;
    for path in [
        "/counter",
        "/chat",
        "/feed",
        "/cards",
        "/upload",
        "/paginate",
    ] {
        assert!(
            view.has_element(&format!("a[href='{path}']"), ""),
            "{path} is linked"
        );
    }
    Ok(())
}

#[tokio::test]
async fn health_says_ok() -> Result<(), TestError> {
    let app = app();
    let view = live(&app, "/healthz").await?;
    assert_eq!(view.text("#health")?, "ok");
    Ok(())
}

#[tokio::test]
async fn hello_toggles() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/hello-toggle").await?;
    assert_eq!(view.text("#greeting")?, "Goodbye 👋");
    view.element("button").with_text("Toggle").click().await?;
    assert_eq!(view.text("#greeting")?, "Hello 👋");
    view.element("button").with_text("Toggle").click().await?;
    assert_eq!(view.text("#greeting")?, "Goodbye 👋");
    Ok(())
}

#[tokio::test]
async fn hello_name_reads_path_and_query_and_knows_it_is_connected() -> Result<(), TestError> {
    let app = app();
    let page = dead_render(&app, "/hi/ada?greeting=Howdy").await?;
    assert!(page.html.contains("Howdy, ada!"));
    assert!(page.html.contains(r#"<dd id="connected">no</dd>"#));
    let view = live(&app, "/hi/ada?greeting=Howdy").await?;
    assert_eq!(view.text("#hello")?, "Howdy, ada!");
    assert_eq!(view.text("#connected")?, "yes");
    assert_eq!(view.text("#url")?, "/hi/ada?greeting=Howdy");
    assert_eq!(view.title(), Some("Hi ada"));
    Ok(())
}

#[tokio::test]
async fn volume_follows_window_keys_with_flash_at_the_ends() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/volume").await?;
    assert_eq!(view.text("#volume")?, "50");
    for _ in 0..5 {
        view.element("[phx-window-keydown]")
            .keydown("ArrowUp")
            .await?;
    }
    assert_eq!(view.text("#volume")?, "100");
    assert_eq!(view.title(), Some("Volume 100%"));
    assert_eq!(view.text("#flash-info")?, "Cranked to 100!");
    // The flash clears with a click (lv:clear-flash).
    view.element("#flash-info").click().await?;
    assert!(!view.has_element("#flash-info", ""));
    view.element("[phx-window-keydown]").keydown("x").await?;
    assert_eq!(view.text("#volume")?, "100", "other keys do nothing");
    for _ in 0..10 {
        view.element("[phx-window-keydown]")
            .keydown("ArrowDown")
            .await?;
    }
    assert_eq!(view.text("#flash-error")?, "Silence!");
    Ok(())
}

#[tokio::test]
async fn prints_price_follows_the_slider() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/prints").await?;
    assert_eq!(view.text("#price")?, "$5.00");
    view.form("#prints-form")
        .fill("photo_count", 100)
        .change()
        .await?;
    assert_eq!(view.text("#count")?, "100");
    assert_eq!(view.text("#price")?, "$40.00", "20% off from 100 prints");
    view.form("#prints-form")
        .fill("photo_count", 9999)
        .change()
        .await?;
    assert_eq!(view.text("#count")?, "500", "clamped");
    Ok(())
}

#[tokio::test]
async fn table_bumps_one_row() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/table").await?;
    assert_eq!(view.count("tbody tr", ""), 100);
    view.element("#row-42 button").click().await?;
    view.element("#row-42 button").click().await?;
    assert_eq!(view.text("#row-42 .value")?, "2");
    assert_eq!(
        view.text("#row-41 .value")?,
        "0",
        "the other rows are untouched"
    );
    assert_eq!(view.text("#row-43 .value")?, "0");
    Ok(())
}
