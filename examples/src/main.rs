//! The examples server: `cargo xtask run` (or `cargo run -p examples`), then open
//! <http://127.0.0.1:4000>.
//!
//! Environment:
//!
//! * `PORT`: the port (default 4000; `0` picks a free one).
//! * `SECRET_KEY`: the signing key (a random development key is generated otherwise; nodes
//!   behind one load balancer must share one).
//! * `REDIS_URL`: when set (`redis://127.0.0.1:6379`), pub/sub and presence go through that
//!   Redis, so several servers form one cluster (`cargo xtask run --nodes 2`); otherwise
//!   they are in-process. The log says which.
//! * `REDIS_PREFIX`: the prefix of the Redis channels (default `liveview-examples:`).
//! * `NODE_NAME`: this node's name in presence (default: random).

use std::path::PathBuf;
use std::sync::Arc;

use examples::Node;
use liveview_core::pubsub::{LocalPubSub, PubSub, RedisPubSub};
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
    let name = std::env::var("NODE_NAME").unwrap_or_else(|_| examples::random_name());
    let pubsub: Arc<dyn PubSub> = match std::env::var("REDIS_URL") {
        Ok(url) => {
            let prefix =
                std::env::var("REDIS_PREFIX").unwrap_or_else(|_| "liveview-examples:".to_owned());
            let redis = RedisPubSub::builder(url.as_str())
                .prefix(prefix.as_str())
                .connect()
                .await
                .map_err(|err| format!("cannot connect to REDIS_URL={}: {err}", redact(&url)))?;
            tracing::info!(
                redis = %redact(&url),
                prefix,
                node = name,
                "pub/sub: Redis (REDIS_URL is set): nodes sharing it form one cluster"
            );
            Arc::new(redis)
        }
        Err(_) => {
            tracing::info!(
                node = name,
                "pub/sub: in-process (set REDIS_URL to share it between nodes)"
            );
            Arc::new(LocalPubSub::new())
        }
    };
    let node = Node::new(&name, pubsub);
    let endpoint = examples::app_with(secret.as_deref().map(str::as_bytes), &node)?;
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
    // axum serves the login routes; the live service is its fallback.
    let (app, live) = examples::web::app(endpoint, assets);
    examples::web::serve(listener, app, live, liveview_hyper::shutdown_signal()).await?;
    // The sockets are closed: tell the other nodes this node's users left, rather than
    // letting them wait for the presence TTL.
    node.presence.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// `url` without its password (`redis://user:secret@host` becomes `redis://user:…@host`).
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:…@{host}"),
        None => url.to_owned(),
    }
}
