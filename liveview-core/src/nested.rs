//! Nested LiveViews (Phoenix: `live_render/3`): a view rendered inside another view's
//! template, with its own id, session, state and channel; and sticky views, which survive
//! live navigation.
//!
//! Over the socket the parent's render holds only the child's container (its signed session
//! token and `data-phx-parent-id`); the client joins the child on its own topic after the
//! parent's join, and the child runs as a view of its own: its events, renders and crashes
//! are its own. A parent re-render keeps the container as it was (the token is rendered once
//! per child), so the client keeps the child. When the parent ends, its children end. In the
//! HTTP render the child renders inline, inside its container.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use liveview_diff::{escape, Dynamic};
use serde::{Deserialize, Serialize};

use crate::token::{random_id, SessionClaims, Signer};
use crate::view::{LiveView, Meta, Session};

/// How to render a nested view with [`Meta::live_render`] (Phoenix: `live_render/3`'s
/// options `id`, `session`, `sticky`).
///
/// ```
/// use liveview_core::{LiveRender, Session};
/// let options = LiveRender::new("clock").session(Session::default()).sticky(false);
/// assert_eq!(options.id(), "clock");
/// ```
#[derive(Debug, Clone)]
pub struct LiveRender {
    id: String,
    session: Session,
    sticky: bool,
}

impl LiveRender {
    /// A nested view with DOM id `id` (unique in the page; the topic is `lv:<id>`).
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            session: Session::default(),
            sticky: false,
        }
    }

    /// The session the nested view's `mount` gets (signed into its token).
    pub fn session(mut self, session: Session) -> Self {
        self.session = session;
        self
    }

    /// A sticky view (Phoenix: `sticky: true`): joined as a root of its own rather than as
    /// a child, it is not ended with the view that rendered it, and survives live
    /// navigation (`push_redirect`, `data-phx-link="redirect"`) with its state when the next
    /// page renders it with the same id.
    pub fn sticky(mut self, sticky: bool) -> Self {
        self.sticky = sticky;
        self
    }

    /// The DOM id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// What a nested view's session token says besides a page's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NestedClaims {
    /// The registered nested view (see `Router::live_child`).
    pub(crate) view: String,
    /// The parent view's id (`None` for a sticky view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) parent: Option<String>,
}

/// What a render needs to write nested views' containers.
#[derive(Clone, Copy)]
pub(crate) struct NestedScope<'a> {
    pub(crate) parent_id: &'a str,
    pub(crate) csrf: &'a str,
    pub(crate) signer: &'a Signer,
    pub(crate) max_age: u64,
    pub(crate) state: &'a RefCell<NestedState>,
}

impl fmt::Debug for NestedScope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NestedScope")
            .field("parent_id", &self.parent_id)
            .finish_non_exhaustive()
    }
}

/// A nested view met by a dead render, rendered into the page after it.
pub(crate) struct PendingChild {
    /// The HTML comment standing for it in the parent's HTML.
    pub(crate) marker: String,
    pub(crate) view: &'static str,
    pub(crate) id: String,
    pub(crate) session: Session,
    pub(crate) parent: Option<String>,
    pub(crate) token: String,
}

/// The nested views of one view: the tokens rendered so far (reused while the child's
/// view, session and stickiness stay the same), and during a dead render the children to
/// render into the page.
#[derive(Default)]
pub(crate) struct NestedState {
    tokens: HashMap<String, (String, String)>,
    /// `Some((nonce, children))` during a dead render.
    dead: Option<(String, Vec<PendingChild>)>,
}

impl NestedState {
    /// The state of a dead render: children are collected, then rendered inline.
    pub(crate) fn dead() -> Self {
        Self {
            tokens: HashMap::new(),
            dead: Some((random_id::<9>(), Vec::new())),
        }
    }

    /// The children a dead render met.
    pub(crate) fn take_pending(&mut self) -> Vec<PendingChild> {
        self.dead
            .as_mut()
            .map(|(_, pending)| std::mem::take(pending))
            .unwrap_or_default()
    }
}

