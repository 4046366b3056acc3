//! The hyper service: routing of pages, the socket endpoint and assets; the `serve` helper.

use std::convert::Infallible;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use liveview_core::{Endpoint, Page, Session};
use tokio::net::TcpListener;

use crate::websocket;

/// A hyper service serving live pages, the LiveView socket and the assets. Cheap to clone.
///
/// ```
/// # use liveview_core::{html, Endpoint, LiveView, Meta, Rendered, Router};
/// # #[derive(Default)] struct Hello;
/// # impl LiveView for Hello { type State = (); type Event = (); type Info = ();
/// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { p { "hi" } } } }
/// let endpoint = Endpoint::builder(Router::new().live("/", Hello))
///     .random_secret_key()
///     .build()
///     .unwrap();
/// let service = liveview_hyper::LiveService::new(endpoint).assets_dir("js/dist");
/// # let _ = service;
/// ```
#[derive(Debug, Clone)]
pub struct LiveService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    endpoint: Arc<Endpoint>,
    assets: Option<PathBuf>,
}

impl LiveService {
    /// Serves `endpoint`.
    pub fn new(endpoint: Arc<Endpoint>) -> Self {
        Self {
            inner: Arc::new(Inner {
                endpoint,
                assets: None,
            }),
        }
    }

    /// Serves the files of `dir` under `/assets/` (the client bundle `app.js` among them).
    pub fn assets_dir(self, dir: impl Into<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Inner {
                endpoint: self.inner.endpoint.clone(),
                assets: Some(dir.into()),
            }),
        }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Arc<Endpoint> {
        &self.inner.endpoint
    }

    /// Answers one request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>> {
        let path = request.uri().path();
        if path == "/live/websocket" {
            return websocket::upgrade(self.inner.endpoint.clone(), request);
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        if let (Some(file), Some(dir)) = (path.strip_prefix("/assets/"), &self.inner.assets) {
            return asset(dir, file).await;
        }
        let path_and_query = request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        match self
            .inner
            .endpoint
            .render_page(path_and_query, Session::default())
            .await
        {
            Ok(Page::Html(html)) => {
                let mut response = Response::new(Full::new(Bytes::from(html)));
                let headers = response.headers_mut();
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            Ok(Page::Redirect(location)) => {
                let mut response = text(StatusCode::FOUND, "redirecting");
                if let Ok(location) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(LOCATION, location);
                }
                response
            }
            Ok(Page::NotFound) => text(StatusCode::NOT_FOUND, "not found"),
            Ok(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "internal server error"),
            Err(error) => {
                tracing::error!(%error, "page render failed");
                text(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
            }
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for LiveService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}

/// Accepts connections on `listener` and serves each with `service` (HTTP/1.1 with upgrades),
/// until the listener fails.
pub async fn serve(listener: TcpListener, service: LiveService) -> std::io::Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) if is_transient(&error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(error) = connection.await {
                tracing::debug!(%error, "http connection ended with an error");
            }
        });
    }
}

fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || error.raw_os_error() == Some(24) // EMFILE: too many open files, retry later
}

pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn asset(dir: &Path, file: &str) -> Response<Full<Bytes>> {
    if file.is_empty()
        || file
            .split('/')
            .any(|part| part.is_empty() || part == ".." || part == "." || part.contains('\\'))
    {
        return text(StatusCode::NOT_FOUND, "not found");
    }
    match tokio::fs::read(dir.join(file)).await {
        Ok(bytes) => {
            let mut response = Response::new(Full::new(Bytes::from(bytes)));
            let content_type = match file.rsplit('.').next() {
                Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("map") | Some("json") => "application/json",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                Some("ico") => "image/x-icon",
                Some("html") => "text/html; charset=utf-8",
                _ => "application/octet-stream",
            };
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        }
        Err(_) => text(StatusCode::NOT_FOUND, "not found"),
    }
}
