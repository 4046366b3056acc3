//! Every example of the workspace, mounted by one server (`cargo xtask run`).
//!
//! Each module is one example; [`app`] builds the endpoint so tests can drive it without a
//! socket. Together they exercise the whole [`Socket`](liveview_core::Socket) API (the
//! LiveViewJS `LiveViewSocket`) and every [`LiveView`](liveview_core::LiveView) callback.

pub mod autocomplete;
pub mod cards;
pub mod chat;
pub mod checksum;
pub mod counter;
pub mod dashboard;
pub mod external_upload;
pub mod feed;
pub mod hello;
pub mod index;
pub mod nav;
pub mod object_store;
pub mod paginate;
pub mod prints;
pub mod rtcounter;
pub mod search;
pub mod table;
pub mod upload;
pub mod volume;

use std::sync::Arc;

use liveview_core::{html, BuildError, Endpoint, Flash, Rendered, Router};

/// The router of every example.
pub fn router() -> Router {
    Router::new()
        .live("/", index::Index)
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
        .live("/chat", chat::Chat::default())
        .live("/table", table::Table)
        // Its own live session: pages of the default one cannot mount it over their socket
        // (live navigation to it loads the page over HTTP).
        .live_session("uploads", |routes| {
            routes
                .live("/upload", upload::Upload)
                .live("/upload/checksum", checksum::ChecksumUpload::in_temp_dir())
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
}

/// The endpoint of every example, signing with `secret` (or a random development key).
pub fn app(secret: Option<&[u8]>) -> Result<Arc<Endpoint>, BuildError> {
    endpoint(router(), secret)
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

/// The flash messages (`info` and `error`), each cleared by a click (`lv:clear-flash`).
pub fn flash_messages(flash: &Flash) -> Rendered {
    html! {
        @if let Some(message) = flash.get("info") {
            p.alert.alert-info #flash-info role="alert" phx-click="lv:clear-flash" phx-value-key="info" {
                (message)
            }
        }
        @if let Some(message) = flash.get("error") {
            p.alert.alert-error #flash-error role="alert" phx-click="lv:clear-flash" phx-value-key="error" {
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
