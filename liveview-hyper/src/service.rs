//! The hyper service: routing of pages, the socket endpoint and assets; the `serve` helper.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use hyper::header::{
    HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE, USER_AGENT,
};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use liveview_core::{ConnectInfo, Endpoint, Page, Session, Untrusted, FLASH_COOKIE};
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::cookie::request_cookie;
use crate::plain::{self, PlainRoute};
use crate::static_files::{self, StaticDir};
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

/// The user's session function (see [`LiveService::session`]).
type SessionFn = Arc<dyn Fn(&Parts) -> Session + Send + Sync>;

#[derive(Debug)]
struct Inner {
    endpoint: Arc<Endpoint>,
    settings: Settings,
    shutdown: watch::Sender<bool>,
}

/// What the builder methods set.
#[derive(Clone)]
struct Settings {
    statics: Vec<StaticDir>,
    cache_control: HeaderValue,
    origins: Origins,
    session: Option<SessionFn>,
    plain: Vec<PlainRoute>,
    trust_forwarded_for: bool,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("statics", &self.statics)
            .field("origins", &self.origins)
            .field("plain", &self.plain)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish_non_exhaustive()
    }
}

/// The peer's address, read from the request's extensions for
/// [`Socket::connect_info`](liveview_core::Socket::connect_info) and the socket's log span.
/// [`serve`] inserts it; behind another server (axum), insert it in a middleware (from
/// axum's `ConnectInfo<SocketAddr>`).
///
/// ```
/// let mut request = hyper::Request::new(());
/// let peer: std::net::SocketAddr = "10.0.0.7:41000".parse().unwrap();
/// request.extensions_mut().insert(liveview_hyper::PeerAddr(peer));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

impl LiveService {
    /// Serves `endpoint`.
    pub fn new(endpoint: Arc<Endpoint>) -> Self {
        Self {
            inner: Arc::new(Inner {
                endpoint,
                settings: Settings {
                    statics: Vec::new(),
                    cache_control: HeaderValue::from_static("public, max-age=0, must-revalidate"),
                    origins: Origins::default(),
                    session: None,
                    plain: Vec::new(),
                    trust_forwarded_for: false,
                },
                shutdown: watch::channel(false).0,
            }),
        }
    }

    /// Serves the files of `dir` under `/assets/` (the client bundle `app.js` among them).
    pub fn assets_dir(self, dir: impl Into<PathBuf>) -> Self {
        self.static_dir("/assets/", dir)
    }

    /// Serves the files of `dir` under the URL prefix `prefix` (e.g. `/images/`); any number
    /// of directories coexist with the live routes. Responses carry an `ETag` (size and
    /// modification time) and `Cache-Control` ([`LiveService::cache_control`]); a request
    /// whose `If-None-Match` names the current `ETag` gets `304 Not Modified`.
    ///
    /// ```
    /// # let endpoint = liveview_core::Endpoint::builder(liveview_core::Router::new())
    /// #     .random_secret_key().build().unwrap();
    /// let service = liveview_hyper::LiveService::new(endpoint)
    ///     .assets_dir("js/dist")
    ///     .static_dir("/images/", "priv/images");
    /// # let _ = service;
    /// ```
    ///
    /// # Panics
    ///
    /// If `prefix` does not start with `/`.
    pub fn static_dir(self, prefix: &str, dir: impl Into<PathBuf>) -> Self {
        assert!(prefix.starts_with('/'), "a static prefix starts with `/`");
        let mut prefix = prefix.to_owned();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        let dir = dir.into();
        self.map(|settings| {
            settings.statics.retain(|known| known.prefix != prefix);
            settings.statics.push(StaticDir { prefix, dir });
        })
    }

    /// The `Cache-Control` of static files (default `public, max-age=0, must-revalidate`:
    /// browsers revalidate, and get `304` while the file is unchanged). Use a long `max-age`
    /// for fingerprinted file names.
    ///
    /// ```
    /// # let endpoint = liveview_core::Endpoint::builder(liveview_core::Router::new())
    /// #     .random_secret_key().build().unwrap();
    /// let service = liveview_hyper::LiveService::new(endpoint)
    ///     .static_dir("/fonts/", "priv/fonts")
    ///     .cache_control("public, max-age=31536000, immutable");
    /// # let _ = service;
    /// ```
    pub fn cache_control(self, value: &'static str) -> Self {
        self.map(|settings| settings.cache_control = HeaderValue::from_static(value))
    }

