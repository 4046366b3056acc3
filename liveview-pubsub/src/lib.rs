//! Topic-based publish/subscribe for LiveViews.
//!
//! A LiveView subscribes to topics (for example `"chat:lobby"`); every message
//! published on a topic reaches each subscribed view's `handle_info`. With the
//! in-process backend that means every view of this process; with the Redis
//! backend, every view on every node connected to the same Redis.
//!
//! `liveview-core` depends on this crate and holds an `Arc<dyn PubSub>`;
//! applications pick the backend when building their server. Messages are
//! opaque [`Bytes`] (core puts JSON in them — see [`PubSubExt::publish_json`]
//! and [`Subscription::recv_json`]).
//!
//! # Backends
//!
//! * [`LocalPubSub`] — in-process, the default. No I/O; publishing never
//!   waits.
//! * [`RedisPubSub`] (feature `redis`) — multi-node. One dedicated Redis
//!   pub/sub connection per node carries every subscription of the node (one
//!   `SUBSCRIBE` per topic however many local subscribers it has), and a
//!   multiplexed connection carries `PUBLISH`. Reconnects with backoff and
//!   resubscribes.
//!
//! # Presence
//!
//! [`Presence`] tracks who is on a topic (a key such as a user id, with metadata) across
//! every node sharing a backend, built on the [`PubSub`] trait alone: it works the same on
//! [`LocalPubSub`] and on Redis. Each node delivers join/leave [`PresenceDiff`]s to its own
//! subscribers; a user with several entries (tabs) is one key of a [`PresenceList`]; the
//! entries of a node that stops sending heartbeats expire after a TTL.
//!
//! # Delivery and back-pressure
//!
//! Delivery is at-most-once and ordered per publisher and topic. Each
//! [`Subscription`] has a bounded queue; publishing never waits for a slow
//! subscriber: when a subscriber's queue is full the message is dropped for
//! that subscriber only and counted in [`Subscription::lagged`] (plus a
//! `tracing` warning). Dropping a [`Subscription`] unsubscribes, and a topic's
//! entry is removed when its last subscriber goes away.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//!
//! use bytes::Bytes;
//! use liveview_pubsub::{LocalPubSub, PubSub, PubSubExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> liveview_pubsub::Result<()> {
//! // What liveview-core holds; swap in a `RedisPubSub` for multi-node.
//! let pubsub: Arc<dyn PubSub> = Arc::new(LocalPubSub::new());
//!
//! let mut alice = pubsub.subscribe("chat:lobby").await?;
//! let mut bob = pubsub.subscribe("chat:lobby").await?;
//!
//! pubsub.publish("chat:lobby", Bytes::from_static(b"hello")).await?;
//! pubsub
//!     .publish_json("chat:lobby", &serde_json::json!({ "from": "carol" }))
//!     .await?;
//!
//! assert_eq!(alice.recv().await.as_deref(), Some(&b"hello"[..]));
//! assert_eq!(bob.recv().await.as_deref(), Some(&b"hello"[..]));
//! let msg: serde_json::Value = alice.recv_json().await.unwrap()?;
//! assert_eq!(msg["from"], "carol");
//!
//! drop(alice); // unsubscribes
//! drop(bob); // last subscriber: the topic entry is removed
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! | Feature | Default | Enables |
//! |---------|---------|---------|
//! | `redis` | off     | [`RedisPubSub`], the multi-node backend (uses the `redis` crate with Tokio; needs Rust 1.88) |
//!
//! Without features the crate only depends on `tokio` (`sync`, `time`, `rt`),
//! `bytes`, `serde`, `serde_json`, `thiserror` and `tracing`.
//!
#![cfg_attr(feature = "redis", doc = "[`RedisPubSub`]: crate::RedisPubSub")]
#![cfg_attr(not(feature = "redis"), doc = "[`RedisPubSub`]: crate#features")]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

mod error;
mod local;
mod presence;
#[cfg(feature = "redis")]
mod redis_backend;
mod subscription;

pub use error::{Error, Result};
pub use local::{LocalPubSub, WeakLocalPubSub, DEFAULT_CAPACITY};
pub use presence::{
    Presence, PresenceBuilder, PresenceChanges, PresenceDiff, PresenceEntry, PresenceList, Tracked,
    DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_OUTBOX_CAPACITY, DEFAULT_PREFIX, DEFAULT_TTL,
};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_backend::{RedisPubSub, RedisPubSubBuilder};
pub use subscription::Subscription;

/// A boxed, `Send` future, as returned by [`PubSub`] methods (keeps the trait
/// object safe without the `async-trait` crate).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A publish/subscribe backend.
///
/// Object safe: `liveview-core` stores an `Arc<dyn PubSub>`. Implementations
/// must deliver a message published on a topic to every [`Subscription`] of
/// that topic that existed when the message was published, must not let a
/// slow subscriber block publishers, and must release a topic's resources
/// when its last subscription is dropped.
pub trait PubSub: Send + Sync + 'static {
    /// Publishes `message` on `topic`.
    ///
    /// Succeeds even if nobody is subscribed. Resolves once the message was
    /// handed to the backend (queued for local subscribers, or accepted by
    /// Redis); it does not wait for subscribers to read it.
    fn publish<'a>(&'a self, topic: &'a str, message: Bytes) -> BoxFuture<'a, Result<()>>;

    /// Subscribes to `topic`. Messages published after the returned future
    /// resolves are delivered to the [`Subscription`]; dropping it
    /// unsubscribes.
    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<Subscription>>;
}

impl<P: PubSub + ?Sized> PubSub for Arc<P> {
    fn publish<'a>(&'a self, topic: &'a str, message: Bytes) -> BoxFuture<'a, Result<()>> {
        (**self).publish(topic, message)
    }

    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<Subscription>> {
        (**self).subscribe(topic)
    }
}

impl<P: PubSub + ?Sized> PubSub for Box<P> {
    fn publish<'a>(&'a self, topic: &'a str, message: Bytes) -> BoxFuture<'a, Result<()>> {
        (**self).publish(topic, message)
    }

    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<Subscription>> {
        (**self).subscribe(topic)
    }
}

/// Convenience methods for every [`PubSub`], including `dyn PubSub`.
pub trait PubSubExt: PubSub {
    /// Serializes `value` to JSON and publishes it on `topic`.
    ///
    /// Serialization happens before the future is returned, so `value` need
    /// not outlive it. Fails with [`Error::Json`] if serialization fails.
    fn publish_json<'a, T>(&'a self, topic: &'a str, value: &T) -> BoxFuture<'a, Result<()>>
    where
        T: Serialize + ?Sized,
    {
        match serde_json::to_vec(value) {
            Ok(json) => self.publish(topic, Bytes::from(json)),
            Err(err) => Box::pin(std::future::ready(Err(err.into()))),
        }
    }
}

impl<P: PubSub + ?Sized> PubSubExt for P {}
