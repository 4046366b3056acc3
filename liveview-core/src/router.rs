//! Routes: URL path patterns (`/hi/:name`) mapped to live views.

use std::fmt;
use std::sync::Arc;

use crate::erased::{ChildViews, ErasedView, ViewEntry};
use crate::runtime::{Joinable, RouteMatch, Routes};
use crate::view::{LiveView, Params};

/// Maps URL paths to live views. Patterns are literal segments and `:name` parameters:
///
/// ```
/// use liveview_core::{html, LiveView, Meta, Rendered, Router};
/// # #[derive(Default)] struct Hello;
/// # impl LiveView for Hello { type State = (); type Event = (); type Info = ();
/// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { "hi" } } }
/// let router = Router::new().live("/hi/:name", Hello);
/// let (route, params) = router.find("/hi/bob").unwrap();
/// assert_eq!(route, "/hi/:name");
/// assert_eq!(params.get("name"), Some("bob"));
/// assert!(router.find("/nope").is_none());
/// ```
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
    /// Nested views (`live_child`), by type name.
    children: Vec<(&'static str, Arc<dyn ErasedView>)>,
}

struct Route {
    pattern: String,
    /// The live session the route belongs to ("" for the default one).
    live_session: Arc<str>,
    segments: Vec<Segment>,
    view: Arc<dyn ErasedView>,
}

enum Segment {
    Literal(String),
    Param(String),
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes `pattern` to `view`.
    ///
    /// # Panics
    ///
    /// If `pattern` does not start with `/` or is already routed.
    pub fn live<V: LiveView>(mut self, pattern: &str, view: V) -> Self {
        assert!(pattern.starts_with('/'), "route patterns start with `/`");
        assert!(
            self.routes.iter().all(|route| route.pattern != pattern),
            "route {pattern} is already defined"
        );
        let segments = split(pattern)
            .map(|segment| match segment.strip_prefix(':') {
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(segment.to_owned()),
            })
            .collect();
        self.routes.push(Route {
            pattern: pattern.to_owned(),
            live_session: Arc::from(""),
            segments,
            view: Arc::new(ViewEntry::new(view)),
        });
        self
    }

    /// Groups the routes that `routes` adds into the live session `name` (Phoenix:
    /// `live_session`). Live navigation (`push_redirect`, `data-phx-link="redirect"` links)
    /// stays on the socket between routes of one live session; to a route of another one, the
    /// join is refused (`unauthorized`) and the client loads the page over HTTP instead, so a
    /// page's session token can mount exactly the routes of its live session. Routes added
    /// outside any `live_session` share the default live session, as in Phoenix.
    ///
    /// ```
    /// use liveview_core::{html, LiveView, Meta, Rendered, Router};
    /// # #[derive(Default)] struct Page;
    /// # impl LiveView for Page { type State = (); type Event = (); type Info = ();
    /// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { "hi" } } }
    /// let router = Router::new()
    ///     .live("/", Page)
    ///     .live_session("admin", |routes| routes.live("/admin", Page).live("/admin/users", Page));
    /// assert_eq!(router.live_session_of("/admin/users"), Some("admin"));
    /// assert_eq!(router.live_session_of("/"), Some(""));
    /// assert!(!router.same_live_session("/", "/admin"));
    /// ```
    ///
    /// # Panics
    ///
    /// If `name` is empty (the default live session's name) or a route is already defined.
    pub fn live_session(mut self, name: &str, routes: impl FnOnce(Router) -> Router) -> Self {
        assert!(!name.is_empty(), "a live session needs a name");
        let name: Arc<str> = Arc::from(name);
        let inner = routes(Router::new());
        for (key, view) in inner.children {
            if self.children.iter().all(|(known, _)| *known != key) {
                self.children.push((key, view));
            }
        }
        for mut route in inner.routes {
            assert!(
                self.routes
                    .iter()
                    .all(|known| known.pattern != route.pattern),
                "route {} is already defined",
                route.pattern
            );
            route.live_session = name.clone();
            self.routes.push(route);
        }
        self
    }