    /// Sets the function that builds each page's [`Session`] from the HTTP request (its
    /// headers, cookies and the extensions an outer middleware set), Phoenix's session from
    /// the `conn`. The session is signed into the page's `data-phx-session` and handed to
    /// `mount` in the HTTP render and at the join. Without one, every page gets an empty
    /// session. See [`SessionCookie`](crate::SessionCookie) for a signed cookie set by the
    /// application's login route.
    ///
    /// ```
    /// use liveview_core::Session;
    /// use liveview_hyper::{LiveService, SessionCookie};
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct User { name: String }
    /// # let endpoint = liveview_core::Endpoint::builder(liveview_core::Router::new())
    /// #     .random_secret_key().build().unwrap();
    /// let cookie = SessionCookie::new("user", endpoint.signer().clone());
    /// let service = LiveService::new(endpoint).session(move |request| {
    ///     cookie
    ///         .read::<User>(&request.headers)
    ///         .and_then(|user| Session::from_typed(&user).ok())
    ///         .unwrap_or_default()
    /// });
    /// # let _ = service;
    /// ```
    pub fn session(self, session: impl Fn(&Parts) -> Session + Send + Sync + 'static) -> Self {
        let session: SessionFn = Arc::new(session);
        self.map(|settings| settings.session = Some(session))
    }

