//! The crate's error type.

/// Errors returned by [`PubSub`](crate::PubSub) backends and helpers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The backend has shut down (for example its background task ended), so
    /// no more messages can be published or subscribed to.
    #[error("the pub/sub backend is closed")]
    Closed,

    /// A message could not be encoded to (or decoded from) JSON.
    #[error("invalid JSON message: {0}")]
    Json(#[from] serde_json::Error),

    /// A Redis command failed (connection refused or dropped, timeout,
    /// authentication or permission error, ...).
    #[cfg(feature = "redis")]
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),

    /// Any other error from a third-party [`PubSub`](crate::PubSub)
    /// implementation.
    #[error("pub/sub backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
