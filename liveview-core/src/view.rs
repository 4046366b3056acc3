//! The [`LiveView`] trait: the callbacks a view implements, and the values they receive.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use liveview_diff::Rendered;
use liveview_upload::UploadEntry;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::socket::{Flash, Socket};

/// A LiveView: server-side state plus a template.
///
/// The implementing type is the view's *definition*, shared by every connection (put shared
/// resources such as a database pool in it). Each connection has its own [`LiveView::State`]
/// (LiveViewJS's `context`), held by the [`Socket`] and changed through [`Socket::assign`].
///
/// Callbacks may be `async` (a handler can await a database call without blocking other
/// views: each view runs in its own task). An `Err` or a panic in a callback crashes that view
/// only: the client shows an error and rejoins, which mounts a fresh view.
///
/// ```
/// use liveview_core::{html, LiveView, Meta, Rendered, Socket, ViewResult};
/// use serde::Deserialize;
///
/// #[derive(Default)]
/// struct Counter;
///
/// #[derive(Default)]
/// struct State { count: i64 }
///
/// #[derive(Deserialize)]
/// #[serde(rename_all = "lowercase")]
/// enum Event { Inc, Dec }
///
/// impl LiveView for Counter {
///     type State = State;
///     type Event = Event;
///     type Info = ();
///
///     async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
///         match event {
///             Event::Inc => socket.assign(|s| s.count += 1),
///             Event::Dec => socket.assign(|s| s.count -= 1),
///         }
///         Ok(())
///     }
///
///     fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
///         html! {
///             h1 { "Count: " (state.count) }
///             button phx-click="dec" { "-" }
///             button phx-click="inc" { "+" }
///         }
///     }
/// }
/// ```
pub trait LiveView: Sized + Send + Sync + 'static {
    /// The per-connection state (LiveViewJS: the `context`). It starts as `Default` and is set
    /// up in [`LiveView::mount`].
    type State: Default + Send + 'static;
    /// Client events, decoded with serde from the event name and value (see
    /// [`ClientEvent`](crate::ClientEvent)).
    type Event: DeserializeOwned + Send + 'static;
    /// Server-side messages handled by [`LiveView::handle_info`] (LiveViewJS: `handleInfo`).
    type Info: Send + 'static;

    /// Sets up the state, once in the HTTP render (`socket.connected() == false`) and again
    /// when the client joins over the WebSocket (LiveViewJS: `mount`).
    fn mount(
        &self,
        socket: &mut Socket<Self>,
        params: &Params,
        session: &Session,
    ) -> impl Future<Output = ViewResult> + Send {
        let _ = (socket, params, session);
        async { Ok(()) }
    }

    /// Runs after mount and on every URL change (`push_patch`, patch links, back/forward)
    /// (LiveViewJS: `handleParams`).
    fn handle_params(
        &self,
        socket: &mut Socket<Self>,
        url: &Url,
        params: &Params,
    ) -> impl Future<Output = ViewResult> + Send {
        let _ = (socket, url, params);
        async { Ok(()) }
    }

    /// Handles a client event (LiveViewJS: `handleEvent`).
    fn handle_event(
        &self,
        socket: &mut Socket<Self>,
        event: Self::Event,
    ) -> impl Future<Output = ViewResult> + Send {
        let _ = (socket, event);
        async { Ok(()) }
    }

    /// Handles a server-side message: [`Socket::send_info`], `repeat`, pub/sub (LiveViewJS:
    /// `handleInfo`).
    fn handle_info(
        &self,
        socket: &mut Socket<Self>,
        info: Self::Info,
    ) -> impl Future<Output = ViewResult> + Send {
        let _ = (socket, info);
        async { Ok(()) }
    }

    /// Runs on every progress update of an upload entry of this view, and once more when the
    /// entry's file is stored (Phoenix: `allow_upload(..., progress: &handle_progress/3)`).
    /// `name` is the upload's name; `entry` is the entry as it is now. When `entry.done` and
    /// the file is stored ([`UploadConfig::stored`](crate::UploadConfig::stored) is `Some`),
    /// the entry can be consumed right here ([`Socket::consume_uploaded_entries`]), without
    /// waiting for a submit. The default does nothing.
    ///
    /// ```
    /// use liveview_core::{html, LiveView, Meta, Rendered, Socket, UploadEntry, ViewResult};
    ///
    /// #[derive(Default)]
    /// struct Avatar;
    ///
    /// impl LiveView for Avatar {
    ///     type State = Vec<String>;
    ///     type Event = ();
    ///     type Info = ();
    ///     async fn handle_progress(
    ///         &self,
    ///         socket: &mut Socket<Self>,
    ///         name: &str,
    ///         entry: &UploadEntry,
    ///     ) -> ViewResult {
    ///         if entry.done {
    ///             let saved = socket.consume_uploaded_entries(name, |_stored, entry| {
    ///                 entry.client_name.clone()
    ///             })?;
    ///             socket.assign(|names| names.extend(saved));
    ///         }
    ///         Ok(())
    ///     }
    ///     fn render(&self, names: &Vec<String>, _: &Meta<'_>) -> Rendered {
    ///         html! { @for name in names { p { (name) } } }
    ///     }
    /// }
    /// ```
    fn handle_progress(
        &self,
        socket: &mut Socket<Self>,
        name: &str,
        entry: &UploadEntry,
    ) -> impl Future<Output = ViewResult> + Send {
        let _ = (socket, name, entry);
        async { Ok(()) }
    }

    /// Handles the result of a task started with [`Socket::start_async`] under `name`
    /// (Phoenix: `handle_async/3`): the task's value, or the message of its panic. The
    /// default ignores it.
    fn handle_async(
        &self,
        socket: &mut Socket<Self>,
        name: &str,
        result: Result<crate::AsyncValue, String>,
    ) -> impl Future<Output = ViewResult> + Send {
        let _ = (socket, name, result);
        async { Ok(()) }
    }

    /// Renders the state (LiveViewJS: `render`). Must be a pure function of its inputs.
    fn render(&self, state: &Self::State, meta: &Meta<'_>) -> Rendered;

    /// The view's container element: its tag and attributes such as `class` or `phx-remove`
    /// (Phoenix: `use Phoenix.LiveView, container: {:section, class: "page"}`). Default: a
    /// plain `div`. It is rendered by the HTTP render; live navigation keeps the container
    /// the page was loaded with.
    ///
    /// ```
    /// # use liveview_core::{html, Container, LiveView, Meta, Rendered};
    /// # #[derive(Default)] struct Page;
    /// impl LiveView for Page {
    ///     type State = (); type Event = (); type Info = ();
    ///     fn container(&self) -> Container {
    ///         Container::new("main").attr("class", "page")
    ///     }
    ///     fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { "hi" } }
    /// }
    /// assert_eq!(Page.container().tag(), "main");
    /// ```
    fn container(&self) -> crate::layout::Container {
        crate::layout::Container::default()
    }

    /// Content the root layout puts outside the view's container
    /// ([`PageParts::slot`](crate::PageParts::slot)): a portal target, a hooked element, a
    /// custom-element script. Rendered in the HTTP render only, after `mount` and
    /// `handle_params`; `None` (the default) leaves the slot empty.
    ///
    /// ```
    /// # use liveview_core::{html, LiveView, Meta, Rendered};
    /// # #[derive(Default)] struct Page;
    /// impl LiveView for Page {
    ///     type State = (); type Event = (); type Info = ();
    ///     fn root_slot(&self, _: &(), _: &Meta<'_>) -> Option<Rendered> {
    ///         Some(html! { div #modal-portal {} })
    ///     }
    ///     fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { "hi" } }
    /// }
    /// ```
    fn root_slot(&self, state: &Self::State, meta: &Meta<'_>) -> Option<Rendered> {
        let _ = (state, meta);
        None
    }

    /// Runs when the view ends (the client left, navigated away, or disconnected) (LiveViewJS:
    /// `shutdown`). Timers from `repeat` and subscriptions are stopped after it.
    fn shutdown(&self, socket: &mut Socket<Self>) {
        let _ = socket;
    }
}

