//! Live sessions (Phoenix's `live_session`): a named group of routes with shared `on_mount`
//! hooks, session data and root layout; and a route's own options ([`RouteOptions`]).

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::hooks::{MountContext, OnMountHook, OnMountResult};
use crate::layout::{Layout, PageParts};

/// A live session: routes grouped under a name, sharing `on_mount` hooks, session data and
/// optionally a root layout (Phoenix: `live_session :name, on_mount: …, session: …,
/// root_layout: …`). Pass it (or just a name) to [`Router::live_session`](crate::Router::live_session).
///
/// Live navigation stays on the socket between routes of one live session; to another one
/// the client loads the page over HTTP (its session token mounts exactly the routes of its
/// live session).
///
/// ```
/// use liveview_core::{Halt, LiveSession};
/// #[derive(Clone)]
/// struct CurrentUser(String);
/// let account = LiveSession::new("account")
///     .session(serde_json::json!({"theme": "dark"}))
///     .on_mount(|hook| {
///         match hook.session.get("user").and_then(|user| user.as_str()) {
///             Some(name) => {
///                 hook.assigns.insert(CurrentUser(name.to_owned()));
///                 Ok(())
///             }
///             None => Err(Halt::redirect("/login")),
///         }
///     });
/// assert_eq!(account.name(), "account");
/// ```
#[derive(Clone, Default)]
pub struct LiveSession {
    pub(crate) name: Arc<str>,
    pub(crate) on_mount: Vec<OnMountHook>,
    pub(crate) session: Map<String, Value>,
    pub(crate) root_layout: Option<Layout>,
}

impl LiveSession {
    /// A live session named `name` (not empty: `""` is the default live session's name).
    pub fn new(name: &str) -> Self {
        Self {
            name: Arc::from(name),
            ..Self::default()
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds an `on_mount` hook (Phoenix: `on_mount`): it runs before every `mount` of the live
    /// session's views, in the HTTP render and at the join, in the order added. It may put
    /// values in [`MountContext::assigns`], halt with a redirect ([`Halt::Redirect`](crate::Halt::Redirect):
    /// the auth guard) or with an error (a `404`/`403` page). A panic is a failed mount.
    pub fn on_mount(
        mut self,
        hook: impl Fn(&mut MountContext<'_>) -> OnMountResult + Send + Sync + 'static,
    ) -> Self {
        self.on_mount.push(Arc::new(hook));
        self
    }

    /// Session data merged into every page's session (Phoenix: `session:`); a JSON object
    /// (anything else is ignored). Keys of the request's session win.
    pub fn session(mut self, data: Value) -> Self {
        if let Value::Object(map) = data {
            self.session = map;
        }
        self
    }

    /// The root layout of the live session's pages (Phoenix: `root_layout:`), instead of the
    /// endpoint's (a route's own, [`RouteOptions::root_layout`], wins).
    ///
    /// ```
    /// use liveview_core::{default_layout, LiveSession};
    /// let admin = LiveSession::new("admin").root_layout(|parts| {
    ///     default_layout(parts).replacen("<body>\n", "<body>\n<header>Admin</header>\n", 1)
    /// });
    /// # let _ = admin;
    /// ```
    pub fn root_layout(
        mut self,
        layout: impl Fn(&PageParts<'_>) -> String + Send + Sync + 'static,
    ) -> Self {
        self.root_layout = Some(Arc::new(layout));
        self
    }
}

impl From<&str> for LiveSession {
    fn from(name: &str) -> Self {
        LiveSession::new(name)
    }
}

impl fmt::Debug for LiveSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveSession")
            .field("name", &self.name)
            .field("on_mount", &self.on_mount.len())
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// A live route's options, for [`Router::live_with`](crate::Router::live_with): its action
/// ([`Socket::live_action`](crate::Socket::live_action), Phoenix's `@live_action`) and its
/// own root layout (Phoenix: a route's `root_layout`).
///
/// ```
/// use liveview_core::RouteOptions;
/// let options = RouteOptions::action("edit")
///     .root_layout(|parts| format!("<body>{}<div id=\"portal\"></div></body>", parts.container));
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct RouteOptions {
    pub(crate) action: Option<Arc<str>>,
    pub(crate) root_layout: Option<Layout>,
}

impl RouteOptions {
    /// Options with an action.
    pub fn action(action: &str) -> Self {
        Self {
            action: Some(Arc::from(action)),
            root_layout: None,
        }
    }

    /// Sets the route's root layout.
    pub fn root_layout(
        mut self,
        layout: impl Fn(&PageParts<'_>) -> String + Send + Sync + 'static,
    ) -> Self {
        self.root_layout = Some(Arc::new(layout));
        self
    }
}

impl fmt::Debug for RouteOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteOptions")
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}
