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

    fn has_topic(&self, topic: &str) -> bool {
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

    /// Creates a backend (queues of `capacity` messages each) that calls `on_topic_removed`
    /// with a topic whose last subscription was just dropped, outside any lock.
    ///
    /// This is the building block of a backend of your own: hand out this backend's
    /// [`Subscription`]s from your [`PubSub::subscribe`] (subscribing upstream on a topic's
    /// first subscriber), deliver what arrives from upstream with
    /// [`publish_now`](Self::publish_now), and unsubscribe upstream from the hook — which is
    /// how the trait's promise to release a topic's resources is kept. The Redis backend is
    /// built this way.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use liveview_pubsub::LocalPubSub;
    ///
    /// let removed = Arc::new(Mutex::new(Vec::new()));
    /// let seen = removed.clone();
    /// let local = LocalPubSub::with_topic_hook(16, move |topic| {
    ///     seen.lock().unwrap().push(topic.to_owned());
    /// });
    /// let first = local.subscribe_now("room");
    /// let second = local.subscribe_now("room");
    /// drop(first);
    /// assert!(removed.lock().unwrap().is_empty(), "one subscription is left");
    /// drop(second);
    /// assert_eq!(*removed.lock().unwrap(), ["room"]);
    /// ```
    pub fn with_topic_hook(
        capacity: usize,
        on_topic_removed: impl Fn(&str) + Send + Sync + 'static,
    ) -> Self {
        Self::with_hook(capacity, Some(Box::new(on_topic_removed)))
    }

    fn with_hook(capacity: usize, on_topic_removed: Option<TopicRemovedHook>) -> Self {
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

    /// Whether `topic` has at least one subscription.
    pub fn has_topic(&self, topic: &str) -> bool {
        self.registry.has_topic(topic)
    }

    /// A handle that does not keep the backend alive (for background tasks: once every
    /// [`LocalPubSub`] handle is gone, [`WeakLocalPubSub::upgrade`] returns `None`).
    pub fn downgrade(&self) -> WeakLocalPubSub {
        WeakLocalPubSub(Arc::downgrade(&self.registry))
    }
}

/// A weak handle to a [`LocalPubSub`], from [`LocalPubSub::downgrade`].
#[derive(Clone)]
pub struct WeakLocalPubSub(std::sync::Weak<Registry>);

impl WeakLocalPubSub {
    /// The backend, if a [`LocalPubSub`] handle to it is still alive.
    pub fn upgrade(&self) -> Option<LocalPubSub> {
        self.0.upgrade().map(|registry| LocalPubSub { registry })
    }
}

impl fmt::Debug for WeakLocalPubSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakLocalPubSub")
            .field("alive", &(self.0.strong_count() > 0))
            .finish()
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
