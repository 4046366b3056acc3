//! A thin [hyper] 1.x transport for `liveview-core`: it renders live pages over HTTP, upgrades
//! `/live/websocket` to a WebSocket (tokio-tungstenite) and feeds its frames to a
//! [`liveview_core::Connection`], and serves the client's JavaScript bundle.
//!
//! Depend on it to serve live views with hyper. Everything LiveView-specific lives in
//! `liveview-core`; this crate only translates HTTP and WebSocket to and from it.
//!
//! Mount it in your own hyper server with [`LiveService`] (a hyper `Service`), or start a
//! complete server with [`serve`]:
//!
//! ```no_run
//! use liveview_core::{html, Endpoint, LiveView, Meta, Rendered, Router};
//! use liveview_hyper::LiveService;
//! # #[derive(Default)] struct Hello;
//! # impl LiveView for Hello { type State = (); type Event = (); type Info = ();
//! #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { p { "hi" } } } }
//!
//! # async fn run() -> std::io::Result<()> {
//! let endpoint = Endpoint::builder(Router::new().live("/", Hello))
//!     .secret_key(std::env::var("SECRET_KEY").unwrap().as_bytes())
//!     .build()
//!     .unwrap();
//! let service = LiveService::new(endpoint).assets_dir("js/dist");
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
//! liveview_hyper::serve(listener, service).await
//! # }
//! ```
//!
//! # Routes
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /live/websocket` (upgrade) | the LiveView socket (Phoenix channels, V2 serializer) |
//! | `GET /assets/<file>` | a file from the assets directory, if one is set |
//! | `GET <a routed path>` | the page, rendered by the view (`connected` is false) |
//! | anything else | 404 |
//!
//! # The guide
//!
//! From `cargo new` to a running app, each part of the framework, testing, security and
//! deployment: see [`guide`].
//!
//! # Deploying
//!
//! Secret key, Redis, several nodes behind a load balancer, reverse proxies, graceful
//! shutdown and health checks: see [`deployment`].

mod cookie;
mod plain;
mod serve;
mod service;
mod static_files;
mod tower;
mod websocket;

#[doc = include_str!("docs/deployment.md")]
pub mod deployment {}

pub mod guide;

pub use cookie::{request_cookie, SessionCookie};
pub use plain::MAX_PLAIN_BODY;
pub use serve::{
    serve, serve_app, serve_with_options, serve_with_shutdown, shutdown_signal, ServeOptions,
};
pub use service::{LiveService, PeerAddr};
