//! The [`Endpoint`]: routes, secret key, limits and layout; renders pages and accepts connections.

use std::fmt;
use std::sync::Arc;

use liveview_pubsub::{LocalPubSub, PubSub};
use liveview_upload::{TempFileStorage, UploadStorage};
use tokio::sync::mpsc;

use crate::config::Config;
use crate::erased::{DeadRender, Rendered};
use crate::layout::{
    default_error_page, default_layout, live_title, ErrorPage, ErrorRenderer, Layout, PageParts,
};
use crate::router::Router;
use crate::runtime::{ChannelTransport, Connection, Outbound, Shared, Transport};
use crate::socket::Flash;
use crate::token::{random_id, SessionClaims, Signer, WeakSecret};
use crate::view::{Session, Url};

/// Everything a server needs to serve live views: the router, the signing key, the limits and
/// the page layout. Transports (such as `liveview-hyper`) call [`Endpoint::render_page`] for
/// HTTP requests and [`Endpoint::connect`] for each WebSocket.
///
/// ```
/// use liveview_core::{html, Endpoint, LiveView, Meta, Rendered, Router};
/// # #[derive(Default)] struct Hello;
/// # impl LiveView for Hello { type State = (); type Event = (); type Info = ();
/// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { p { "hi" } } } }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let endpoint = Endpoint::builder(Router::new().live("/", Hello))
///     .secret_key(b"0123456789abcdef0123456789abcdef")
///     .build()
///     .unwrap();
/// let page = endpoint.render_page("/", Default::default()).await.unwrap();
/// assert!(matches!(page, liveview_core::Page::Html(ref html) if html.contains("<p>hi</p>")));
/// # });
/// ```
pub struct Endpoint {
    /// What the runtime shares with every connection and view.
    shared: Arc<Shared>,
    router: Arc<Router>,
    layout: Layout,
    error_page: ErrorRenderer,
}

/// Builds an [`Endpoint`].
pub struct EndpointBuilder {
    router: Router,
    secret: Option<Result<Signer, WeakSecret>>,
    config: Config,
    pubsub: Option<Arc<dyn PubSub>>,
    upload_storage: Option<Arc<dyn UploadStorage>>,
    layout: Option<Layout>,
    error_page: Option<ErrorRenderer>,
}

/// Why an endpoint could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No secret key was given.
    #[error(
        "no secret key: call `secret_key` (e.g. from an environment variable), or \
         `random_secret_key` for development"
    )]
    MissingSecret,
    /// The secret key is too short.
    #[error(transparent)]
    WeakSecret(#[from] WeakSecret),
}

impl EndpointBuilder {
    /// Sets the secret key that signs session tokens (at least 32 bytes). Every node of a
    /// cluster needs the same key.
    pub fn secret_key(mut self, secret: &[u8]) -> Self {
        self.secret = Some(Signer::new(secret));
        self
    }

    /// Uses a random secret key: for development only (pages rendered before a restart must
    /// reload, and nodes cannot share sessions).
    pub fn random_secret_key(mut self) -> Self {
        self.secret = Some(Ok(Signer::random()));
        self
    }

    /// Sets the limits and timings.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the pub/sub backend behind [`Socket::subscribe`](crate::Socket::subscribe)
    /// (default: in-process, [`LocalPubSub`]). Use a shared backend such as Redis when the
    /// application runs on several nodes.
    pub fn pubsub(mut self, pubsub: Arc<dyn PubSub>) -> Self {
        self.pubsub = Some(pubsub);
        self
    }

    /// Sets where uploaded files go when their upload config names no storage of its own
    /// ([`UploadOptions::storage`](crate::UploadOptions::storage)); default: temporary files
    /// in the system temp directory ([`TempFileStorage`]). Phoenix sets the writer per
    /// `allow_upload` only; this is the endpoint-wide default (an object store, a disk of
    /// its own).
    ///
    /// ```
    /// use liveview_core::upload::MemoryStorage;
    /// use liveview_core::{Endpoint, Router};
    /// let endpoint = Endpoint::builder(Router::new())
    ///     .random_secret_key()
    ///     .upload_storage(MemoryStorage::with_limit(64 << 20))
    ///     .build()
    ///     .unwrap();
    /// # let _ = endpoint;
    /// ```
    pub fn upload_storage(mut self, storage: impl UploadStorage) -> Self {
        self.upload_storage = Some(Arc::new(storage));
        self
    }

