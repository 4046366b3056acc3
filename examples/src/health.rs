//! `/healthz`: a health check for load balancers. It answers `200 ok` when this node can
//! render a page and reach its pub/sub backend (it publishes on it, so with Redis a lost
//! Redis connection makes it fail), and `500` otherwise.

use std::sync::Arc;

use liveview_core::pubsub::{PubSub, PubSubExt};
use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};

/// The pub/sub topic the check publishes on (nobody listens).
pub const TOPIC: &str = "healthz";

/// The health check view: holds the node's pub/sub backend (the dead render has no socket
/// backend to ask).
#[derive(Clone)]
pub struct Health {
    pubsub: Arc<dyn PubSub>,
}

impl Health {
    /// A check of `pubsub`.
    pub fn new(pubsub: Arc<dyn PubSub>) -> Self {
        Self { pubsub }
    }
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health").finish_non_exhaustive()
    }
}

impl LiveView for Health {
    type State = ();
    type Event = ();
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("ok");
        // Fails (the page answers 500) when the backend cannot take a message.
        self.pubsub.publish_json(TOPIC, &"ping").await?;
        Ok(())
    }

    fn render(&self, _state: &(), _meta: &Meta<'_>) -> Rendered {
        html! { p #health { "ok" } }
    }
}
