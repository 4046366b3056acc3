//! What every connection and view of an endpoint shares, and the narrow traits through which
//! the runtime reaches the routes and the views, so that it depends on neither the router nor
//! the endpoint (they depend on it).

use std::sync::Arc;

use liveview_pubsub::PubSub;
use liveview_upload::UploadStorage;

use super::message::Mailbox;
use super::transport::Transport;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::hooks::ConnectInfo;
use crate::live_session::LiveSession;
use crate::socket::Flash;
use crate::token::Signer;
use crate::view::{Params, Session, Url};

/// The endpoint's parts the runtime uses.
pub(crate) struct Shared {
    pub(crate) routes: Arc<dyn Routes>,
    pub(crate) signer: Signer,
    pub(crate) config: Config,
    pub(crate) pubsub: Arc<dyn PubSub>,
    /// Where uploads go when their config names no storage.
    pub(crate) upload_storage: Arc<dyn UploadStorage>,
}

/// The routes, as the runtime needs them (implemented by [`Router`](crate::Router)).
pub(crate) trait Routes: Send + Sync + 'static {
    /// The route of `path` (no query string): its pattern, view and path parameters.
    fn find_route(&self, path: &str) -> Option<RouteMatch<'_>>;

    /// Whether two route patterns are routed and belong to the same live session.
    fn same_session(&self, a: &str, b: &str) -> bool;

    /// The nested view registered under `key` (its type name): the key, the view, and the
    /// live session nested views join in (no `on_mount` hooks).
    fn find_child(&self, key: &str) -> Option<(&str, &dyn Joinable, &Arc<LiveSession>)>;
}

/// A routed path.
pub(crate) struct RouteMatch<'a> {
    pub(crate) pattern: &'a str,
    pub(crate) view: &'a dyn Joinable,
    pub(crate) params: Params,
    pub(crate) live_session: &'a Arc<LiveSession>,
    pub(crate) action: Option<&'a Arc<str>>,
}

/// A view the runtime can run: implemented by the type-erased view entries of the router.
pub(crate) trait Joinable: Send + Sync + 'static {
    /// Creates the view for a verified join, its mount queued (run it to mount and answer
    /// the join); returns its cell.
    fn join(&self, join: Join) -> Mailbox;

    /// The view's type: a patch moves between routes of the same view type (and live
    /// session) without a remount.
    fn view_type(&self) -> std::any::TypeId;
}

/// A verified join, handed to the view's task.
pub(crate) struct Join {
    pub(crate) shared: Arc<Shared>,
    pub(crate) topic: Arc<str>,
    pub(crate) join_ref: Arc<str>,
    pub(crate) msg_ref: Option<String>,
    pub(crate) id: Arc<str>,
    pub(crate) route: String,
    pub(crate) url: Url,
    pub(crate) params: Params,
    pub(crate) session: Session,
    pub(crate) csrf: String,
    pub(crate) flash: Flash,
    pub(crate) out: Arc<dyn Transport>,
    /// The route's live session (its `on_mount` hooks) and action.
    pub(crate) live_session: Arc<LiveSession>,
    pub(crate) action: Option<Arc<str>>,
    /// The join's params (the client's connect params).
    pub(crate) connect_params: Arc<Map<String, Value>>,
    /// What the transport knows about the client.
    pub(crate) connect_info: Option<Arc<ConnectInfo>>,
    /// A nested view: mounted without `handle_params`, and it cannot patch the URL.
    pub(crate) nested: bool,
}
