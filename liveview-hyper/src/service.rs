//! The hyper service: routing of pages, the socket endpoint and assets; the `serve` helper.

use std::convert::Infallible;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use liveview_core::{Endpoint, Page, Session, Untrusted, FLASH_COOKIE};
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::websocket::{self, Origins};

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
    origins: Origins,
    shutdown: watch::Sender<bool>,
}

impl LiveService {
    /// Serves `endpoint`.
    pub fn new(endpoint: Arc<Endpoint>) -> Self {
        Self {
            inner: Arc::new(Inner {
                endpoint,
                assets: None,
                origins: Origins::default(),
                shutdown: watch::channel(false).0,
            }),
        }
    }

    /// Serves the files of `dir` under `/assets/` (the client bundle `app.js` among them).
    pub fn assets_dir(self, dir: impl Into<PathBuf>) -> Self {
        self.map(|inner| inner.assets = Some(dir.into()))
    }

    /// Lets pages from these origins (e.g. `https://app.example.com`, exact scheme, host and
    /// port) open the LiveView socket, besides the page's own origin (the default, and the only
    /// one allowed without this call). Other origins get `403` on the upgrade.
    pub fn allow_origins<I, S>(self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let origins: Vec<String> = origins.into_iter().map(Into::into).collect();
        self.map(|inner| inner.origins.allowed.extend(origins))
    }