    /// The live session of the route `pattern` (`""` for the default one), if it is routed.
    pub fn live_session_of(&self, pattern: &str) -> Option<&str> {
        self.routes
            .iter()
            .find(|route| route.pattern == pattern)
            .map(|route| &*route.live_session)
    }

    /// Whether two route patterns are routed and belong to the same live session.
    pub fn same_live_session(&self, a: &str, b: &str) -> bool {
        match (self.live_session_of(a), self.live_session_of(b)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    /// Registers `view` as a nested view, rendered inside other views with
    /// [`Meta::live_render`](crate::Meta::live_render) (Phoenix: any LiveView module can be
    /// `live_render`ed; here the router keeps the definitions it may join). Its session token
    /// names it, so a client can join only views registered here.
    ///
    /// ```
    /// use liveview_core::{html, LiveView, Meta, Rendered, Router};
    /// # #[derive(Default)] struct Clock;
    /// # impl LiveView for Clock { type State = (); type Event = (); type Info = ();
    /// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { "12:00" } } }
    /// let router = Router::new().live_child(Clock);
    /// assert!(router.has_child::<Clock>());
    /// ```
    ///
    /// # Panics
    ///
    /// If a view of the same type is already registered.
    pub fn live_child<V: LiveView>(mut self, view: V) -> Self {
        let key = std::any::type_name::<V>();
        assert!(
            self.children.iter().all(|(known, _)| *known != key),
            "nested view {key} is already registered"
        );
        self.children.push((key, Arc::new(ViewEntry::new(view))));
        self
    }

    /// Whether the nested view `V` is registered ([`Router::live_child`]).
    pub fn has_child<V: LiveView>(&self) -> bool {
        let key = std::any::type_name::<V>();
        self.children.iter().any(|(known, _)| *known == key)
    }

    /// Finds the route of `path` (no query string); returns its pattern and path parameters.
    pub fn find(&self, path: &str) -> Option<(&str, Params)> {
        self.lookup(path)
            .map(|(route, params)| (route.pattern.as_str(), params))
    }

    /// The route patterns, in the order they were added.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|route| route.pattern.as_str())
    }

    pub(crate) fn lookup_view(&self, path: &str) -> Option<(&str, &Arc<dyn ErasedView>, Params)> {
        self.lookup(path)
            .map(|(route, params)| (route.pattern.as_str(), &route.view, params))
    }

    fn lookup(&self, path: &str) -> Option<(&Route, Params)> {
        'routes: for route in &self.routes {
            let mut params = Params::default();
            let mut parts = split(path);
            for segment in &route.segments {
                let Some(part) = parts.next() else {
                    continue 'routes;
                };
                match segment {
                    Segment::Literal(literal) if literal == part => {}
                    Segment::Literal(_) => continue 'routes,
                    Segment::Param(name) => {
                        let value = percent_encoding::percent_decode_str(part)
                            .decode_utf8_lossy()
                            .into_owned();
                        params.insert(name.clone(), value);
                    }
                }
            }
            if parts.next().is_none() {
                return Some((route, params));
            }
        }
        None
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|segment| !segment.is_empty())
}

impl Routes for Router {
    fn find_route(&self, path: &str) -> Option<RouteMatch<'_>> {
        self.lookup(path).map(|(route, params)| RouteMatch {
            pattern: &route.pattern,
            view: &*route.view,
            params,
        })
    }

    fn same_session(&self, a: &str, b: &str) -> bool {
        self.same_live_session(a, b)
    }

    fn find_child(&self, key: &str) -> Option<(&str, &dyn Joinable)> {
        self.children
            .iter()
            .find(|(known, _)| *known == key)
            .map(|(known, view)| (*known, &**view as &dyn Joinable))
    }
}

impl ChildViews for Router {
    fn child(&self, key: &str) -> Option<&dyn ErasedView> {
        self.children
            .iter()
            .find(|(known, _)| *known == key)
            .map(|(_, view)| &**view)
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.patterns()).finish()
    }
}