/// A nested view's container: `data-phx-parent-id` for a child, `data-phx-sticky` for a
/// sticky view; `inner` is its dead-rendered HTML (empty over the socket).
pub(crate) fn container(id: &str, token: &str, parent: Option<&str>, inner: &str) -> String {
    let mut out = String::with_capacity(inner.len() + token.len() + 96);
    out.push_str("<div id=\"");
    out.push_str(&escape(id));
    out.push_str("\" data-phx-session=\"");
    out.push_str(token);
    out.push_str("\" data-phx-static=\"\"");
    match parent {
        Some(parent) => {
            out.push_str(" data-phx-parent-id=\"");
            out.push_str(&escape(parent));
            out.push('"');
        }
        None => out.push_str(" data-phx-sticky"),
    }
    out.push('>');
    out.push_str(inner);
    out.push_str("</div>");
    out
}

impl NestedScope<'_> {
    /// The child's token: the one rendered before if nothing changed, else a new one.
    fn token(&self, view: &'static str, options: &LiveRender, parent: Option<&str>) -> String {
        let fingerprint = format!(
            "{view}\n{}\n{}",
            parent.unwrap_or(""),
            serde_json::Value::Object(options.session.0.clone())
        );
        let mut state = self.state.borrow_mut();
        if let Some((known, token)) = state.tokens.get(&options.id) {
            if *known == fingerprint {
                return token.clone();
            }
        }
        let claims = SessionClaims {
            id: options.id.clone(),
            route: view.to_owned(),
            csrf: self.csrf.to_owned(),
            session: options.session.0.clone(),
            flash: Default::default(),
            nested: Some(NestedClaims {
                view: view.to_owned(),
                parent: parent.map(str::to_owned),
            }),
        };
        let token = self.signer.sign_json(&claims, self.max_age);
        state
            .tokens
            .insert(options.id.clone(), (fingerprint, token.clone()));
        token
    }
}

impl Meta<'_> {
    /// Renders the nested view `V` (Phoenix: `live_render/3`), which must be registered with
    /// [`Router::live_child`](crate::Router::live_child): over the socket, its container,
    /// which the client joins as a view of its own (own id, session, state, events and
    /// crashes) — a re-render of this view does not remount it, and it ends when this view
    /// ends; in the HTTP render, its container with its HTML inside. A nested view's `mount`
    /// gets the [`LiveRender::session`]; `handle_params` does not run for it (only the routed
    /// view handles URLs) and it cannot `push_patch`.
    ///
    /// ```
    /// use liveview_core::{html, LiveRender, LiveView, Meta, Rendered, Router};
    ///
    /// #[derive(Default)]
    /// struct Clock;
    /// # impl LiveView for Clock { type State = (); type Event = (); type Info = ();
    /// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! { p { "12:00" } } } }
    ///
    /// #[derive(Default)]
    /// struct Page;
    ///
    /// impl LiveView for Page {
    ///     type State = ();
    ///     type Event = ();
    ///     type Info = ();
    ///
    ///     fn render(&self, _: &(), meta: &Meta<'_>) -> Rendered {
    ///         html! {
    ///             h1 { "Dashboard" }
    ///             (meta.live_render::<Clock>(LiveRender::new("clock")))
    ///         }
    ///     }
    /// }
    ///
    /// let router = Router::new().live("/", Page).live_child(Clock);
    /// # let _ = router;
    /// ```
    pub fn live_render<V: LiveView>(&self, options: LiveRender) -> Dynamic {
        let Some(scope) = self.components.nested else {
            // Outside a view's render (a test's `Meta::default()`): an empty container.
            return Dynamic::raw(container(&options.id, "", Some(self.id), ""));
        };
        let view = std::any::type_name::<V>();
        let parent = (!options.sticky).then_some(scope.parent_id);
        let token = scope.token(view, &options, parent);
        let mut state = scope.state.borrow_mut();
        if let Some((nonce, pending)) = &mut state.dead {
            let marker = format!("<!--lv-child-{nonce}-{}-->", pending.len());
            pending.push(PendingChild {
                marker: marker.clone(),
                view,
                id: options.id,
                session: options.session,
                parent: parent.map(str::to_owned),
                token,
            });
            return Dynamic::raw(marker);
        }
        Dynamic::raw(container(&options.id, &token, parent, ""))
    }
}
