//! A live view with its types erased, as the router stores it: the HTTP ("dead") render
//! here, outside the socket runtime, and the join, which hands the view to the runtime.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::catch::{callback_status, catch_sync, Failure};
use crate::component::{ComponentScope, Registry};
use crate::hooks::run_on_mount;
use crate::layout::Container;
use crate::lifecycle;
use crate::live_session::LiveSession;
use crate::nested::{container, NestedScope, NestedState, PendingChild};
use crate::runtime::{join_view, Join, Joinable, Mailbox};
use crate::socket::{Flash, Navigation, Socket};
use crate::token::Signer;
use crate::view::{LiveView, Meta, Params, Session, Url};

/// What a dead render needs.
pub(crate) struct DeadRender<'a> {
    pub(crate) id: &'a str,
    pub(crate) url: &'a Url,
    pub(crate) params: &'a Params,
    pub(crate) session: &'a Session,
    pub(crate) csrf: &'a str,
    pub(crate) flash: Flash,
    /// The route's live session (its `on_mount` hooks) and action.
    pub(crate) live_session: &'a LiveSession,
    pub(crate) action: Option<&'a Arc<str>>,
    /// Signs the tokens of nested views.
    pub(crate) signer: &'a Signer,
    /// Their tokens' lifetime, in seconds.
    pub(crate) max_age: u64,
    /// Where nested views are found.
    pub(crate) children: &'a dyn ChildViews,
    /// This is a nested view: no `on_mount` hooks of a live session, no `handle_params`.
    pub(crate) nested: bool,
}

/// The nested views a dead render can render (implemented by the router).
pub(crate) trait ChildViews: Sync {
    /// The nested view registered under `key`.
    fn child(&self, key: &str) -> Option<&dyn ErasedView>;
}

/// A dead render's result.
pub(crate) enum Rendered {
    /// The container's inner HTML, the title and the flash to carry into the join.
    Page {
        html: String,
        title: Option<String>,
        flash: Flash,
        /// The view's container element.
        container: Container,
        /// The view's content outside its container (HTML).
        slot: String,
    },
    /// The view navigated during mount: answer with a redirect there.
    Redirect(String),
}

/// A dead render's outcome: `Err` if the view failed or panicked.
pub(crate) type DeadOutcome = Result<Rendered, Failure>;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A live view with its types erased: rendered over HTTP, joined over the socket.
pub(crate) trait ErasedView: Joinable {
    fn dead_render<'a>(&'a self, request: DeadRender<'a>) -> BoxFuture<'a, DeadOutcome>;
}

/// A view as the router stores it.
pub(crate) struct ViewEntry<V> {
    view: Arc<V>,
}

impl<V: LiveView> ViewEntry<V> {
    pub(crate) fn new(view: V) -> Self {
        Self {
            view: Arc::new(view),
        }
    }
}

impl<V: LiveView> Joinable for ViewEntry<V> {
    fn join(&self, join: Join) -> Mailbox {
        join_view(self.view.clone(), join)
    }

    fn view_type(&self) -> std::any::TypeId {
        std::any::TypeId::of::<V>()
    }
}

impl<V: LiveView> ErasedView for ViewEntry<V> {
    fn dead_render<'a>(&'a self, request: DeadRender<'a>) -> BoxFuture<'a, DeadOutcome> {
        Box::pin(async move {
            let mut socket = Socket::<V>::new(request.id.into(), false, None, None);
            socket.set_flash(request.flash.clone());
            socket.extras.live_action = request.action.cloned();
            if !request.nested {
                run_on_mount(
                    &request.live_session.on_mount,
                    &mut socket,
                    request.params,
                    request.session,
                    request.url,
                )?;
                if let Some(location) = redirect_of(&socket) {
                    return Ok(Rendered::Redirect(location));
                }
            }
            callback_status(
                self.view
                    .mount(&mut socket, request.params, request.session),
            )
            .await?;
            if let Some(location) = redirect_of(&socket) {
                return Ok(Rendered::Redirect(location));
            }
            if !request.nested {
                callback_status(lifecycle::handle_params(
                    &*self.view,
                    &mut socket,
                    request.url,
                    request.params,
                ))
                .await?;
                if let Some(location) = redirect_of(&socket) {
                    return Ok(Rendered::Redirect(location));
                }
            }
            let (mut html, mut slot_html, children) = render_dead(&*self.view, &socket, &request)?;
            for child in children {
                let view = request.children.child(child.view).ok_or_else(|| {
                    Failure::from(format!(
                        "nested view {} is not registered: add it with Router::live_child",
                        child.view
                    ))
                })?;
                let outcome = view
                    .dead_render(DeadRender {
                        id: &child.id,
                        url: request.url,
                        params: &Params::default(),
                        session: &child.session,
                        csrf: request.csrf,
                        flash: Flash::default(),
                        live_session: request.live_session,
                        action: None,
                        signer: request.signer,
                        max_age: request.max_age,
                        children: request.children,
                        nested: true,
                    })
                    .await?;
                // A nested view that redirects while mounting renders empty.
                let inner = match outcome {
                    Rendered::Page { html, .. } => html,
                    Rendered::Redirect(_) => String::new(),
                };
                let filled = container(&child.id, &child.token, child.parent.as_deref(), &inner);
                // In the view's render or in its root slot (a sticky view outside the container).
                if html.contains(&child.marker) {
                    html = html.replacen(&child.marker, &filled, 1);
                } else {
                    slot_html = slot_html.replacen(&child.marker, &filled, 1);
                }
            }
            Ok(Rendered::Page {
                html,
                title: socket.take_title(),
                flash: socket.flash().clone(),
                container: self.view.container(),
                slot: slot_html,
            })
        })
    }
}

/// The synchronous part of a dead render: the view's HTML and its root slot's (components
/// inlined), and the nested views they met (rendered into them afterwards).
fn render_dead<V: LiveView>(
    view: &V,
    socket: &Socket<V>,
    request: &DeadRender<'_>,
) -> Result<(String, String, Vec<PendingChild>), Failure> {
    // Components get the same cids as in the join render, so their DOM ids (built from
    // `myself`) match; their HTML is inlined.
    let components = RefCell::new(Registry::detached());
    let nested = RefCell::new(NestedState::dead());
    let meta = Meta {
        id: request.id,
        connected: false,
        flash: socket.flash(),
        csrf_token: request.csrf,
        uploads: socket.uploads(),
        myself: None,
        components: ComponentScope {
            registry: Some(&components),
            nested: Some(NestedScope {
                parent_id: request.id,
                csrf: request.csrf,
                signer: request.signer,
                max_age: request.max_age,
                state: &nested,
            }),
        },
    };
    let (rendered, slot) = catch_sync(|| {
        let state = socket.context();
        let rendered = view.render(state, &meta);
        let slot = view.root_slot(state, &meta);
        crate::component::flush(&components, &meta);
        (rendered, slot)
    })?;
    let registry = components.into_inner();
    let mut html = String::with_capacity(4096);
    let mut write = |cid, out: &mut String| registry.write_html(cid, out);
    rendered.write_html_with(&mut html, &mut write);
    let mut slot_html = String::new();
    if let Some(slot) = slot {
        slot.write_html_with(&mut slot_html, &mut write);
    }
    let children = nested.into_inner().take_pending();
    Ok((html, slot_html, children))
}

fn redirect_of<V: LiveView>(socket: &Socket<V>) -> Option<String> {
    match socket.navigation()? {
        Navigation::Redirect { to }
        | Navigation::LiveRedirect { to, .. }
        | Navigation::Patch { to, .. } => Some(to.clone()),
    }
}
