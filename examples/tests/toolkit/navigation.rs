//! `/paginate` and `/nav/:page`: patches, live redirects and redirects, with their flash.

use liveview_core::testing::{live, NavigationKind, TestError};

use super::app;

#[tokio::test]
async fn paginate_follows_patch_links_and_patches_from_events() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/paginate").await?;
    assert_eq!(view.text("#page")?, "Page 1 of 5");
    assert_eq!(view.count("#donations tbody tr", ""), 10);
    view.element("#next").click().await?;
    assert_eq!(view.text("#page")?, "Page 2 of 5");
    assert_eq!(view.title(), Some("Donations, page 2"));
    assert!(view.path().contains("page=2"), "{}", view.path());
    // Changing rows per page patches from the server.
    view.form("#per-page-form")
        .fill("per_page", 20)
        .change()
        .await?;
    let to = view.assert_patch()?;
    assert!(to.contains("per_page=20") && to.contains("page=1"), "{to}");
    assert_eq!(view.count("#donations tbody tr", ""), 20);
    assert_eq!(view.text("#page")?, "Page 1 of 3");
    // Sorting.
    view.element("#sort-quantity").click().await?;
    assert!(view.assert_patch()?.contains("sort_by=quantity"));
    Ok(())
}

#[tokio::test]
async fn nav_patches_keep_the_view() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/nav/a").await?;
    assert_eq!(view.text("#params-calls")?, "1");
    view.element("#patch-b").click().await?;
    assert_eq!(view.assert_patch()?, "/nav/b");
    assert_eq!(view.text("#page")?, "b");
    assert_eq!(
        view.text("#params-calls")?,
        "2",
        "same view, handle_params again"
    );
    assert_eq!(view.path(), "/nav/b");
    Ok(())
}

#[tokio::test]
async fn nav_live_redirect_carries_its_flash() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/nav/a").await?;
    view.element("#live-redirect").click().await?;
    let navigation = view.follow_redirect().await?;
    assert_eq!(navigation.kind, NavigationKind::LiveRedirect);
    assert_eq!(navigation.to, "/nav-landing");
    assert_eq!(
        navigation.flash.get("info"),
        Some("Welcome! You came by push_redirect.")
    );
    assert_eq!(view.text("#landing")?, "Landing");
    assert_eq!(
        view.text("#flash-info")?,
        "Welcome! You came by push_redirect."
    );
    assert!(!view.has_element("#arrived", ""));
    // And back with a navigate link.
    view.element("#back").click().await?;
    assert_eq!(view.text("#page")?, "a");
    Ok(())
}

#[tokio::test]
async fn nav_redirect_is_a_full_page_load_with_its_flash() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/nav/a").await?;
    view.element("#redirect").click().await?;
    let navigation = view.follow_redirect().await?;
    assert_eq!(navigation.kind, NavigationKind::Redirect);
    assert_eq!(navigation.to, "/nav-landing?full=1");
    assert_eq!(view.text("#arrived")?, "Arrived with a full page load.");
    assert_eq!(view.text("#flash-info")?, "Welcome! You came by redirect.");
    Ok(())
}

#[tokio::test]
async fn navigating_outside_the_live_session_loads_the_page() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/counter").await?;
    // /upload is in another live session: the join is refused, the page is loaded afresh.
    view.navigate("/upload").await?;
    assert!(view.has_element("form", ""), "{}", view.html());
    assert_eq!(view.path(), "/upload");
    Ok(())
}
