//! Mount hooks (Phoenix's `on_mount`), the values they assign ([`Assigns`]), and what the
//! connected mount learns about its client ([`ConnectInfo`], connect params).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::catch::{catch_sync, Failure};
use crate::lifecycle::LifecycleHooks;
use crate::socket::Socket;
use crate::view::{LiveView, Params, Session, Url, ViewError};

/// What an `on_mount` hook returns: `Ok(())` continues (the next hook, then `mount`);
/// `Err(Halt)` stops the mount (Phoenix: `{:cont, socket}` / `{:halt, socket}`).
pub type OnMountResult = Result<(), Halt>;

/// Why an `on_mount` hook stopped the mount.
///
/// ```
/// use liveview_core::{Halt, ViewError};
/// let halt: Halt = ViewError::forbidden("admins only").into();
/// assert!(matches!(halt, Halt::Error(ref error) if error.status() == Some(403)));
/// assert!(matches!(Halt::redirect("/login"), Halt::Redirect(ref to) if to == "/login"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Halt {
    /// Send the browser to this location with a full page load: a `302` in the HTTP render,
    /// a `redirect` join reply over the socket (the auth guard: `/account` → `/login`).
    Redirect(String),
    /// Answer with an error: its status ([`ViewError::not_found`], [`ViewError::forbidden`])
    /// or `500`; over the socket the client loads the page over HTTP, which shows it.
    Error(ViewError),
}

impl Halt {
    /// [`Halt::Redirect`] to `to`.
    pub fn redirect(to: impl Into<String>) -> Self {
        Halt::Redirect(to.into())
    }
}

impl From<ViewError> for Halt {
    fn from(error: ViewError) -> Self {
        Halt::Error(error)
    }
}

/// A mount hook, shared by the views of a live session.
pub(crate) type OnMountHook = Arc<dyn Fn(&mut MountContext<'_>) -> OnMountResult + Send + Sync>;

/// What an `on_mount` hook sees (Phoenix: `on_mount(name, params, session, socket)`): it runs
/// before the view's `mount`, in the HTTP render and again at the join, and may put values in
/// [`MountContext::assigns`] for the view to read ([`Socket::assigns`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct MountContext<'a> {
    /// `false` in the HTTP render, `true` at the join.
    pub connected: bool,
    /// Path and query parameters.
    pub params: &'a Params,
    /// The session (the request's, merged with the live session's data).
    pub session: &'a Session,
    /// The page's URL.
    pub url: &'a Url,
    /// The route's action ([`Socket::live_action`]).
    pub live_action: Option<&'a str>,
    /// The client's connect params, at the join ([`Socket::connect_params`]).
    pub connect_params: Option<&'a Map<String, Value>>,
    /// The connection's info, at the join ([`Socket::connect_info`]).
    pub connect_info: Option<&'a ConnectInfo>,
    /// Values for the view (Phoenix: `assign(socket, :current_user, user)`).
    pub assigns: &'a mut Assigns,
}

/// Values put on a socket by `on_mount` hooks, one per type (an `http::Extensions`-like map):
/// the hook inserts a `CurrentUser`, every view of the live session reads it in `mount` with
/// [`Socket::assigns`]. The view's typed state stays the place for its own data.
///
/// ```
/// let mut assigns = liveview_core::Assigns::default();
/// #[derive(Clone, Debug, PartialEq)]
/// struct CurrentUser(String);
/// assigns.insert(CurrentUser("alice".into()));
/// assert_eq!(assigns.get::<CurrentUser>(), Some(&CurrentUser("alice".into())));
/// assert_eq!(assigns.get::<u32>(), None);
/// ```
#[derive(Default)]
pub struct Assigns(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl Assigns {
    /// Puts a value, replacing the previous value of its type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Box::new(value));
    }

    /// The value of type `T`, if one was put.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref()
    }

    /// Takes the value of type `T` out.
    pub fn remove<T: Send + Sync + 'static>(&mut self) -> Option<T> {
        let value = self.0.remove(&TypeId::of::<T>())?;
        value.downcast().ok().map(|boxed| *boxed)
    }
}

