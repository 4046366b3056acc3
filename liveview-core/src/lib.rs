//! The LiveView programming model and its per-connection runtime, independent of any transport.
//!
//! A LiveView is server-side state plus a template. The first HTTP request gets the fully
//! rendered page ([`Endpoint::render_page`]); then the browser's Phoenix LiveView client opens a
//! WebSocket, joins the view, and sends events; the server runs the view's callbacks and sends
//! back only the diff of what changed ([`Connection`]).
//!
//! Application authors implement [`LiveView`] and use the [`Socket`] API (the equivalent of
//! LiveViewJS's `LiveViewSocket`); transports (such as `liveview-hyper`) depend on this crate
//! for [`Endpoint`] and [`Connection`]. This crate never names an HTTP or socket type.
//!
//! ```
//! use liveview_core::{html, Endpoint, LiveView, Meta, Rendered, Router, Socket, ViewResult};
//! use serde::Deserialize;
//!
//! #[derive(Default)]
//! struct Counter;
//!
//! #[derive(Deserialize)]
//! #[serde(rename_all = "lowercase")]
//! enum Event { Inc, Dec }
//!
//! impl LiveView for Counter {
//!     type State = i64;
//!     type Event = Event;
//!     type Info = ();
//!
//!     async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
//!         socket.assign(|count| match event {
//!             Event::Inc => *count += 1,
//!             Event::Dec => *count -= 1,
//!         });
//!         Ok(())
//!     }
//!
//!     fn render(&self, count: &i64, _meta: &Meta<'_>) -> Rendered {
//!         html! { h1 { "Count: " (count) } button phx-click="inc" { "+" } }
//!     }
//! }
//!
//! let endpoint = Endpoint::builder(Router::new().live("/counter", Counter))
//!     .random_secret_key()
//!     .build()
//!     .unwrap();
//! # let _ = endpoint;
//! ```
//!
//! # Features
//!
//! None yet: everything is always available.

mod async_task;
mod catch;
mod component;
mod component_socket;
mod component_uploads;
mod config;
mod endpoint;
mod erased;
mod event;
mod event_serde;
pub mod form;
mod hooks;
mod info;
pub mod js;
mod json;
mod layout;
mod lifecycle;
mod live_session;
mod nested;
pub mod protocol;
mod router;
mod runtime;
mod sender;
mod socket;
mod socket_async;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
mod token;
mod untrusted;
mod uploads;
mod view;

pub use async_task::{AsyncResult, AsyncValue};
pub use component::{Cid, ComponentScope, ComponentSocket, LiveComponent};
pub use config::Config;
pub use endpoint::{BuildError, Endpoint, EndpointBuilder, Page, RenderError, FLASH_COOKIE};
pub use event::{ClientEvent, EventError, EventKind};
pub use form::{decode_form, decode_form_as, key_path, FormError, MAX_FORM_DEPTH};
pub use hooks::{Assigns, ConnectInfo, Halt, MountContext, OnMountResult};
pub use js::{JsCommands, JS};
pub use layout::{
    default_error_page, default_layout, live_title, render_to_string, Container, ErrorPage,
    ErrorRenderer, Layout, PageParts,
};
pub use lifecycle::{HookFlow, LifecycleHook};
pub use live_session::{LiveSession, RouteOptions};
pub use liveview_diff::{self as diff, html, IntoDynamic, Raw, Rendered, Stream};
pub use liveview_pubsub::{self as pubsub, PubSub, PubSubExt};
pub use liveview_upload::{
    self as upload, Stored, UploadConfig, UploadEntry, UploadError, UploadOptions, UploadStorage,
    UploadedFile,
};
pub use nested::LiveRender;
pub use router::Router;
pub use runtime::{
    ChannelTransport, Connection, ConnectionError, Outbound, Transport, TransportClosed,
    TransportFuture,
};
pub use sender::{SendError, ViewSender};
pub use socket::{Flash, Socket, UploadedEntries, Uploads};
pub use token::{Signer, TokenError, WeakSecret, MIN_SECRET_LEN};
pub use untrusted::{Untrusted, LOG_TEXT_LIMIT};
pub use view::{LiveView, Meta, Params, Session, Url, ViewError, ViewResult};
