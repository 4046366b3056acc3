//! [`LiveService`] as a `tower::Service`, so it mounts in axum and other tower stacks.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::{Request, Response};

use crate::LiveService;

/// `LiveService` answers any request (its body is read only by plain routes); it is always
/// ready. In axum: `Router::new().route("/login", post(login)).fallback_service(live)`.
///
/// ```
/// use tower_service::Service;
/// # let endpoint = liveview_core::Endpoint::builder(liveview_core::Router::new())
/// #     .random_secret_key().build().unwrap();
/// let mut live = liveview_hyper::LiveService::new(endpoint);
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let request = hyper::Request::get("/nowhere").body(http_body_util::Empty::<bytes::Bytes>::new()).unwrap();
/// let response = live.call(request).await.unwrap();
/// assert_eq!(response.status(), 404);
/// # });
/// ```
impl<B> tower_service::Service<Request<B>> for LiveService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}