impl fmt::Debug for Assigns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Assigns")
            .field("len", &self.0.len())
            .finish_non_exhaustive()
    }
}

/// What the transport knows about a connected client (Phoenix: `get_connect_info`), set by
/// the transport for each socket (`liveview_hyper` fills it from the upgrade request).
///
/// ```
/// let info = liveview_core::ConnectInfo {
///     peer: Some("127.0.0.1:5000".parse().unwrap()),
///     user_agent: Some("Mozilla/5.0".into()),
///     ..Default::default()
/// };
/// assert_eq!(info.peer.unwrap().port(), 5000);
/// assert!(info.x_forwarded_for.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectInfo {
    /// The peer's address (the proxy's, behind one).
    pub peer: Option<SocketAddr>,
    /// The `User-Agent` header of the upgrade request (at most 512 bytes kept).
    pub user_agent: Option<String>,
    /// The `X-Forwarded-For` header, only when the transport was told to trust it (at most
    /// 512 bytes kept).
    pub x_forwarded_for: Option<String>,
}

/// What a socket holds beside the view's state: hook assigns, the route's action, the
/// client's connect params and info, and the lifecycle hooks.
pub(crate) struct Extras<V: LiveView> {
    pub(crate) assigns: Assigns,
    pub(crate) live_action: Option<Arc<str>>,
    pub(crate) connect_params: Option<Arc<Map<String, Value>>>,
    pub(crate) connect_info: Option<Arc<ConnectInfo>>,
    pub(crate) hooks: LifecycleHooks<V>,
}

impl<V: LiveView> Default for Extras<V> {
    fn default() -> Self {
        Self {
            assigns: Assigns::default(),
            live_action: None,
            connect_params: None,
            connect_info: None,
            hooks: LifecycleHooks::default(),
        }
    }
}

impl<V: LiveView> Socket<V> {
    /// The values `on_mount` hooks put (Phoenix: `socket.assigns` set by a hook).
    ///
    /// ```
    /// # use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
    /// #[derive(Clone)]
    /// struct CurrentUser(String);
    /// # #[derive(Default)] struct Account;
    /// impl LiveView for Account {
    ///     type State = String; type Event = (); type Info = ();
    ///     async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
    ///         let name = socket.assigns().get::<CurrentUser>().map(|user| user.0.clone());
    ///         socket.assign(|state| *state = name.unwrap_or_default());
    ///         Ok(())
    ///     }
    ///     fn render(&self, name: &String, _: &Meta<'_>) -> Rendered { html! { (name) } }
    /// }
    /// ```
    pub fn assigns(&self) -> &Assigns {
        &self.extras.assigns
    }

    /// The values `on_mount` hooks put, to change.
    pub fn assigns_mut(&mut self) -> &mut Assigns {
        &mut self.extras.assigns
    }

    /// The action of the route the view serves (Phoenix: `@live_action`): set with
    /// [`Router::live_action`](crate::Router::live_action), so one view serves `/items`
    /// (`index`), `/items/new` (`new`) and `/items/:id` (`show`). It changes when a patch
    /// moves to another route of the same view; `handle_params` sees the new one.
    ///
    /// ```
    /// # use liveview_core::{html, LiveView, Meta, Params, Rendered, Socket, Url, ViewResult};
    /// # #[derive(Default)] struct Items;
    /// impl LiveView for Items {
    ///     type State = bool; type Event = (); type Info = ();
    ///     async fn handle_params(&self, socket: &mut Socket<Self>, _: &Url, _: &Params) -> ViewResult {
    ///         let editing = socket.live_action() == Some("edit");
    ///         socket.assign(|state| *state = editing);
    ///         Ok(())
    ///     }
    ///     fn render(&self, editing: &bool, _: &Meta<'_>) -> Rendered { html! { (editing) } }
    /// }
    /// ```
    pub fn live_action(&self) -> Option<&str> {
        self.extras.live_action.as_deref()
    }