    /// Adds a plain (non-live) route: `handler` answers requests with this method and exact
    /// path (a health check, a login `POST`, a plain page). It gets the request with its body
    /// read (at most [`MAX_PLAIN_BODY`](crate::MAX_PLAIN_BODY) bytes, else `413`). Plain
    /// routes are matched before static files and live routes.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use hyper::{Method, Response};
    /// # let endpoint = liveview_core::Endpoint::builder(liveview_core::Router::new())
    /// #     .random_secret_key().build().unwrap();
    /// let service = liveview_hyper::LiveService::new(endpoint)
    ///     .route(Method::GET, "/ping", |_request| async {
    ///         Response::new(Full::new(Bytes::from_static(b"pong")))
    ///     });
    /// # let _ = service;
    /// ```
    ///
    /// # Panics
    ///
    /// If `path` does not start with `/`.
    pub fn route<F, Fut>(self, method: Method, path: &str, handler: F) -> Self
    where
        F: Fn(Request<Bytes>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
    {
        assert!(path.starts_with('/'), "a route path starts with `/`");
        let route = PlainRoute {
            method,
            path: path.to_owned(),
            handler: plain::handler(handler),
        };
        self.map(|settings| settings.plain.push(route))
    }

    /// Puts the `X-Forwarded-For` header of the WebSocket upgrade into
    /// [`ConnectInfo::x_forwarded_for`](liveview_core::ConnectInfo) (Phoenix: `connect_info:
    /// [:x_headers]`). Only behind a proxy that sets it: a client can send any value.
    ///
    /// ```
    /// # let endpoint = liveview_core::Endpoint::builder(liveview_core::Router::new())
    /// #     .random_secret_key().build().unwrap();
    /// let service = liveview_hyper::LiveService::new(endpoint).trust_forwarded_for(true);
    /// # let _ = service;
    /// ```
    pub fn trust_forwarded_for(self, trust: bool) -> Self {
        self.map(|settings| settings.trust_forwarded_for = trust)
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
        self.map(|settings| settings.origins.allowed.extend(origins))
    }

    fn map(self, change: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = self.inner.settings.clone();
        change(&mut settings);
        Self {
            inner: Arc::new(Inner {
                endpoint: self.inner.endpoint.clone(),
                settings,
                shutdown: watch::channel(false).0,
            }),
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

    /// Answers one request: the LiveView socket, plain routes, static files, live pages;
    /// anything else is `404` (`405` for a method other than `GET`/`HEAD` on a live route),
    /// with the endpoint's error page.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let settings = &self.inner.settings;
        let path = request.uri().path();
        if path == "/live/websocket" {
            let info = connect_info(&request, settings.trust_forwarded_for);
            return websocket::upgrade(
                self.inner.endpoint.clone(),
                &settings.origins,
                self.inner.shutdown.subscribe(),
                request,
                info,
            );
        }
        if let Some(route) = settings
            .plain
            .iter()
            .find(|route| route.path == path && route.method == request.method())
        {
            return plain::call(route, request).await;
        }
        let method = request.method();
        let readable = method == Method::GET || method == Method::HEAD;
        if readable {
            if let Some(response) = static_files::serve(
                &settings.statics,
                path,
                request.headers(),
                &settings.cache_control,
            )
            .await
            {
                return response;
            }
        }
        let endpoint = &self.inner.endpoint;
        if !readable {
            return match endpoint.router().find(path) {
                Some(_) => self.error(StatusCode::METHOD_NOT_ALLOWED, None),
                None => self.error(StatusCode::NOT_FOUND, None),
            };
        }
        let (parts, _body) = request.into_parts();
        let session = settings
            .session
            .as_ref()
            .map(|session| session(&parts))
            .unwrap_or_default();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        // A full-page `redirect` carries its flash in a cookie the client set.
        let flash = request_cookie(&parts.headers, FLASH_COOKIE);
        match endpoint
            .render_page_with_flash(path_and_query, session, flash.as_deref())
            .await
        {
            Ok(Page::Html(html)) => {
                let mut response = html_response(StatusCode::OK, html);
                if flash.is_some() {
                    response.headers_mut().insert(
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
            Ok(Page::NotFound) => self.error(StatusCode::NOT_FOUND, None),
            Ok(Page::Error { status, html }) => html_response(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                html,
            ),
            Ok(Page::BadRequest(message)) => {
                tracing::warn!(target: "liveview::rejection", message = %Untrusted(&message), "page refused");
                self.error(StatusCode::BAD_REQUEST, Some(&message))
            }
            Ok(_) => self.error(StatusCode::INTERNAL_SERVER_ERROR, None),
            Err(error) => {
                tracing::error!(error = %Untrusted(&error.to_string()), "page render failed");
                self.error(StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        }
    }

    /// An error page from the endpoint's error renderer.
    fn error(&self, status: StatusCode, message: Option<&str>) -> Response<Full<Bytes>> {
        let html = self.inner.endpoint.error_page(status.as_u16(), message);
        html_response(status, html)
    }
}

/// What the socket's views see of the client that upgrades with `request`.
fn connect_info<B>(request: &Request<B>, trust_forwarded_for: bool) -> ConnectInfo {
    let header = |name| {
        request
            .headers()
            .get(name)
            .map(|value| cut(&String::from_utf8_lossy(value.as_bytes()), 512))
    };
    ConnectInfo {
        peer: request.extensions().get::<PeerAddr>().map(|peer| peer.0),
        user_agent: header(USER_AGENT),
        x_forwarded_for: trust_forwarded_for
            .then(|| header(HeaderName::from_static("x-forwarded-for")))
            .flatten(),
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

fn html_response(status: StatusCode, html: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(html)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
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
    serve_app(listener, service.clone(), service, options, signal).await
}

/// Serves `app`, a tower service (an axum `Router` with `live` as its fallback, say), with
/// the same defences as [`serve_with_options`]: the connection cap, the header read timeout,
/// and a graceful shutdown that closes `live`'s sockets. Each request carries the
/// connection's [`PeerAddr`] in its extensions (and what keeps a LiveView socket counted
/// against the cap), so `live` sees them behind the application's routes.
///
/// ```no_run
/// # async fn run(app: liveview_hyper::LiveService) -> std::io::Result<()> {
/// # let live = app.clone();
/// // `app`: e.g. `axum::Router::new().route(...).fallback_service(live.clone())`.
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
/// liveview_hyper::serve_app(
///     listener,
///     app,
///     live,
///     liveview_hyper::ServeOptions::default(),
///     liveview_hyper::shutdown_signal(),
/// )
/// .await
/// # }
/// ```
pub async fn serve_app<S, B>(
    listener: TcpListener,
    app: S,
    live: LiveService,
    options: ServeOptions,
    signal: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let service = live;
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
        let app = app.clone();
        let permit = ConnectionPermit(Arc::new(permit));
        let header_read_timeout = options.header_read_timeout;
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(permit.clone());
                request.extensions_mut().insert(PeerAddr(peer));
                let mut app = app.clone();
                async move {
                    std::future::poll_fn(|cx| app.poll_ready(cx)).await?;
                    app.call(request).await
                }
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

fn text_body(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_info_takes_the_peer_the_agent_and_forwarded_for_only_when_trusted() {
        let peer: std::net::SocketAddr = "10.1.2.3:4000".parse().unwrap();
        let mut request = Request::builder()
            .header(USER_AGENT, "x".repeat(600))
            .header("x-forwarded-for", "203.0.113.9")
            .body(())
            .unwrap();
        request.extensions_mut().insert(PeerAddr(peer));
        let info = connect_info(&request, false);
        assert_eq!(info.peer, Some(peer));
        assert_eq!(info.user_agent.as_deref().map(str::len), Some(512));
        assert_eq!(info.x_forwarded_for, None, "not trusted by default");
        let info = connect_info(&request, true);
        assert_eq!(info.x_forwarded_for.as_deref(), Some("203.0.113.9"));
        assert_eq!(cut("héllo", 2), "h");
    }
}
