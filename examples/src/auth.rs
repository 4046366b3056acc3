//! A small app with users: `/login` (a form that checks the password over the socket, then
//! posts itself to the application's own `POST /login` route with `phx-trigger-action`, which
//! sets a signed cookie), `/account` (guarded by an `on_mount` hook), `POST /logout`, and
//! `/admin`, a second live session: navigating there from `/account` loads the page over HTTP.
//!
//! The plain routes are axum handlers ([`axum_routes`]); the live ones are [`live_routes`];
//! [`session`] reads the cookie into each page's session.

use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use liveview_core::{
    default_layout, html, Halt, LiveSession, LiveView, Meta, MountContext, OnMountResult, Params,
    Rendered, Router, Session, Socket, ViewError, ViewResult,
};
use liveview_hyper::{LiveService, SessionCookie};
use serde::{Deserialize, Serialize};

/// The signed cookie's name.
pub const COOKIE: &str = "user";

/// A signed-in user, as the cookie and the page's session hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// Whether the user may see `/admin`.
    pub admin: bool,
}

/// The known users and their passwords (a demo: a real app checks a password hash).
#[derive(Debug, Clone)]
pub struct Users(Vec<(User, &'static str)>);

impl Users {
    /// `alice` / `wonderland` (an admin) and `bob` / `builder`.
    pub fn demo() -> Self {
        let user = |name: &str, admin| User {
            name: name.to_owned(),
            admin,
        };
        Self(vec![
            (user("alice", true), "wonderland"),
            (user("bob", false), "builder"),
        ])
    }

    /// The user with this name and password.
    pub fn check(&self, name: &str, password: &str) -> Option<User> {
        self.0
            .iter()
            .find(|(user, known)| user.name == name && *known == password)
            .map(|(user, _)| user.clone())
    }
}

/// Each page's session: the user of a valid cookie (a forged, tampered or expired one is
/// ignored: the visitor is anonymous).
pub fn session(cookie: SessionCookie) -> impl Fn(&axum::http::request::Parts) -> Session {
    move |request| {
        cookie
            .read::<User>(&request.headers)
            .and_then(|user| Session::from_typed(&user).ok())
            .unwrap_or_default()
    }
}

/// The `on_mount` guard of `/account` and `/admin`: the session's user goes into the
/// socket's assigns; an anonymous visitor is sent to `/login`.
pub fn require_user(hook: &mut MountContext<'_>) -> OnMountResult {
    let user = hook
        .session
        .typed::<User>()
        .map_err(|_| Halt::redirect("/login"))?;
    hook.assigns.insert(user);
    Ok(())
}

/// The second guard of `/admin`: users who are not admins get `403`.
pub fn require_admin(hook: &mut MountContext<'_>) -> OnMountResult {
    match hook.assigns.get::<User>() {
        Some(user) if user.admin => Ok(()),
        _ => Err(ViewError::forbidden("This page is for administrators.").into()),
    }
}

/// Adds `/login`, `/account` (live session `account`) and `/admin` (live session `admin`,
/// with a root layout of its own) to `router`.
pub fn live_routes(router: Router, users: Users) -> Router {
    let users = Arc::new(users);
    router
        .live("/login", Login { users })
        .live_session(LiveSession::new("account").on_mount(require_user), |routes| {
            routes.live("/account", Account)
        })
        .live_session(
            LiveSession::new("admin")
                .on_mount(require_user)
                .on_mount(require_admin)
                .root_layout(|parts| {
                    default_layout(parts).replacen(
                        "<body>\n",
                        "<body>\n<header id=\"admin-banner\" class=\"banner\">Administration</header>\n",
                        1,
                    )
                }),
            |routes| routes.live("/admin", Admin),
        )
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    /// The user's name.
    #[serde(default)]
    pub username: String,
    /// The password.
    #[serde(default)]
    pub password: String,
}

/// `POST /login` (the form posts here once the view found the password right) and
/// `POST /logout`, for an axum router; `GET /login` (the live page) goes to `live`.
pub fn axum_routes(cookie: SessionCookie, users: Users, live: LiveService) -> axum::Router {
    axum::Router::new()
        .route("/login", post(login).fallback_service(live))
        .route("/logout", post(logout))
        .with_state(Arc::new((cookie, users)))
}

type AuthState = State<Arc<(SessionCookie, Users)>>;

async fn login(State(auth): AuthState, Form(form): Form<Credentials>) -> Response {
    let (cookie, users) = &*auth;
    match users.check(&form.username, &form.password) {
        Some(user) => (
            StatusCode::SEE_OTHER,
            [
                (LOCATION, "/account".parse().unwrap()),
                (SET_COOKIE, cookie.set(&user)),
            ],
        )
            .into_response(),
        None => (StatusCode::SEE_OTHER, [(LOCATION, "/login?failed=1")]).into_response(),
    }
}

async fn logout(State(auth): AuthState) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, "/login".parse().unwrap()),
            (SET_COOKIE, auth.0.clear()),
        ],
    )
        .into_response()
}

