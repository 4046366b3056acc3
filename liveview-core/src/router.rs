//! Routes: URL path patterns (`/hi/:name`) mapped to live views.

use std::fmt;
use std::sync::Arc;

use crate::erased::{ChildViews, ErasedView, ViewEntry};
use crate::layout::Layout;
use crate::live_session::{LiveSession, RouteOptions};
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
    /// The live session nested views join in: none of the routes' `on_mount` hooks.
    child_session: Arc<LiveSession>,
}

struct Route {
    pattern: String,
    /// The live session the route belongs to (named "" for the default one).
    live_session: Arc<LiveSession>,
    /// The route's action (`@live_action`).
    action: Option<Arc<str>>,
    /// The route's own root layout.
    root_layout: Option<Layout>,
    segments: Vec<Segment>,
    view: Arc<dyn ErasedView>,
}

/// A routed path, as the endpoint's HTTP render needs it.
pub(crate) struct Found<'a> {
    pub(crate) pattern: &'a str,
    pub(crate) view: &'a Arc<dyn ErasedView>,
    pub(crate) params: Params,
    pub(crate) live_session: &'a Arc<LiveSession>,
    pub(crate) action: Option<&'a Arc<str>>,
    /// The route's root layout, else its live session's.
    pub(crate) root_layout: Option<&'a Layout>,
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
    pub fn live<V: LiveView>(self, pattern: &str, view: V) -> Self {
        self.live_with(pattern, view, RouteOptions::default())
    }

    /// Routes `pattern` to `view` with the route's action (Phoenix: `live "/items/new",
    /// ItemLive, :new`), which the view reads with
    /// [`Socket::live_action`](crate::Socket::live_action). Routes of one view in one live
    /// session patch between each other (`handle_params` runs, the state is kept).
    ///
    /// ```
    /// use liveview_core::{html, LiveView, Meta, Rendered, Router};
    /// # #[derive(Default)] struct Items;
    /// # impl LiveView for Items { type State = (); type Event = (); type Info = ();
    /// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { "items" } } }
    /// let router = Router::new()
    ///     .live_action("/items", Items, "index")
    ///     .live_action("/items/new", Items, "new")
    ///     .live_action("/items/:id", Items, "show");
    /// assert_eq!(router.action_of("/items/new"), Some("new"));
    /// assert_eq!(router.find("/items/42").unwrap().0, "/items/:id");
    /// ```
    ///
    /// # Panics
    ///
    /// As [`Router::live`].
    pub fn live_action<V: LiveView>(self, pattern: &str, view: V, action: &str) -> Self {
        self.live_with(pattern, view, RouteOptions::action(action))
    }

    /// Routes `pattern` to `view` with [`RouteOptions`] (an action, a root layout of its own).
    ///
    /// ```
    /// use liveview_core::{html, LiveView, Meta, Rendered, RouteOptions, Router};
    /// # #[derive(Default)] struct Modal;
    /// # impl LiveView for Modal { type State = (); type Event = (); type Info = ();
    /// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { "m" } } }
    /// let router = Router::new().live_with(
    ///     "/modal",
    ///     Modal,
    ///     RouteOptions::default().root_layout(|parts| {
    ///         format!("<body>{}<div id=\"portal\"></div></body>", parts.container)
    ///     }),
    /// );
    /// # let _ = router;
    /// ```
    ///
    /// # Panics
    ///
    /// As [`Router::live`].
    pub fn live_with<V: LiveView>(mut self, pattern: &str, view: V, options: RouteOptions) -> Self {
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
            live_session: Arc::new(LiveSession::default()),
            action: options.action,
            root_layout: options.root_layout,
            segments,
            view: Arc::new(ViewEntry::new(view)),
        });
        self
    }

    /// Groups the routes that `routes` adds into a live session (Phoenix: `live_session`): a
    /// name, or a [`LiveSession`] with `on_mount` hooks, session data and a root layout. Live navigation (`push_redirect`, `data-phx-link="redirect"` links)
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
    pub fn live_session(
        mut self,
        live_session: impl Into<LiveSession>,
        routes: impl FnOnce(Router) -> Router,
    ) -> Self {
        let live_session = live_session.into();
        assert!(!live_session.name.is_empty(), "a live session needs a name");
        assert!(
            self.routes
                .iter()
                .all(|route| route.live_session.name != live_session.name),
            "live session {} is already defined",
            live_session.name
        );
        let group = Arc::new(live_session);
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
            route.live_session = group.clone();
            self.routes.push(route);
        }
        self
    }

    /// The live session of the route `pattern` (`""` for the default one), if it is routed.
    pub fn live_session_of(&self, pattern: &str) -> Option<&str> {
        self.routes
            .iter()
            .find(|route| route.pattern == pattern)
            .map(|route| &*route.live_session.name)
    }

    /// The action of the route `pattern` (see [`Router::live_action`]), if it has one.
    pub fn action_of(&self, pattern: &str) -> Option<&str> {
        self.routes
            .iter()
            .find(|route| route.pattern == pattern)
            .and_then(|route| route.action.as_deref())
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

    pub(crate) fn lookup_view(&self, path: &str) -> Option<Found<'_>> {
        self.lookup(path).map(|(route, params)| Found {
            pattern: route.pattern.as_str(),
            view: &route.view,
            params,
            live_session: &route.live_session,
            action: route.action.as_ref(),
            root_layout: route
                .root_layout
                .as_ref()
                .or(route.live_session.root_layout.as_ref()),
        })
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
            live_session: &route.live_session,
            action: route.action.as_ref(),
        })
    }

    fn same_session(&self, a: &str, b: &str) -> bool {
        self.same_live_session(a, b)
    }

    fn find_child(&self, key: &str) -> Option<(&str, &dyn Joinable, &Arc<LiveSession>)> {
        self.children
            .iter()
            .find(|(known, _)| *known == key)
            .map(|(known, view)| (*known, &**view as &dyn Joinable, &self.child_session))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Meta;
    use liveview_diff::{html, Rendered};

    #[derive(Default)]
    struct Page;

    impl LiveView for Page {
        type State = ();
        type Event = ();
        type Info = ();

        fn render(&self, _: &(), _: &Meta<'_>) -> Rendered {
            html! {}
        }
    }

    #[test]
    fn a_routes_layout_wins_over_its_live_sessions_and_actions_are_kept() {
        let router = Router::new().live_session(
            LiveSession::new("s").root_layout(|_| "session".to_owned()),
            |routes| {
                routes.live_action("/a", Page, "index").live_with(
                    "/b",
                    Page,
                    RouteOptions::default().root_layout(|_| "route".into()),
                )
            },
        );
        let parts = crate::layout::PageParts {
            title: "",
            csrf_token: "",
            container: "",
            slot: "",
        };
        let a = router.lookup_view("/a").unwrap();
        assert_eq!((a.root_layout.unwrap())(&parts), "session");
        assert_eq!(a.action.map(|action| &**action), Some("index"));
        let b = router.lookup_view("/b").unwrap();
        assert_eq!((b.root_layout.unwrap())(&parts), "route");
        assert_eq!(b.action, None);
        assert_eq!(b.live_session.name(), "s");
    }

    #[test]
    #[should_panic(expected = "live session s is already defined")]
    fn a_live_session_name_is_used_once() {
        let _ = Router::new()
            .live_session("s", |routes| routes.live("/a", Page))
            .live_session("s", |routes| routes.live("/b", Page));
    }
}