    fn map(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            endpoint: self.inner.endpoint.clone(),
            assets: self.inner.assets.clone(),
            origins: self.inner.origins.clone(),
            shutdown: watch::channel(false).0,
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Closes every LiveView socket served by this service with code 1001 ("going away"), so
    /// that clients reconnect (to another node, or to this one once it is back).
    pub fn close_sockets(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// The number of open LiveView sockets and HTTP connections being served.
    pub fn open_connections(&self) -> usize {
        self.inner.shutdown.receiver_count()
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Arc<Endpoint> {
        &self.inner.endpoint
    }

    /// Answers one request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>> {
        let path = request.uri().path();
        if path == "/live/websocket" {
            return websocket::upgrade(
                self.inner.endpoint.clone(),
                &self.inner.origins,
                self.inner.shutdown.subscribe(),
                request,
            );
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
        // A full-page `redirect` carries its flash in a cookie the client set.
        let flash = cookie(request.headers(), FLASH_COOKIE);
        match self
            .inner
            .endpoint
            .render_page_with_flash(path_and_query, Session::default(), flash.as_deref())
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
                if flash.is_some() {
                    headers.insert(
                        SET_COOKIE,
                        HeaderValue::from_static("__phoenix_flash__=; max-age=0; path=/"),
                    );
                }
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
            Ok(Page::BadRequest(message)) => {
                tracing::warn!(target: "liveview::rejection", message = %Untrusted(&message), "page refused");
                text_owned(StatusCode::BAD_REQUEST, format!("bad request: {message}"))
            }
            Ok(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "internal server error"),
            Err(error) => {
                tracing::error!(error = %Untrusted(&error.to_string()), "page render failed");
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

/// Accepts connections on `listener` and serves each with `service` (HTTP/1.1 with
/// upgrades) until ctrl-c or SIGTERM, then shuts down gracefully (see
/// [`serve_with_shutdown`]).
pub async fn serve(listener: TcpListener, service: LiveService) -> std::io::Result<()> {
    serve_with_shutdown(listener, service, shutdown_signal()).await
}

/// Resolves on ctrl-c (SIGINT) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// How [`serve_with_options`] serves connections: the bounds every client is held to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Connections served at once, HTTP requests and LiveView sockets together (default: three
    /// quarters of the process's open-file limit, leaving the rest for upload files, logs and
    /// the pub/sub backend; 10,000 where the limit cannot be read). At the limit, new
    /// connections wait in the listen backlog until one ends, so the process never runs out of
    /// file descriptors.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, the first request's and, on a
    /// kept-alive connection, each next one's (default 10 s). A connection past it is closed:
    /// half-sent requests (slowloris) and idle keep-alive connections are not held.
    pub header_read_timeout: Duration,
    /// How long a graceful shutdown waits for connections to finish (default 10 s).
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_connections: default_max_connections(),
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl ServeOptions {
    /// Sets [`ServeOptions::max_connections`] (at least 1).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Sets [`ServeOptions::header_read_timeout`].
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`ServeOptions::shutdown_grace`].
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// Three quarters of the soft open-file limit (10,000 where it cannot be read).
fn default_max_connections() -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `getrlimit` only writes the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0
            && limit.rlim_cur != libc::RLIM_INFINITY
        {
            let soft = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
            return (soft / 4 * 3).max(1);
        }
    }
    10_000
}

/// The permit of one served connection, carried in its requests' extensions so that a
/// LiveView socket keeps counting against [`ServeOptions::max_connections`] after its HTTP
/// connection handed it over.
/// The peer's address, carried in its requests' extensions (for the socket's span).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerAddr(pub(crate) std::net::SocketAddr);

#[derive(Debug, Clone)]
pub(crate) struct ConnectionPermit(#[allow(dead_code)] pub(crate) Arc<OwnedSemaphorePermit>);

/// Like [`serve`], but shuts down when `signal` resolves: stops accepting, asks HTTP
/// connections to finish, closes every LiveView socket with code 1001 (clients reconnect
/// elsewhere), and returns once they are gone or after 10 seconds.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    service: LiveService,
    signal: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with_options(listener, service, ServeOptions::default(), signal).await
}

/// [`serve_with_shutdown`] with explicit [`ServeOptions`] (connection cap, header timeout,
/// shutdown grace).
pub async fn serve_with_options(
    listener: TcpListener,
    service: LiveService,
    options: ServeOptions,
    signal: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut signal = std::pin::pin!(signal);
    let permits = Arc::new(Semaphore::new(options.max_connections));
    let mut at_limit_logged = false;
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                at_limit_logged = false;
                permit
            }
            Err(_) => {
                if !at_limit_logged {
                    tracing::warn!(
                        max = options.max_connections,
                        "connection limit reached: new connections wait"
                    );
                    at_limit_logged = true;
                }
                tokio::select! {
                    _ = &mut signal => break,
                    permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                }
            }
        };
        let accepted = tokio::select! {
            _ = &mut signal => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_transient(&error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        let _ = stream.set_nodelay(true);
        let mut shutdown = service.inner.shutdown.subscribe();
        let service = service.clone();
        let permit = ConnectionPermit(Arc::new(permit));
        let header_read_timeout = options.header_read_timeout;
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(permit.clone());
                request.extensions_mut().insert(PeerAddr(peer));
                let service = service.clone();
                async move { Ok::<_, Infallible>(service.handle(request).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), handler)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = async { shutdown.wait_for(|closing| *closing).await.is_ok() } => {
                    // Idle keep-alive connections close at once; a request in flight finishes.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "http connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: closing sockets");
    service.close_sockets();
    let deadline = tokio::time::Instant::now() + options.shutdown_grace;
    while service.open_connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie(headers: &hyper::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || error.raw_os_error() == Some(24) // EMFILE: too many open files, retry later
}

pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    text_body(status, Bytes::from_static(body.as_bytes()))
}

fn text_owned(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    text_body(status, Bytes::from(body))
}

fn text_body(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
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
            let mime = mime_guess::from_path(file).first_or_octet_stream();
            let content_type = match (mime.type_(), mime.get_param(mime_guess::mime::CHARSET)) {
                // Text without a declared charset is served as UTF-8 (the bundle, styles).
                (mime_guess::mime::TEXT, None) => format!("{mime}; charset=utf-8"),
                _ => mime.to_string(),
            };
            if let Ok(content_type) = HeaderValue::from_str(&content_type) {
                response.headers_mut().insert(CONTENT_TYPE, content_type);
            }
            response
        }
        Err(_) => text(StatusCode::NOT_FOUND, "not found"),
    }
}
