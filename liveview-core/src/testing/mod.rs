//! Testing LiveViews in-process, in milliseconds: mount a view, click, type, submit, navigate,
//! and assert on the HTML — Phoenix's `Phoenix.LiveViewTest`, for this framework.
//!
//! Enable the `testing` feature (usually as a dev-dependency):
//!
//! ```toml
//! [dev-dependencies]
//! liveview-core = { version = "0.1", features = ["testing"] }
//! ```
//!
//! [`live`] renders the page as the HTTP request would (the dead render, `connected()` false),
//! then opens a socket into the **real runtime** (the same [`Connection`](crate::Connection),
//! Phoenix frames, tokens, CSRF check, view turns and limits a browser's socket gets) and joins
//! the view. Every reply and push is merged with [`ClientTree`](crate::diff::client::ClientTree),
//! the client's merge rules (checked against the real JavaScript client on the diff property
//! test's cases), so [`LiveViewTest::html`] is the HTML the browser would show. Elements are
//! found with CSS selectors (`scraper`); events are sent with the values the client would send
//! (`phx-value-*`, an input's value, forms serialized by `FormData` rules with `_unused_`
//! markers and `_target`).
//!
//! ```
//! use liveview_core::testing::live;
//! use liveview_core::{html, Endpoint, LiveView, Meta, Rendered, Router, Socket, ViewResult};
//! use serde::Deserialize;
//!
//! #[derive(Default)]
//! struct Counter;
//!
//! #[derive(Deserialize)]
//! #[serde(rename_all = "lowercase")]
//! enum Event { Inc }
//!
//! impl LiveView for Counter {
//!     type State = i64;
//!     type Event = Event;
//!     type Info = ();
//!
//!     async fn handle_event(&self, socket: &mut Socket<Self>, Event::Inc: Event) -> ViewResult {
//!         socket.assign(|count| *count += 1);
//!         Ok(())
//!     }
//!
//!     fn render(&self, count: &i64, _meta: &Meta) -> Rendered {
//!         html! { h1 { "Count: " (count) } button phx-click="inc" { "+" } }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app = Endpoint::builder(Router::new().live("/counter", Counter)).random_secret_key().build()?;
//!
//! let mut view = live(&app, "/counter").await?;     // dead render + connected join
//! assert!(view.has_element("h1", "Count: 0"));
//! view.element("button[phx-click=inc]").click().await?;
//! assert!(view.has_element("h1", "Count: 1"));
//! # Ok(())
//! # }
//! ```
//!
//! What else is here: [`LiveViewTest::form`] (change and submit with typed values),
//! [`Element::keydown`], [`Element::render_hook`] (with the hook's reply),
//! [`LiveViewTest::assert_patch`] / [`LiveViewTest::assert_redirect`] /
//! [`LiveViewTest::follow_redirect`] (navigation and its flash), [`LiveViewTest::patch`] and
//! [`LiveViewTest::navigate`] (links), [`LiveViewTest::assert_push_event`],
//! [`LiveViewTest::title`], [`LiveViewTest::wait_for`] (pushes from `handle_info`, pub/sub,
//! timers), [`LiveViewTest::send_info`], [`LiveViewTest::render_async`] (async tasks),
//! [`LiveViewTest::find_live`] (nested and sticky views on the same socket),
//! [`LiveViewTest::messages_sent`], and [`LiveViewTest::upload`] (files through the real
//! upload protocol). Several `live` calls on one endpoint are several browsers.
//!
//! A failure says what went wrong: a selector that matched nothing (or several) names the
//! selector and prints the view's HTML; an event the view refused returns
//! [`TestError::Refused`] with the server's reason; nothing waits forever (each wait ends with
//! [`TestError::Timeout`] after [`LiveOptions::timeout`], showing the HTML).

mod channel;
mod dom;
mod element;
mod upload;
mod view;

use std::sync::Arc;

pub use channel::MAX_UNREAD_FRAMES;
pub use element::{Element, Form};
pub use upload::{TestFile, Upload};
pub use view::{dead_render, DeadPage, LiveOptions, LiveViewTest};

use crate::socket::Flash;
use crate::Endpoint;

/// The origin the toolkit's URLs use (`url` in the join); views see their path and query.
pub(crate) const BASE_URL: &str = "http://localhost";

/// Mounts the view at `path` with the defaults of [`LiveOptions`]: the dead render, then the
/// connected join. Phoenix: `live(conn, path)`.
///
/// A mount that redirects is [`TestError::Redirect`] (with where to); an unrouted path is
/// [`TestError::NotFound`]; a mount that answers an error status (404, 403) is
/// [`TestError::Status`].
pub async fn live(endpoint: &Arc<Endpoint>, path: &str) -> Result<LiveViewTest, TestError> {
    LiveOptions::default().mount(endpoint, path).await
}

/// How a view navigated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NavigationKind {
    /// `push_patch`: same view, new URL (`handle_params` ran).
    Patch,
    /// `push_redirect`: another view on the same socket.
    LiveRedirect,
    /// `redirect`: a full page load.
    Redirect,
}

/// Where a view sent the browser.
#[derive(Debug, Clone, PartialEq)]
pub struct Navigation {
    /// Patch, live redirect or redirect.
    pub kind: NavigationKind,
    /// The target (path and query, or an absolute URL for an external redirect).
    pub to: String,
    /// The flash carried to the target.
    pub flash: Flash,
    /// The signed flash token, as the client carries it (join payload or cookie).
    pub(crate) flash_token: Option<String>,
}

/// Why a toolkit call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TestError {
    /// The selector matched no element, or several where one is needed.
    #[error(
        "selector {selector} matched {found} elements (one was needed); the view holds:\n{html}"
    )]
    Selector {
        /// The selector (and text filter).
        selector: String,
        /// How many elements it matched.
        found: usize,
        /// The view's HTML.
        html: String,
    },
    /// The element has no binding for what was asked (e.g. a click on an element without
    /// `phx-click`).
    #[error("{0}")]
    NoBinding(String),
    /// The server refused a message (an error reply), with its reason.
    #[error("the server refused {what}: {reason}")]
    Refused {
        /// What was sent.
        what: String,
        /// The server's reason.
        reason: String,
    },
    /// The mount redirected (dead render or join).
    #[error("the view redirected to {}", .0.to)]
    Redirect(Navigation),
    /// No route matches the path.
    #[error("no route for {0}")]
    NotFound(String),
    /// The view (or an `on_mount` hook) answered an error status from mount: 404 from
    /// `ViewError::not_found`, 403 from `ViewError::forbidden`, with the error page.
    #[error("the page answered {status}:\n{html}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The error page (from the endpoint's error renderer).
        html: String,
    },
    /// The request was refused as malformed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The dead render failed (mount, handle_params or render returned an error or panicked).
    #[error("the page failed to render: {0}")]
    Render(String),
    /// Nothing came within the timeout.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The socket or the view's channel is closed.
    #[error("{0}")]
    Closed(String),
    /// The view crashed (its callback returned an error or panicked): the server ended its
    /// channel with `phx_error`. The browser rejoins; here, call
    /// [`LiveViewTest::rejoin`].
    #[error("{0}")]
    Crashed(String),
    /// The server sent something the client would not accept.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A diff the client could not merge.
    #[error("the client could not merge a diff: {0}")]
    Merge(String),
    /// The test asked for something impossible (a bad selector, a field the form lacks).
    #[error("{0}")]
    Usage(String),
    /// An assertion about pushed events or navigation failed.
    #[error("{0}")]
    Assertion(String),
}
