//! The users app (`/login`, `/account`, `/admin`: live sessions, `on_mount` guards, connect
//! params) and `/items` (one view on three routes with `live_action`, patches across them).

use examples::auth::User;
use liveview_core::testing::{live, LiveOptions, NavigationKind, TestError};
use liveview_core::Session;

use super::app;

fn signed_in(name: &str, admin: bool) -> LiveOptions {
    let user = User {
        name: name.to_owned(),
        admin,
    };
    LiveOptions::new().session(Session::from_typed(&user).unwrap())
}

#[tokio::test]
async fn an_anonymous_visitor_of_account_is_sent_to_login() {
    let app = app();
    let err = live(&app, "/account").await.unwrap_err();
    let TestError::Redirect(navigation) = err else {
        panic!("expected a redirect, got {err}");
    };
    assert_eq!(navigation.kind, NavigationKind::Redirect);
    assert_eq!(navigation.to, "/login");
}

#[tokio::test]
async fn the_login_form_checks_over_the_socket_then_triggers_the_post() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/login").await?;
    assert!(!view.has_element("#login-form[phx-trigger-action]", ""));
    view.form("#login-form")
        .fill("username", "alice")
        .fill("password", "nope")
        .submit()
        .await?;
    assert_eq!(view.text("#login-error")?, "Wrong name or password.");
    assert!(!view.has_element("#login-form[phx-trigger-action]", ""));
    view.form("#login-form")
        .fill("username", "alice")
        .fill("password", "wonderland")
        .submit()
        .await?;
    // The browser now submits the form over HTTP to the app's own POST /login.
    assert!(view.has_element(
        "#login-form[phx-trigger-action][action='/login'][method=post]",
        ""
    ));
    assert!(!view.has_element("#login-error", ""));
    Ok(())
}

#[tokio::test]
async fn a_signed_in_user_sees_the_account_with_connect_params() -> Result<(), TestError> {
    let app = app();
    let view = signed_in("bob", false)
        .connect_param("timezone", "Europe/Paris")
        .mount(&app, "/account")
        .await?;
    assert_eq!(view.text("#account-name")?, "bob");
    assert_eq!(view.text("#timezone")?, "Time zone: Europe/Paris");
    assert!(
        view.dead_page().html.contains("Time zone: …"),
        "the HTTP render has no connect params"
    );
    Ok(())
}

#[tokio::test]
async fn admin_is_another_live_session_and_forbidden_to_non_admins() -> Result<(), TestError> {
    let app = app();
    let mut view = signed_in("alice", true).mount(&app, "/account").await?;
    let account_id = view.dead_page().id.clone();
    // Live navigation to another live session is refused on the socket: a full page load.
    view.element("#to-admin").click().await?;
    assert_eq!(view.text("#admin-title")?, "Administration");
    assert_ne!(
        view.dead_page().id,
        account_id,
        "a new page, not the same socket's view"
    );
    assert!(
        view.dead_page().html.contains("id=\"admin-banner\""),
        "the admin root layout"
    );
    view.element("#to-account").click().await?;
    assert_eq!(view.text("#account-name")?, "alice");

    let err = signed_in("bob", false)
        .mount(&app, "/admin")
        .await
        .unwrap_err();
    assert!(
        matches!(err, TestError::Status { status: 403, ref html } if html.contains("administrators")),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn items_patches_across_routes_of_one_view_with_live_action() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/items").await?;
    let mount_id = view.text("#mount-id")?;
    assert_eq!(view.text("#live-action")?, "index");
    view.element("#to-42").click().await?;
    assert_eq!(view.text("#live-action")?, "show");
    assert_eq!(view.text("#selected")?, "Item 42");
    view.element("#to-new").click().await?;
    assert_eq!(view.text("#live-action")?, "new");
    view.element("#next").click().await?;
    assert_eq!(view.assert_patch()?, "/items/1");
    assert_eq!(view.text("#live-action")?, "show");
    assert_eq!(view.text("#mount-id")?, mount_id, "never remounted");
    assert_eq!(view.text("#params-runs")?, "4");
    assert_eq!(view.title(), Some("Items: show"));

    let err = live(&app, "/items/5000").await.unwrap_err();
    assert!(
        matches!(err, TestError::Status { status: 404, .. }),
        "{err}"
    );
    Ok(())
}
