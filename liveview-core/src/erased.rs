//! A live view with its types erased, as the router stores it: the HTTP ("dead") render
//! here, outside the socket runtime, and the join, which hands the view to the runtime.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::catch::{callback, catch_sync};
use crate::component::{ComponentScope, Registry};
use crate::runtime::{join_view, Join, Joinable, Mailbox};
use crate::socket::{Flash, Navigation, Socket};
use crate::view::{LiveView, Meta, Params, Session, Url};

/// What a dead render needs.
pub(crate) struct DeadRender<'a> {
    pub(crate) id: &'a str,
    pub(crate) url: &'a Url,
    pub(crate) params: &'a Params,
    pub(crate) session: &'a Session,
    pub(crate) csrf: &'a str,
    pub(crate) flash: Flash,
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
            callback(
                self.view
                    .handle_params(&mut socket, request.url, request.params),
            )
            .await?;
            if let Some(location) = redirect_of(&socket) {
                return Ok(Rendered::Redirect(location));
            }
            // Components get the same cids as in the join render, so their DOM ids (built from
            // `myself`) match; their HTML is inlined.
            let components = RefCell::new(Registry::detached());
            let meta = Meta {
                id: request.id,
                connected: false,
                flash: socket.flash(),
                csrf_token: request.csrf,
                uploads: socket.uploads(),
                myself: None,
                components: ComponentScope {
                    registry: Some(&components),
                },
            };
            let rendered = catch_sync(|| {
                let rendered = self.view.render(socket.context(), &meta);
                crate::component::flush(&components, &meta);
                rendered
            })?;
            let registry = components.into_inner();
            let mut html = String::with_capacity(4096);
            rendered.write_html_with(&mut html, &mut |cid, out| registry.write_html(cid, out));
            Ok(Rendered::Page {
                html,
                title: socket.take_title(),
                flash: socket.flash().clone(),
            })
        })
    }
}

fn redirect_of<V: LiveView>(socket: &Socket<V>) -> Option<String> {
    match socket.navigation()? {
        Navigation::Redirect { to }
        | Navigation::LiveRedirect { to, .. }
        | Navigation::Patch { to, .. } => Some(to.clone()),
    }
}
