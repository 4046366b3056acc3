//! Every example of the workspace, mounted by one server (`cargo xtask run`).
//!
//! Each module is one example; [`app`] builds the endpoint so tests can drive it without a
//! socket. Together they exercise the whole [`Socket`](liveview_core::Socket) API (the
//! LiveViewJS `LiveViewSocket`) and every [`LiveView`](liveview_core::LiveView) callback.
//!
//! A [`Node`] is what one server process shares with the others: the pub/sub backend (Redis
//! when several nodes run, see the binary) and presence on it. [`app`] uses an in-process
//! one; [`app_with`] takes the node the binary built.

pub mod async_dashboard;
pub mod auth;
pub mod autocomplete;
pub mod avatar;
pub mod books;
pub mod cards;
pub mod chat;
pub mod checksum;
pub mod component_streams;
pub mod counter;
pub mod dashboard;
pub mod external_upload;
pub mod feed;
pub mod health;
pub mod hello;
pub mod index;
pub mod items;
pub mod js;
pub mod nav;
pub mod nested;
pub mod object_store;
pub mod paginate;
pub mod prints;
pub mod rtcounter;
pub mod search;
pub mod sticky;
pub mod table;
pub mod upload;
pub mod volume;
pub mod volunteers;
pub mod web;

use std::fmt;
use std::sync::Arc;

use liveview_core::pubsub::{LocalPubSub, Presence, PubSub};
use liveview_core::{
    default_layout, html, BuildError, Endpoint, Flash, PageParts, Rendered, Router,
};

/// What one server process shares with the other nodes: the pub/sub backend and presence.
#[derive(Clone)]
pub struct Node {
    /// The endpoint's backend (Redis when several nodes share it).
    pub pubsub: Arc<dyn PubSub>,
    /// Presence on that backend, named after this node.
    pub presence: Presence,
}

impl Node {
    /// A node on `pubsub`, named `name` in presence (unique among the nodes).
    pub fn new(name: &str, pubsub: Arc<dyn PubSub>) -> Self {
        let presence = Presence::builder(pubsub.clone()).node_name(name).build();
        Self { pubsub, presence }
    }

    /// A node on its own: in-process pub/sub, a random name.
    pub fn local() -> Self {
        Self::new(&random_name(), Arc::new(LocalPubSub::new()))
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("presence", &self.presence)
            .finish_non_exhaustive()
    }
}

/// The router of every example, on a node of its own (in-process pub/sub).
pub fn router() -> Router {
    router_with(&Node::local())
}

/// The router of every example on `node`.
pub fn router_with(node: &Node) -> Router {
    let router = Router::new()
        .live("/", index::Index)
        .live("/healthz", health::Health::new(node.pubsub.clone()))
        .live("/counter", counter::Counter)
        .live("/rtcounter", rtcounter::RtCounter::default())
        .live("/hello-toggle", hello::HelloToggle)
        .live("/hi/:name", hello::HelloName)
        .live("/volume", volume::Volume)
        .live("/prints", prints::Prints)
        .live("/dashboard", dashboard::Dashboard::default())
        .live("/search", search::Search::default())
        .live("/autocomplete", autocomplete::Autocomplete::default())
        .live("/paginate", paginate::Paginate)
        .live("/nav/:page", nav::Nav)
        .live("/nav-landing", nav::Landing)
        .live("/chat", chat::Chat::new(node.presence.clone()))
        .live("/table", table::Table)
        // Its own live session: pages of the default one cannot mount it over their socket
        // (live navigation to it loads the page over HTTP).
        .live_session("uploads", |routes| {
            routes
                .live("/upload", upload::Upload)
                .live("/upload/checksum", checksum::ChecksumUpload::in_temp_dir())
                .live("/upload/avatar", avatar::AvatarPage)
                .live(
                    "/upload/external",
                    // 100 objects of at most 5 MB, as the page allows.
                    external_upload::ExternalUploads::new(object_store::ObjectStore::new(
                        100, 5_000_000,
                    )),
                )
        })
        .live("/cards", cards::Cards)
        .live("/feed", feed::Feed)
        .live("/volunteers", volunteers::Volunteers::default())
        .live("/books", books::Books::default())
        .live("/js", js::JsDemo)
        .live("/async", async_dashboard::AsyncDashboard::default())
        .live("/async/tasks", async_dashboard::AsyncTasks)
        .live("/streams/components", component_streams::ComponentStreams)
        .live("/nested", nested::NestedPage)
        .live("/player", sticky::AlbumPage)
        .live("/queue", sticky::QueuePage)
        .live_child(nested::ChildCounter)
        .live_child(nested::Clock)
        .live_child(sticky::NowPlaying);
    items::routes(auth::live_routes(router, auth::Users::demo()))
}

/// The endpoint of every example, signing with `secret` (or a random development key), on a
/// node of its own (in-process pub/sub).
pub fn app(secret: Option<&[u8]>) -> Result<Arc<Endpoint>, BuildError> {
    app_with(secret, &Node::local())
}

/// The endpoint of every example on `node` (its pub/sub backend and presence), signing with
/// `secret` (or a random development key, which only works with one node).
pub fn app_with(secret: Option<&[u8]>, node: &Node) -> Result<Arc<Endpoint>, BuildError> {
    let builder = Endpoint::builder(router_with(node))
        .pubsub(node.pubsub.clone())
        .layout(layout);
    match secret {
        Some(secret) => builder.secret_key(secret),
        None => builder.random_secret_key(),
    }
    .build()
}

/// The examples' page: the default layout plus the stylesheet bundled with the client
/// (`/assets/app.css`, from `js/app.css`).
pub fn layout(parts: &PageParts<'_>) -> String {
    let page = default_layout(parts);
    let link = "<link rel=\"stylesheet\" href=\"/assets/app.css\">\n</head>";
    page.replacen("</head>", link, 1)
}

/// A random name (16 hex digits), for nodes and message ids.
pub fn random_name() -> String {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new()
        .hash_one((std::process::id(), std::time::SystemTime::now()));
    format!("{random:016x}")
}

/// An endpoint serving `router` (tests mount examples configured for them).
pub fn endpoint(router: Router, secret: Option<&[u8]>) -> Result<Arc<Endpoint>, BuildError> {
    let builder = Endpoint::builder(router);
    match secret {
        Some(secret) => builder.secret_key(secret),
        None => builder.random_secret_key(),
    }
    .build()
}

/// The flash messages, one per key (`info`, `error`, ...), each cleared by a click
/// (`lv:clear-flash`).
pub fn flash_messages(flash: &Flash) -> Rendered {
    html! {
        @for (key, message) in flash.iter() {
            p class=(format!("alert alert-{key}")) id=(format!("flash-{key}")) role="alert" phx-click="lv:clear-flash" phx-value-key=(key) {
                (message)
            }
        }
    }
}

/// The link back to the index page, a live navigation (same socket, no page load).
pub fn back_link() -> Rendered {
    html! {
        p { a href="/" data-phx-link="redirect" data-phx-link-state="push" { "All examples" } }
    }
}
