//! The examples server: `cargo xtask run` (or `cargo run -p examples`), then open
//! <http://127.0.0.1:4000>. `PORT` overrides the port (`0` picks a free one); `SECRET_KEY` sets
//! the signing key (a random development key is generated otherwise).

use std::path::PathBuf;

use liveview_hyper::LiveService;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,liveview=debug")),
        )
        .init();
    let secret = std::env::var("SECRET_KEY").ok();
    if secret.is_none() {
        tracing::warn!("SECRET_KEY is not set: using a random development key");
    }
    let endpoint = examples::app(secret.as_deref().map(str::as_bytes))?;
    let assets = std::env::var_os("ASSETS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../js/dist"));
    if !assets.join("app.js").exists() {
        tracing::warn!(dir = %assets.display(), "app.js is missing: run `cargo xtask assets`");
    }
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    println!("listening on http://{address}");
    liveview_hyper::serve(listener, LiveService::new(endpoint).assets_dir(assets)).await?;
    Ok(())
}
