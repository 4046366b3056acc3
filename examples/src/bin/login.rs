//! The login example on its own: `cargo run -p examples --bin login-app`, then open
//! <http://127.0.0.1:4001/account>. The whole program an application writes to add login.

use liveview_core::{Endpoint, Router};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let router = examples::auth::live_routes(Router::new(), examples::auth::Users::demo());
    let endpoint = Endpoint::builder(router).random_secret_key().build()?;
    let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/../js/dist");
    let (app, live) = examples::web::app(endpoint, assets.into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:4001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    examples::web::serve(listener, app, live, liveview_hyper::shutdown_signal()).await?;
    Ok(())
}