/// What a callback returns.
pub type ViewResult = Result<(), ViewError>;

/// An error returned by a view callback: it crashes the view (the client rejoins).
///
/// From `mount` (or an `on_mount` hook), [`ViewError::not_found`] and
/// [`ViewError::forbidden`] answer the page with that status instead (Phoenix: raising an
/// exception with `plug_status` 404 / 403); any other error is a `500`. The page's body comes
/// from the endpoint's error renderer
/// ([`EndpointBuilder::error_page`](crate::EndpointBuilder::error_page)).
///
/// ```
/// use liveview_core::ViewError;
/// assert_eq!(ViewError::not_found("no such item").status(), Some(404));
/// assert_eq!(ViewError::forbidden("admins only").status(), Some(403));
/// assert_eq!(ViewError::msg("database down").status(), None);
/// ```
pub struct ViewError {
    error: Box<dyn std::error::Error + Send + Sync>,
    status: Option<u16>,
}

impl ViewError {
    /// An error with a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self {
            error: message.to_string().into(),
            status: None,
        }
    }

    /// "Not found": from mount, the page answers `404`.
    pub fn not_found(message: impl fmt::Display) -> Self {
        Self {
            status: Some(404),
            ..Self::msg(message)
        }
    }

    /// "Forbidden": from mount, the page answers `403`.
    pub fn forbidden(message: impl fmt::Display) -> Self {
        Self {
            status: Some(403),
            ..Self::msg(message)
        }
    }

    /// The HTTP status this error answers a page with (`None`: a crash, `500`).
    pub fn status(&self) -> Option<u16> {
        self.status
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for ViewError {
    fn from(error: E) -> Self {
        Self {
            error: Box::new(error),
            status: None,
        }
    }
}

impl fmt::Debug for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

/// What `render` gets besides the state.
///
/// Tests can build one with `Meta { flash: &flash, ..Meta::default() }`.
#[derive(Debug, Clone, Copy)]
pub struct Meta<'a> {
    /// The view id.
    pub id: &'a str,
    /// Whether the view is connected over the WebSocket.
    pub connected: bool,
    /// The flash messages.
    pub flash: &'a Flash,
    /// The page's CSRF token (for plain HTML forms posting elsewhere).
    pub csrf_token: &'a str,
    /// The view's uploads (see [`Socket::allow_upload`]).
    pub uploads: &'a crate::socket::Uploads,
    /// In a [`LiveComponent`](crate::LiveComponent)'s render: its cid, for
    /// `phx-target=(meta.myself)` (LiveViewJS: `meta.myself`). `None` in a view's render.
    pub myself: Option<crate::component::Cid>,
    /// The view's live components (see [`Meta::live_component`]).
    pub components: crate::component::ComponentScope<'a>,
}

