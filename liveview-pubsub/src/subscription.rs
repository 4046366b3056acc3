//! [`Subscription`]: the receiving end of a topic subscription.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::local::Registry;
use crate::Result;

/// A live subscription to one topic, returned by
/// [`PubSub::subscribe`](crate::PubSub::subscribe).
///
/// Messages published on the topic after `subscribe` returned are queued for
/// this subscription and read with [`recv`](Self::recv).
///
/// # Unsubscribing
///
/// Dropping the `Subscription` unsubscribes. When the last subscription of a
/// topic is dropped the topic's entry is removed from the backend (and, for
/// `RedisPubSub`, the node sends `UNSUBSCRIBE`), so
/// short-lived topics do not leak memory.
///
/// # Slow subscribers
///
/// Each subscription has its own bounded queue (see
/// [`LocalPubSub::with_capacity`](crate::LocalPubSub::with_capacity)).
/// Publishing never waits for a subscriber: if a subscription's queue is full
/// the new message is **dropped for that subscription only**, its
/// [`lagged`](Self::lagged) counter is incremented, and a `tracing` warning is
/// logged (on the 1st, 2nd, 4th, 8th, ... drop, to avoid flooding logs).
/// Other subscribers of the topic are unaffected. Messages that were queued
/// are delivered in publish order.
pub struct Subscription {
    topic: Box<str>,
    id: u64,
    rx: mpsc::Receiver<Bytes>,
    lagged: Arc<AtomicU64>,
    registry: Weak<Registry>,
}

impl Subscription {
    pub(crate) fn new(
        topic: &str,
        id: u64,
        rx: mpsc::Receiver<Bytes>,
        lagged: Arc<AtomicU64>,
        registry: Weak<Registry>,
    ) -> Self {
        Self {
            topic: topic.into(),
            id,
            rx,
            lagged,
            registry,
        }
    }

    /// The topic this subscription listens to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Waits for the next message.
    ///
    /// Returns `None` once the backend is gone (every handle to the
    /// [`LocalPubSub`](crate::LocalPubSub) or
    /// `RedisPubSub` that created this subscription was
    /// dropped) and all queued messages were read.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: if it is used in `tokio::select!` and
    /// another branch completes first, no message is lost.
    pub async fn recv(&mut self) -> Option<Bytes> {
        self.rx.recv().await
    }

    /// Returns the next queued message without waiting, or `None` if the
    /// queue is currently empty (or the backend is gone).
    pub fn try_recv(&mut self) -> Option<Bytes> {
        self.rx.try_recv().ok()
    }

    /// Waits for the next message and decodes it from JSON.
    ///
    /// Returns `None` like [`recv`](Self::recv), and `Some(Err(_))` if the
    /// message is not valid JSON for `T` (the message is consumed either way).
    /// Cancel safe.
    pub async fn recv_json<T: DeserializeOwned>(&mut self) -> Option<Result<T>> {
        let bytes = self.recv().await?;
        Some(serde_json::from_slice(&bytes).map_err(Into::into))
    }

    /// How many messages were dropped for this subscription because its
    /// queue was full when they were published.
    pub fn lagged(&self) -> u64 {
        self.lagged.load(Ordering::Relaxed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            registry.unsubscribe(&self.topic, self.id);
        }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic)
            .field("id", &self.id)
            .field("queued", &self.rx.len())
            .field("lagged", &self.lagged())
            .finish_non_exhaustive()
    }
}
