//! A live view with its types erased, as the router stores it: the HTTP ("dead") render
//! here, outside the socket runtime, and the join, which hands the view to the runtime.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::catch::{callback, catch_sync};
use crate::component::{ComponentScope, Registry};
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
    /// Signs the tokens of nested views.
    pub(crate) signer: &'a Signer,
    /// Their tokens' lifetime, in seconds.
    pub(crate) max_age: u64,
    /// Where nested views are found.
    pub(crate) children: &'a dyn ChildViews,
    /// This is a nested view: `handle_params` does not run.
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
    },
    /// The view navigated during mount: answer with a redirect there.
    Redirect(String),
}

/// A dead render's outcome: `Err(message)` if the view failed or panicked.
pub(crate) type DeadOutcome = Result<Rendered, String>;

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
}

impl<V: LiveView> ErasedView for ViewEntry<V> {
    fn dead_render<'a>(&'a self, request: DeadRender<'a>) -> BoxFuture<'a, DeadOutcome> {
        Box::pin(async move {
            let mut socket = Socket::<V>::new(request.id.into(), false, None, None);
            socket.set_flash(request.flash.clone());
            callback(
                self.view
                    .mount(&mut socket, request.params, request.session),
            )
            .await?;
            if let Some(location) = redirect_of(&socket) {
                return Ok(Rendered::Redirect(location));
            }
            if !request.nested {
                callback(
                    self.view
                        .handle_params(&mut socket, request.url, request.params),
                )
                .await?;
                if let Some(location) = redirect_of(&socket) {
                    return Ok(Rendered::Redirect(location));
                }
            }
            let (mut html, children) = render_dead(&*self.view, &socket, &request)?;
            for child in children {
                let view = request.children.child(child.view).ok_or_else(|| {
                    format!(
                        "nested view {} is not registered: add it with Router::live_child",
                        child.view
                    )
                })?;
                let outcome = view
                    .dead_render(DeadRender {
                        id: &child.id,
                        url: request.url,
                        params: &Params::default(),
                        session: &child.session,
                        csrf: request.csrf,
                        flash: Flash::default(),
                        signer: request.signer,
                        max_age: request.max_age,
                        children: request.children,
                        nested: true,
                    })
                    .await
                    .map_err(|message| format!("nested view {}: {message}", child.id))?;
                // A nested view that redirects while mounting renders empty.
                let inner = match outcome {
                    Rendered::Page { html, .. } => html,
                    Rendered::Redirect(_) => String::new(),
                };
                let filled = container(&child.id, &child.token, child.parent.as_deref(), &inner);
                html = html.replacen(&child.marker, &filled, 1);
            }
            Ok(Rendered::Page {
                html,
                title: socket.take_title(),
                flash: socket.flash().clone(),
            })
        })
    }
}

/// The synchronous part of a dead render: the view's HTML (components inlined), and the
/// nested views it met (rendered into it afterwards).
fn render_dead<V: LiveView>(
    view: &V,
    socket: &Socket<V>,
    request: &DeadRender<'_>,
) -> Result<(String, Vec<PendingChild>), String> {
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
    let rendered = catch_sync(|| {
        let rendered = view.render(socket.context(), &meta);
        crate::component::flush(&components, &meta);
        rendered
    })?;
    let registry = components.into_inner();
    let mut html = String::with_capacity(4096);
    rendered.write_html_with(&mut html, &mut |cid, out| registry.write_html(cid, out));
    let children = nested.into_inner().take_pending();
    Ok((html, children))
}

fn redirect_of<V: LiveView>(socket: &Socket<V>) -> Option<String> {
    match socket.navigation()? {
        Navigation::Redirect { to }
        | Navigation::LiveRedirect { to, .. }
        | Navigation::Patch { to, .. } => Some(to.clone()),
    }
}
