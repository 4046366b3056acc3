//! Plain (non-live) routes beside the live ones: a health check, a login `POST`, a plain page.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;
use hyper::{Method, Request, Response, StatusCode};

/// The largest request body a plain route receives (1 MiB); a larger one is answered `413`.
pub const MAX_PLAIN_BODY: usize = 1 << 20;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A plain route's handler, type-erased.
pub(crate) type Handler =
    Arc<dyn Fn(Request<Bytes>) -> BoxFuture<Response<Full<Bytes>>> + Send + Sync>;

/// A plain route: a method and an exact path.
#[derive(Clone)]
pub(crate) struct PlainRoute {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) handler: Handler,
}

impl std::fmt::Debug for PlainRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

pub(crate) fn handler<F, Fut>(handler: F) -> Handler
where
    F: Fn(Request<Bytes>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    Arc::new(move |request| Box::pin(handler(request)))
}

/// Answers `request` with `route`: the body is read whole (at most [`MAX_PLAIN_BODY`]).
pub(crate) async fn call<B>(route: &PlainRoute, request: Request<B>) -> Response<Full<Bytes>>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_PLAIN_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return crate::service::text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
        }
    };
    (route.handler)(Request::from_parts(parts, body)).await
}
