//! The users app on its own: `cargo run -p examples --bin login-app`, then open
//! <http://127.0.0.1:4001/account>. This `main` is the whole wiring an application writes to
//! add login: the live routes with their guards (`auth::live_routes`), the signed cookie read
//! into each page's session (`auth::session`), and its own `POST /login` and `POST /logout`
//! in axum (`auth::axum_routes`), with the live service as axum's fallback.

use examples::auth::{self, Users};
use liveview_core::{Endpoint, Router};
use liveview_hyper::{LiveService, SessionCookie};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users = Users::demo();
    let router = auth::live_routes(Router::new(), users.clone());
    let endpoint = Endpoint::builder(router).random_secret_key().build()?;
    let cookie = SessionCookie::new(auth::COOKIE, endpoint.signer().clone());
    let live = LiveService::new(endpoint)
        .assets_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../js/dist"))
        .session(auth::session(cookie.clone()));
    let app = auth::axum_routes(cookie, users, live.clone()).fallback_service(live);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:4001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(liveview_hyper::shutdown_signal())
        .await?;
    Ok(())
}