/// `/login`.
#[derive(Debug)]
pub struct Login {
    users: Arc<Users>,
}

/// The login page's state.
#[derive(Debug, Default)]
pub struct LoginState {
    username: String,
    password: String,
    error: Option<&'static str>,
    /// The password is right: the form posts itself to `POST /login`.
    trigger: bool,
    signed_in: Option<String>,
}

/// The login page's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginEvent {
    /// `phx-submit="login"`.
    Login(Credentials),
}

impl LiveView for Login {
    type State = LoginState;
    type Event = LoginEvent;
    type Info = ();

    async fn mount(
        &self,
        socket: &mut Socket<Self>,
        params: &Params,
        session: &Session,
    ) -> ViewResult {
        socket.page_title("Log in");
        let signed_in = session.typed::<User>().ok().map(|user| user.name);
        let failed = params.get("failed").is_some();
        socket.assign(|state| {
            state.signed_in = signed_in;
            state.error = failed.then_some("Wrong name or password.");
        });
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: LoginEvent) -> ViewResult {
        let LoginEvent::Login(form) = event;
        let right = self.users.check(&form.username, &form.password).is_some();
        socket.assign(|state| {
            state.trigger = right;
            state.error = (!right).then_some("Wrong name or password.");
            state.username = form.username.chars().take(64).collect();
            state.password = if right { form.password } else { String::new() };
        });
        Ok(())
    }

    fn render(&self, state: &LoginState, meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Log in" }
            @if let Some(name) = &state.signed_in {
                p #signed-in { "You are signed in as " b { (name) } ". " a href="/account" { "Your account" } }
            }
            @if let Some(error) = state.error {
                p.alert.alert-error #login-error role="alert" { (error) }
            }
            form #login-form action="/login" method="post" phx-submit="login" phx-trigger-action[state.trigger] {
                input type="hidden" name="_csrf_token" value=(meta.csrf_token);
                label { "Name " input #username type="text" name="username" value=(&state.username) autocomplete="username"; }
                label { "Password " input #password type="password" name="password" value=(&state.password) autocomplete="current-password"; }
                button #login-button type="submit" phx-disable-with="Checking..." { "Log in" }
            }
            p.hint { "Try alice / wonderland (an administrator) or bob / builder." }
            (crate::back_link())
        }
    }
}

/// `/account`: the signed-in user (from the `on_mount` guard) and the client's time zone
/// (from the connect params).
#[derive(Debug, Default)]
pub struct Account;

/// The account page's state.
#[derive(Debug, Default)]
pub struct AccountState {
    user: Option<User>,
    timezone: Option<String>,
}

impl LiveView for Account {
    type State = AccountState;
    type Event = ();
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Account");
        let user = socket.assigns().get::<User>().cloned();
        let timezone = socket
            .connect_params()
            .and_then(|params| params.get("timezone")?.as_str())
            .map(|zone| zone.chars().take(64).collect());
        socket.assign(|state| {
            state.user = user;
            state.timezone = timezone;
        });
        Ok(())
    }

    fn render(&self, state: &AccountState, meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Your account" }
            @if let Some(user) = &state.user {
                p #account-user { "Signed in as " b #account-name { (&user.name) } }
            }
            p #timezone { "Time zone: " (state.timezone.as_deref().unwrap_or("…")) }
            p { a #to-admin href="/admin" data-phx-link="redirect" data-phx-link-state="push" { "Administration" } }
            form #logout-form action="/logout" method="post" {
                input type="hidden" name="_csrf_token" value=(meta.csrf_token);
                button #logout type="submit" { "Log out" }
            }
        }
    }
}

/// `/admin`: the users, for administrators.
#[derive(Debug, Default)]
pub struct Admin;

impl LiveView for Admin {
    type State = String;
    type Event = ();
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Administration");
        let name = socket.assigns().get::<User>().map(|user| user.name.clone());
        socket.assign(|state| *state = name.unwrap_or_default());
        Ok(())
    }

    fn render(&self, name: &String, _: &Meta<'_>) -> Rendered {
        html! {
            h1 #admin-title { "Administration" }
            p { "Hello, " (name) ". Users: alice (administrator), bob." }
            p { a #to-account href="/account" data-phx-link="redirect" data-phx-link-state="push" { "Back to your account" } }
        }
    }
}