static NO_FLASH: Flash = Flash::EMPTY;
static NO_UPLOADS: crate::socket::Uploads = crate::socket::Uploads::EMPTY;

impl Default for Meta<'static> {
    /// A disconnected meta with no flash, no uploads and inline components.
    fn default() -> Self {
        Meta {
            id: "",
            connected: false,
            flash: &NO_FLASH,
            csrf_token: "",
            uploads: &NO_UPLOADS,
            myself: None,
            components: crate::component::ComponentScope::default(),
        }
    }
}

/// URL parameters: path parameters (`/hi/:name`) and the query string, as strings.
///
/// ```
/// let params = liveview_core::Params::from_query("page=2&sort=name");
/// assert_eq!(params.get("page"), Some("2"));
/// assert_eq!(params.parse::<u32>("page"), Some(2));
/// assert_eq!(params.get("missing"), None);
/// ```
///
/// [`Params::decode`] reads them into a typed struct with the form rules (numbers, `Option`,
/// `Vec` from `tags[]`, nested `filter[price][max]`):
///
/// ```
/// use serde::Deserialize;
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Price { max: u32 }
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Query { page: u32, tags: Vec<String>, price: Price }
///
/// let params = liveview_core::Params::from_query("page=2&tags[]=a&tags[]=b&price[max]=30");
/// let query: Query = params.decode().unwrap();
/// assert_eq!(query, Query { page: 2, tags: vec!["a".into(), "b".into()], price: Price { max: 30 } });
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>, String);

impl Params {
    /// Parses a query string (without `?`). A query string that does not decode (see
    /// [`decode_form`](crate::decode_form)) gives no parameters.
    pub fn from_query(query: &str) -> Self {
        let mut params = Params::default();
        if params.extend_query(query).is_err() {
            params = Params::default();
        }
        params
    }

    /// Adds the top-level parameters of a query string (without `?`).
    pub(crate) fn extend_query(&mut self, query: &str) -> Result<(), crate::form::FormError> {
        if let Value::Object(map) = crate::form::decode_form(query)? {
            for (key, value) in map {
                if let Value::String(value) = value {
                    self.0.insert(key, value);
                }
            }
        }
        if !query.is_empty() {
            if !self.1.is_empty() {
                self.1.push('&');
            }
            self.1.push_str(query);
        }
        Ok(())
    }

