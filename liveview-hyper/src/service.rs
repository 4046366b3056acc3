//! The hyper service: routing of pages, the socket endpoint, plain routes and assets.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use hyper::header::{
    HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE, USER_AGENT,
};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use liveview_core::{ConnectInfo, Endpoint, Page, Session, Untrusted, FLASH_COOKIE};
use tokio::sync::watch;

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
/// [`serve`](crate::serve) inserts it; behind another server (axum), insert it in a middleware (from
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

    /// A receiver told when the service shuts down (the serve loop's connections watch it).
    pub(crate) fn shutdown_watch(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
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