    /// The client's connect params (Phoenix: `get_connect_params`; the LiveSocket's `params`
    /// option, e.g. `{params: {_csrf_token, timezone}}`), in the connected mount and after;
    /// `None` in the HTTP render.
    ///
    /// ```
    /// # use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
    /// # #[derive(Default)] struct Clock;
    /// impl LiveView for Clock {
    ///     type State = String; type Event = (); type Info = ();
    ///     async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
    ///         let zone = socket.connect_params()
    ///             .and_then(|params| params.get("timezone")?.as_str().map(str::to_owned))
    ///             .unwrap_or_else(|| "UTC".to_owned());
    ///         socket.assign(|state| *state = zone);
    ///         Ok(())
    ///     }
    ///     fn render(&self, zone: &String, _: &Meta<'_>) -> Rendered { html! { (zone) } }
    /// }
    /// ```
    pub fn connect_params(&self) -> Option<&Map<String, Value>> {
        self.extras.connect_params.as_deref()
    }

    /// The connection's info (Phoenix: `get_connect_info`: peer address, user agent,
    /// `X-Forwarded-For` when trusted), in the connected mount and after; `None` in the HTTP
    /// render.
    pub fn connect_info(&self) -> Option<&ConnectInfo> {
        self.extras.connect_info.as_deref()
    }
}

/// Runs a live session's `on_mount` hooks on `socket` (each one's panic is a failure); the
/// first halt stops them: a redirect is put on the socket (the caller answers with it), an
/// error is returned.
pub(crate) fn run_on_mount<V: LiveView>(
    hooks: &[OnMountHook],
    socket: &mut Socket<V>,
    params: &Params,
    session: &Session,
    url: &Url,
) -> Result<(), Failure> {
    let connected = socket.connected();
    for hook in hooks {
        let extras = &mut socket.extras;
        let mut context = MountContext {
            connected,
            params,
            session,
            url,
            live_action: extras.live_action.as_deref(),
            connect_params: extras.connect_params.as_deref(),
            connect_info: extras.connect_info.as_deref(),
            assigns: &mut extras.assigns,
        };
        match catch_sync(|| hook(&mut context))? {
            Ok(()) => {}
            Err(Halt::Redirect(to)) => {
                socket.redirect(to);
                return Ok(());
            }
            Err(Halt::Error(error)) => {
                return Err(Failure {
                    message: format!("on_mount: {error}"),
                    status: error.status(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::Navigation;
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

    fn run(hooks: &[OnMountHook]) -> (Result<(), Failure>, Socket<Page>) {
        let mut socket = Socket::new("phx-1".into(), false, None, None);
        let url = Url::parse("/");
        let result = run_on_mount(
            hooks,
            &mut socket,
            &Params::default(),
            &Session::default(),
            &url,
        );
        (result, socket)
    }

    #[test]
    fn hooks_assign_halt_with_a_redirect_or_fail_with_a_status() {
        let assign: OnMountHook = Arc::new(|hook| {
            hook.assigns.insert(7_u32);
            Ok(())
        });
        let (result, socket) = run(std::slice::from_ref(&assign));
        assert!(result.is_ok());
        assert_eq!(socket.assigns().get::<u32>(), Some(&7));

        // The first halt stops the others.
        let redirect: OnMountHook = Arc::new(|_| Err(Halt::redirect("/login")));
        let never: OnMountHook = Arc::new(|_| panic!("after a halt"));
        let (result, socket) = run(&[redirect, never.clone()]);
        assert!(result.is_ok());
        assert_eq!(
            socket.navigation(),
            Some(&Navigation::Redirect {
                to: "/login".into()
            })
        );

        let forbidden: OnMountHook = Arc::new(|_| Err(ViewError::forbidden("no").into()));
        let (result, _) = run(&[forbidden]);
        assert_eq!(result.as_ref().err().and_then(|f| f.status), Some(403));

        // A panicking hook is a failure (a 500), not a crash of the caller.
        let (result, _) = run(&[assign, never]);
        let failure = result.expect_err("a failure");
        assert_eq!(failure.status, None);
        assert!(
            failure.message.contains("after a halt"),
            "{}",
            failure.message
        );
    }
}