    /// Sets a parameter.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        crate::form::append_pair(&mut self.1, &key, &value);
        self.0.insert(key, value);
    }

    /// Decodes every parameter (path parameters and the whole query string, nested and list
    /// values included) into `T`, with [`decode_form_as`](crate::decode_form_as)'s rules.
    ///
    /// # Errors
    ///
    /// [`FormError::Invalid`](crate::FormError::Invalid) naming the parameter that does not
    /// decode.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, crate::form::FormError> {
        crate::form::decode_form_as(&self.1)
    }

    /// A parameter's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A parameter parsed with [`str::parse`]; `None` if absent or invalid.
    pub fn parse<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.get(key)?.parse().ok()
    }

    /// Iterates over the parameters in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Session data from the HTTP request that rendered the page (LiveViewJS: `session`; Phoenix:
/// the `session` argument of `mount`).
///
/// It is carried, signed, in the page's session token, so the joined view sees the same data.
/// The transport builds it per request (`liveview_hyper::LiveService::session`, e.g. from a
/// signed cookie); a live session's data ([`LiveSession::session`](crate::LiveSession::session))
/// is merged into it. Typed with serde:
///
/// ```
/// use liveview_core::Session;
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct User { name: String }
/// let session = Session::from_typed(&User { name: "alice".into() }).unwrap();
/// assert_eq!(session.get("name").and_then(|v| v.as_str()), Some("alice"));
/// assert_eq!(session.typed::<User>().unwrap(), User { name: "alice".into() });
/// assert!(Session::default().typed::<User>().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Session(pub Map<String, Value>);

impl Session {
    /// A value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The session with `key` set to `value` (e.g. for a nested view's
    /// [`LiveRender::session`](crate::LiveRender::session)).
    ///
    /// ```
    /// let session = liveview_core::Session::default().with("label", "Left");
    /// assert_eq!(session.get("label").and_then(|v| v.as_str()), Some("Left"));
    /// ```
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// A session holding a serializable value, which must serialize to a JSON object (a
    /// struct or a map); anything else is an error.
    pub fn from_typed<T: serde::Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        match serde_json::to_value(value)? {
            Value::Object(map) => Ok(Self(map)),
            _ => Err(serde::ser::Error::custom(
                "a session serializes to a JSON object",
            )),
        }
    }

    /// The session read as `T` (its fields from the session's keys).
    pub fn typed<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&Value::Object(self.0.clone()))
    }
}

/// The URL of the page, as the browser shows it.
///
/// ```
/// let url = liveview_core::Url::parse("http://localhost:4000/hi/bob?x=1#top");
/// assert_eq!(url.path(), "/hi/bob");
/// assert_eq!(url.query(), Some("x=1"));
/// assert_eq!(url.path_and_query(), "/hi/bob?x=1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    raw: String,
    path: std::ops::Range<usize>,
    query: Option<std::ops::Range<usize>>,
}

impl Url {
    /// Parses an absolute URL (`http://host/path?query`) or a path (`/path?query`).
    pub fn parse(raw: &str) -> Self {
        let raw = raw.to_owned();
        let after_scheme = raw.find("://").map(|i| i + 3).unwrap_or(0);
        let path_start = if after_scheme == 0 {
            0
        } else {
            raw[after_scheme..]
                .find('/')
                .map(|i| i + after_scheme)
                .unwrap_or(raw.len())
        };
        let end = raw[path_start..]
            .find('#')
            .map(|i| i + path_start)
            .unwrap_or(raw.len());
        let (path, query) = match raw[path_start..end].find('?') {
            Some(q) => (path_start..path_start + q, Some(path_start + q + 1..end)),
            None => (path_start..end, None),
        };
        Self { raw, path, query }
    }

    /// The whole URL as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The path (`/` when empty).
    pub fn path(&self) -> &str {
        match &self.raw[self.path.clone()] {
            "" => "/",
            path => path,
        }
    }

    /// The query string, without `?`.
    pub fn query(&self) -> Option<&str> {
        self.query.clone().map(|range| &self.raw[range])
    }

    /// Path plus `?query` if any.
    pub fn path_and_query(&self) -> String {
        match self.query() {
            Some(query) => format!("{}?{}", self.path(), query),
            None => self.path().to_owned(),
        }
    }
}
