//! The examples server's HTTP side: axum routes of the application's own (login, logout)
//! beside the live routes, which [`LiveService`] serves as axum's fallback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Method;
use liveview_core::{html, render_to_string, Endpoint};
use liveview_hyper::{LiveService, PeerAddr, ServeOptions, SessionCookie};

use crate::auth;

/// The axum app serving `endpoint` (the live routes, the assets in `assets`) plus the login
/// routes, and the live service (to close its sockets on shutdown). [`serve`] serves it with
/// the live service's defences; with `axum::serve`, use
/// `into_make_service_with_connect_info::<SocketAddr>()` so views see the peer's address.
pub fn app(endpoint: Arc<Endpoint>, assets: PathBuf) -> (axum::Router, LiveService) {
    let cookie = SessionCookie::new(auth::COOKIE, endpoint.signer().clone());
    let live = LiveService::new(endpoint)
        .assets_dir(assets)
        // A second static directory and a plain page, beside the live routes.
        .static_dir("/static/", concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
        .route(Method::GET, "/about", |_request| async { about() })
        .session(auth::session(cookie.clone()));
    let app = auth::axum_routes(cookie, auth::Users::demo(), live.clone())
        .fallback_service(live.clone())
        .layer(middleware::from_fn(peer_addr));
    (app, live)
}

/// `/about`: a plain page, its body a template rendered outside any view.
fn about() -> hyper::Response<Full<Bytes>> {
    let body = render_to_string(|_meta| {
        html! {
            h1 { "About these examples" }
            p { "A plain page served by a plain route of the live service, rendered with "
                code { "render_to_string" } "." }
            p { a href="/" { "All examples" } }
        }
    });
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>About</title></head>\n<body>\n{body}\n</body>\n</html>\n"
    );
    let mut response = hyper::Response::new(Full::new(Bytes::from(page)));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// Hands axum's peer address to the live service (for `Socket::connect_info`).
async fn peer_addr(mut request: Request, next: Next) -> axum::response::Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let peer = *peer;
        request.extensions_mut().insert(PeerAddr(peer));
    }
    next.run(request).await
}

/// Serves `app` on `listener` until `shutdown` resolves, with the live service's defences
/// (connection cap, header read timeout; see `liveview_hyper::serve_app`); then closes the
/// live sockets with 1001 (clients reconnect elsewhere) and waits for them to end.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    live: LiveService,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    liveview_hyper::serve_app(listener, app, live, ServeOptions::default(), shutdown).await
}