    /// Replaces the page layout.
    pub fn layout(
        mut self,
        layout: impl Fn(&PageParts<'_>) -> String + Send + Sync + 'static,
    ) -> Self {
        self.layout = Some(Arc::new(layout));
        self
    }

    /// Replaces the error page renderer (default: [`default_error_page`]): the body of `404`
    /// (no route, or [`ViewError::not_found`](crate::ViewError::not_found) from mount), `403`
    /// ([`ViewError::forbidden`](crate::ViewError::forbidden)) and `500` (a failed view) pages.
    ///
    /// ```
    /// use liveview_core::{Endpoint, Router};
    /// let endpoint = Endpoint::builder(Router::new())
    ///     .random_secret_key()
    ///     .error_page(|page| format!("<h1>Oops: {}</h1>", page.status))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(endpoint.error_page(404, None), "<h1>Oops: 404</h1>");
    /// ```
    ///
    /// A view's mount answering "not found" renders it as [`Page::Error`]:
    ///
    /// ```
    /// use liveview_core::{html, Endpoint, LiveView, Meta, Page, Params, Rendered, Router};
    /// use liveview_core::{Session, Socket, ViewError, ViewResult};
    /// #[derive(Default)]
    /// struct Item;
    /// impl LiveView for Item {
    ///     type State = (); type Event = (); type Info = ();
    ///     async fn mount(&self, _: &mut Socket<Self>, params: &Params, _: &Session) -> ViewResult {
    ///         Err(ViewError::not_found(format!("no item {}", params.get("id").unwrap_or(""))))
    ///     }
    ///     fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! {} }
    /// }
    /// let endpoint = Endpoint::builder(Router::new().live("/items/:id", Item))
    ///     .random_secret_key()
    ///     .error_page(|page| format!("{} {}", page.status, page.message.unwrap_or("")))
    ///     .build()
    ///     .unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let page = endpoint.render_page("/items/7", Default::default()).await.unwrap();
    /// assert_eq!(page, Page::Error { status: 404, html: "404 no item 7".into() });
    /// # });
    /// ```
    pub fn error_page(
        mut self,
        renderer: impl Fn(&ErrorPage<'_>) -> String + Send + Sync + 'static,
    ) -> Self {
        self.error_page = Some(Arc::new(renderer));
        self
    }

    /// Builds the endpoint; fails without a secret key.
    pub fn build(self) -> Result<Arc<Endpoint>, BuildError> {
        let signer = self.secret.ok_or(BuildError::MissingSecret)??;
        let router = Arc::new(self.router);
        let shared = Shared {
            routes: router.clone(),
            signer,
            config: self.config,
            pubsub: self.pubsub.unwrap_or_else(|| Arc::new(LocalPubSub::new())),
            upload_storage: self
                .upload_storage
                .unwrap_or_else(|| Arc::new(TempFileStorage::default())),
        };
        Ok(Arc::new(Endpoint {
            shared: Arc::new(shared),
            router,
            layout: self.layout.unwrap_or_else(|| Arc::new(default_layout)),
            error_page: self
                .error_page
                .unwrap_or_else(|| Arc::new(default_error_page)),
        }))
    }
}

impl fmt::Debug for EndpointBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointBuilder")
            .field("router", &self.router)
            .finish_non_exhaustive()
    }
}

/// The result of rendering a page over HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Page {
    /// The full HTML page.
    Html(String),
    /// The view redirected during mount: answer with a redirect to this location.
    Redirect(String),
    /// No route matches the path.
    NotFound,
    /// The request cannot be served as sent (e.g. its query string nests deeper than
    /// [`MAX_FORM_DEPTH`](crate::MAX_FORM_DEPTH)): answer `400` with this message.
    BadRequest(String),
    /// The view (or an `on_mount` hook) answered an error status from mount
    /// ([`ViewError::not_found`](crate::ViewError::not_found): 404,
    /// [`ViewError::forbidden`](crate::ViewError::forbidden): 403): answer it with this body
    /// (from the endpoint's error renderer).
    Error {
        /// The HTTP status.
        status: u16,
        /// The page, from [`EndpointBuilder::error_page`].
        html: String,
    },
}

/// Why rendering a page failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The view's mount, handle_params or render failed or panicked.
    #[error("view {route} failed: {message}")]
    View {
        /// The route pattern.
        route: String,
        /// What went wrong.
        message: String,
    },
}

/// The cookie in which the client carries a flash token across a full-page redirect.
pub const FLASH_COOKIE: &str = "__phoenix_flash__";

impl Endpoint {
    /// Starts building an endpoint serving `router`.
    pub fn builder(router: Router) -> EndpointBuilder {
        EndpointBuilder {
            router,
            secret: None,
            config: Config::default(),
            pubsub: None,
            upload_storage: None,
            layout: None,
            error_page: None,
        }
    }

    /// The router.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The limits and timings.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The pub/sub backend.
    pub fn pubsub(&self) -> &Arc<dyn PubSub> {
        &self.shared.pubsub
    }

    /// Renders the error page for `status` with the endpoint's error renderer (see
    /// [`EndpointBuilder::error_page`]); transports use it for `404`, `500` and the other
    /// errors they answer.
    pub fn error_page(&self, status: u16, message: Option<&str>) -> String {
        (self.error_page)(&ErrorPage::new(status, message))
    }

