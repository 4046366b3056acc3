//! [`LocalPubSub`]: the in-process backend, also used by the Redis backend
//! for fan-out to the subscribers of this node.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::subscription::Subscription;
use crate::{BoxFuture, PubSub, Result};

/// Default capacity of each subscription's queue, in messages.
pub const DEFAULT_CAPACITY: usize = 256;

/// Called (outside the registry lock) with a topic whose last local
/// subscriber has just been dropped.
pub(crate) type TopicRemovedHook = Box<dyn Fn(&str) + Send + Sync>;

/// One subscriber's sending half.
struct Subscriber {
    id: u64,
    tx: mpsc::Sender<Bytes>,
    lagged: Arc<AtomicU64>,
}

/// Topic -> subscribers map shared by a [`LocalPubSub`] and its
/// [`Subscription`]s (which hold it weakly).
pub(crate) struct Registry {
    /// Read-locked by publishers (so they run concurrently), write-locked only
    /// to add or remove a subscriber. A topic is present iff it has at least
    /// one subscriber.
    topics: RwLock<HashMap<Box<str>, Vec<Subscriber>>>,
    capacity: usize,
    next_id: AtomicU64,
    on_topic_removed: Option<TopicRemovedHook>,
}

impl Registry {
    fn subscribe(self: &Arc<Self>, topic: &str) -> Subscription {
        let (tx, rx) = mpsc::channel(self.capacity);
        let lagged = Arc::new(AtomicU64::new(0));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let subscriber = Subscriber {
            id,
            tx,
            lagged: Arc::clone(&lagged),
        };
        {
            let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
            match topics.get_mut(topic) {
                Some(subscribers) => subscribers.push(subscriber),
                None => {
                    topics.insert(topic.into(), vec![subscriber]);
                }
            }
        }
        Subscription::new(topic, id, rx, lagged, Arc::downgrade(self))
    }

    /// Removes one subscriber; removes the topic when it was the last one.
    pub(crate) fn unsubscribe(&self, topic: &str, id: u64) {
        let topic_removed = {
            let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
            let Some(subscribers) = topics.get_mut(topic) else {
                return;
            };
            if let Some(index) = subscribers.iter().position(|s| s.id == id) {
                subscribers.swap_remove(index);
            }
            if subscribers.is_empty() {
                topics.remove(topic);
                true
            } else {
                false
            }
        };
        if topic_removed {
            if let Some(hook) = &self.on_topic_removed {
                hook(topic);
            }
        }
    }

    /// Queues `message` for every subscriber of `topic` without waiting.
    /// Returns the number of subscribers it was queued for.
    pub(crate) fn deliver(&self, topic: &str, message: &Bytes) -> usize {
        let topics = self.topics.read().unwrap_or_else(PoisonError::into_inner);
        let Some(subscribers) = topics.get(topic) else {
            return 0;
        };
        let mut delivered = 0;
        for subscriber in subscribers {
            match subscriber.tx.try_send(message.clone()) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    let dropped = subscriber.lagged.fetch_add(1, Ordering::Relaxed) + 1;
                    if dropped.is_power_of_two() {
                        tracing::warn!(
                            topic,
                            dropped,
                            capacity = self.capacity,
                            "pub/sub subscriber is too slow: its queue is full, message dropped"
                        );
                    }
                }
                // The receiver is being dropped; its `Drop` removes the entry.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        delivered
    }

    #[cfg(feature = "redis")]
    pub(crate) fn has_topic(&self, topic: &str) -> bool {
        self.topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(topic)
    }

    pub(crate) fn topics(&self) -> Vec<String> {
        self.topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .map(|t| t.to_string())
            .collect()
    }

    fn topic_count(&self) -> usize {
        self.topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn subscriber_count(&self, topic: &str) -> usize {
        self.topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
            .map_or(0, Vec::len)
    }
}

/// The in-process [`PubSub`] backend: messages reach the subscribers of the
/// same process only. This is the default backend.
///
/// It is a `RwLock<HashMap<topic, Vec<subscriber>>>` where each subscriber
/// has its own bounded [`tokio::sync::mpsc`] queue:
///
/// * memory is proportional to the number of live subscriptions (an idle
///   topic costs one map entry; a topic without subscribers costs nothing),
/// * publishing takes a shared read lock, clones the [`Bytes`] handle (a
///   reference-count increment, not a copy) into each subscriber queue, and
///   never waits — see [`Subscription`] for the slow-subscriber policy,
/// * publishing on a topic without subscribers is a cheap no-op that
///   returns `Ok(())`.
///
/// `LocalPubSub` is a cheap handle: clones share the same topics. Keep at
/// least one handle alive while subscriptions are in use; once every handle
/// is dropped, [`Subscription::recv`] returns `None`.
///
/// ```
/// use bytes::Bytes;
/// use liveview_pubsub::{LocalPubSub, PubSub};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> liveview_pubsub::Result<()> {
/// let pubsub = LocalPubSub::new();
/// let mut sub = pubsub.subscribe("room:1").await?;
/// pubsub.publish("room:1", Bytes::from_static(b"hi")).await?;
/// assert_eq!(sub.recv().await.as_deref(), Some(&b"hi"[..]));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct LocalPubSub {
    registry: Arc<Registry>,
}

impl LocalPubSub {
    /// Creates a backend whose subscriptions queue up to
    /// [`DEFAULT_CAPACITY`] messages each.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// Creates a backend whose subscriptions queue up to `capacity` messages
    /// each (at least 1). Queue memory is allocated as messages arrive, not
    /// up front.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_hook(capacity, None)
    }

    pub(crate) fn with_hook(capacity: usize, on_topic_removed: Option<TopicRemovedHook>) -> Self {
        Self {
            registry: Arc::new(Registry {
                topics: RwLock::new(HashMap::new()),
                capacity: capacity.max(1),
                next_id: AtomicU64::new(0),
                on_topic_removed,
            }),
        }
    }

    /// Subscribes synchronously (the [`PubSub::subscribe`] future does
    /// nothing more).
    pub fn subscribe_now(&self, topic: &str) -> Subscription {
        self.registry.subscribe(topic)
    }

    /// Publishes synchronously (the [`PubSub::publish`] future does nothing
    /// more). Returns how many subscriptions the message was queued for
    /// (subscriptions whose queue was full are not counted).
    pub fn publish_now(&self, topic: &str, message: Bytes) -> usize {
        self.registry.deliver(topic, &message)
    }

    /// Number of topics that currently have at least one subscription.
    pub fn topic_count(&self) -> usize {
        self.registry.topic_count()
    }

    /// The topics that currently have at least one subscription, in no
    /// particular order.
    pub fn topics(&self) -> Vec<String> {
        self.registry.topics()
    }

    /// Number of live subscriptions on `topic`.
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.registry.subscriber_count(topic)
    }

    /// The capacity of each subscription's queue.
    pub fn capacity(&self) -> usize {
        self.registry.capacity
    }

    #[cfg(feature = "redis")]
    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }
}

impl Default for LocalPubSub {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LocalPubSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalPubSub")
            .field("topics", &self.topic_count())
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl PubSub for LocalPubSub {
    fn publish<'a>(&'a self, topic: &'a str, message: Bytes) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.publish_now(topic, message);
            Ok(())
        })
    }

    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<Subscription>> {
        Box::pin(async move { Ok(self.subscribe_now(topic)) })
    }
}

/// A weak handle to a registry, for background tasks that must not keep the
/// backend alive.
#[cfg(feature = "redis")]
pub(crate) type WeakRegistry = std::sync::Weak<Registry>;
