//! Every example of the workspace, mounted by one server (`cargo xtask run`).
//!
//! Each module is one example; [`app`] builds the endpoint so tests can drive it without a
//! socket.

pub mod counter;
pub mod index;
pub mod table;
pub mod upload;

use std::sync::Arc;

use liveview_core::{BuildError, Endpoint, Router};

/// The router of every example.
pub fn router() -> Router {
    Router::new()
        .live("/", index::Index)
        .live("/counter", counter::Counter)
        .live("/table", table::Table)
        .live("/upload", upload::Upload)
}

/// The endpoint of every example, signing with `secret` (or a random development key).
pub fn app(secret: Option<&[u8]>) -> Result<Arc<Endpoint>, BuildError> {
    let builder = Endpoint::builder(router());
    match secret {
        Some(secret) => builder.secret_key(secret),
        None => builder.random_secret_key(),
    }
    .build()
}