    /// The signer of this endpoint's tokens.
    pub fn signer(&self) -> &Signer {
        &self.shared.signer
    }

    /// Renders the page at `path_and_query` over HTTP (the "dead render": `connected` is false),
    /// with its container, signed session token and CSRF token.
    pub async fn render_page(
        &self,
        path_and_query: &str,
        session: Session,
    ) -> Result<Page, RenderError> {
        self.render_page_with_flash(path_and_query, session, None)
            .await
    }

    /// Like [`Endpoint::render_page`], with the flash carried by a full-page `redirect`: the
    /// client stores its signed token in the `__phoenix_flash__` cookie (see
    /// [`FLASH_COOKIE`]); transports pass that cookie's value here (and delete the cookie).
    /// A forged or expired token is ignored.
    pub async fn render_page_with_flash(
        &self,
        path_and_query: &str,
        session: Session,
        flash_token: Option<&str>,
    ) -> Result<Page, RenderError> {
        let flash = flash_token
            .and_then(|token| self.shared.signer.verify_json::<Flash>(token).ok())
            .unwrap_or_default();
        let url = Url::parse(path_and_query);
        let Some(found) = self.router.lookup_view(url.path()) else {
            return Ok(Page::NotFound);
        };
        let mut params = found.params;
        if let Some(query) = url.query() {
            if let Err(error) = params.extend_query(query) {
                return Ok(Page::BadRequest(error.to_string()));
            }
        }
        let mut session = session;
        for (key, value) in &found.live_session.session {
            session
                .0
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        let route = found.pattern;
        let id = format!("phx-{}", random_id::<12>());
        let csrf = random_id::<18>();
        let rendered = found
            .view
            .dead_render(DeadRender {
                id: &id,
                url: &url,
                params: &params,
                session: &session,
                csrf: &csrf,
                flash,
                live_session: found.live_session,
                action: found.action,
                signer: &self.shared.signer,
                max_age: self.shared.config.session_max_age.as_secs(),
                children: &*self.router,
                nested: false,
            })
            .await;
        let (inner, title, flash, container, slot) = match rendered {
            Ok(Rendered::Page {
                html,
                title,
                flash,
                container,
                slot,
            }) => (html, title, flash, container, slot),
            Ok(Rendered::Redirect(location)) => return Ok(Page::Redirect(location)),
            Err(failure) => match failure.status {
                Some(status) => {
                    tracing::debug!(route, status, message = %crate::Untrusted(&failure.message), "page answered an error status");
                    let html = self.error_page(status, Some(&failure.message));
                    return Ok(Page::Error { status, html });
                }
                None => {
                    return Err(RenderError::View {
                        route: route.to_owned(),
                        message: failure.message,
                    })
                }
            },
        };
        let claims = SessionClaims {
            id: id.clone(),
            route: route.to_owned(),
            csrf: csrf.clone(),
            session: session.0,
            flash,
            nested: None,
        };
        let token = self
            .shared
            .signer
            .sign_json(&claims, self.shared.config.session_max_age.as_secs());
        let open = container.open_tag(&id, &token);
        let mut html = String::with_capacity(inner.len() + open.len() + 16);
        html.push_str(&open);
        html.push_str(&inner);
        html.push_str("</");
        html.push_str(container.tag());
        html.push('>');
        let title_tag = live_title(
            title.as_deref().unwrap_or(""),
            "",
            &self.shared.config.title_suffix,
        );
        let layout = found.root_layout.unwrap_or(&self.layout);
        Ok(Page::Html(layout(&PageParts {
            title: &title_tag,
            csrf_token: &csrf,
            container: &html,
            slot: &slot,
        })))
    }

    /// Accepts a new client socket whose frames are queued in a bounded channel (of
    /// `Config::outbound_queue` frames): the transport feeds the socket's frames to the returned
    /// [`Connection`] and writes every [`Outbound`] from the receiver to the socket. Tests and
    /// transports with a writer task of their own use this; see [`Endpoint::connect_with`].
    pub fn connect(self: &Arc<Self>) -> (Connection, mpsc::Receiver<Outbound>) {
        let (out, rx) = mpsc::channel(self.shared.config.outbound_queue);
        let connection = Connection::new(self.shared.clone(), Arc::new(ChannelTransport(out)));
        (connection, rx)
    }

    /// Accepts a new client socket whose frames go to `transport` (written directly by the
    /// views' tasks, without a writer task in between). Authentication happens per join (the
    /// signed session token and its CSRF token), so the socket's query string is not needed.
    pub fn connect_with(self: &Arc<Self>, transport: Arc<dyn Transport>) -> Connection {
        Connection::new(self.shared.clone(), transport)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("router", &self.router)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}
