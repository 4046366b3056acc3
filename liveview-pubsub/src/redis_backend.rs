//! [`RedisPubSub`]: the multi-node backend (feature `redis`).

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub as RedisConn, PubSubSink};
use redis::{Client, IntoConnectionInfo, RedisError};
use tokio::sync::{mpsc, oneshot};

use crate::local::{LocalPubSub, WeakLocalPubSub};
use crate::subscription::Subscription;
use crate::{BoxFuture, Error, PubSub, Result, DEFAULT_CAPACITY};

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_MIN_BACKOFF: Duration = Duration::from_millis(100);
const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Capacity of the queue of (un)subscribe requests to the connection task.
const COMMAND_QUEUE: usize = 1024;
/// How often the connection task makes sure it unsubscribed every topic that lost its last
/// local subscriber while the request queue was full.
const RECONCILE_INTERVAL: Duration = Duration::from_secs(1);

/// A [`PubSub`] backend shared by every node connected to the same Redis
/// server: a message published on any node reaches the subscribers of every
/// node, including the publishing one.
///
/// # Connections
///
/// * One dedicated pub/sub connection per `RedisPubSub` (per node) carries
///   all of the node's subscriptions. A topic is `SUBSCRIBE`d once when its
///   first local subscription is created and `UNSUBSCRIBE`d when its last
///   local subscription is dropped; messages are fanned out locally by a
///   [`LocalPubSub`] (same bounded-queue policy, see [`Subscription`]).
///   (Un)subscribe requests reach the connection's task through a bounded
///   queue (1,024): `subscribe` waits for room; when the last subscription of
///   a topic is dropped and the queue is full, the task finds the topic
///   within a second and unsubscribes it.
/// * One multiplexed connection (a Redis `ConnectionManager`, which
///   reconnects by itself) carries `PUBLISH`. A failed publish returns
///   [`Error::Redis`]; it is not retried.
///
/// # Failures
///
/// If the pub/sub connection drops, a background task reconnects with
/// exponential backoff (with jitter, between the builder's `min` and `max`)
/// and resubscribes every topic that still has local subscribers. Existing
/// [`Subscription`]s survive the outage; messages published while the node
/// was disconnected are lost for it (Redis pub/sub is at-most-once).
/// `subscribe` during an outage succeeds: the topic is subscribed when the
/// connection is back. `subscribe` fails if Redis rejects the `SUBSCRIBE`
/// (for example an ACL error).
///
/// # Topics and prefix
///
/// The Redis channel of a topic is `prefix + topic`. Use a prefix (for
/// example `"myapp:"`) to share one Redis between applications or
/// environments; nodes must use the same prefix to see each other's messages.
///
/// `RedisPubSub` is a cheap handle: clones share the connections. Once every
/// handle is dropped the connections are closed and [`Subscription::recv`]
/// returns `None`. It must be created and used inside a Tokio runtime.
///
/// ```no_run
/// use bytes::Bytes;
/// use liveview_pubsub::{PubSub, RedisPubSub};
///
/// # async fn run() -> liveview_pubsub::Result<()> {
/// let pubsub = RedisPubSub::builder("redis://127.0.0.1:6379")
///     .prefix("myapp:")
///     .connect()
///     .await?;
/// let mut sub = pubsub.subscribe("room:1").await?;
/// pubsub.publish("room:1", Bytes::from_static(b"hi")).await?;
/// assert_eq!(sub.recv().await.as_deref(), Some(&b"hi"[..]));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisPubSub {
    shared: Arc<Shared>,
}

struct Shared {
    local: LocalPubSub,
    publisher: ConnectionManager,
    commands: mpsc::Sender<Command>,
    prefix: Box<str>,
}

/// Sent to the connection task.
struct Command {
    /// Make Redis' subscription state of `topic` match the local registry.
    topic: String,
    /// Answered once done (for `subscribe`); `None` when a topic's last
    /// subscriber was dropped.
    ack: Option<oneshot::Sender<Result<()>>>,
}

impl RedisPubSub {
    /// Connects with the default settings (no prefix). Equivalent to
    /// `RedisPubSub::builder(url).connect()`.
    ///
    /// `url` is anything the `redis` crate accepts, e.g.
    /// `"redis://127.0.0.1:6379"`, `"redis://:password@host/0"` or a
    /// `redis::ConnectionInfo`. Fails if Redis cannot be reached.
    pub async fn connect<T: IntoConnectionInfo>(url: T) -> Result<Self> {
        Self::builder(url).connect().await
    }

    /// Starts configuring a connection to `url` (see [`connect`](Self::connect)).
    pub fn builder<T: IntoConnectionInfo>(url: T) -> RedisPubSubBuilder {
        RedisPubSubBuilder {
            url: url.into_connection_info(),
            prefix: String::new(),
            capacity: DEFAULT_CAPACITY,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            min_backoff: DEFAULT_MIN_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
        }
    }

    /// The prefix prepended to topics to form Redis channel names.
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// Number of topics with at least one subscription on this node (each is
    /// one Redis `SUBSCRIBE` while connected).
    pub fn topic_count(&self) -> usize {
        self.shared.local.topic_count()
    }

    /// Number of live subscriptions on `topic` on this node.
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.shared.local.subscriber_count(topic)
    }
}

impl fmt::Debug for RedisPubSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPubSub")
            .field("prefix", &self.shared.prefix)
            .field("local", &self.shared.local)
            .finish_non_exhaustive()
    }
}

impl PubSub for RedisPubSub {
    fn publish<'a>(&'a self, topic: &'a str, message: Bytes) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut conn = self.shared.publisher.clone();
            let channel = channel_name(&self.shared.prefix, topic);
            let _receivers: i64 = redis::cmd("PUBLISH")
                .arg(channel)
                .arg(&message[..])
                .query_async(&mut conn)
                .await?;
            Ok(())
        })
    }

    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<Subscription>> {
        Box::pin(async move {
            // Register locally first: if the future is dropped half-way, the
            // subscription's `Drop` cleans up (and unsubscribes in Redis).
            let subscription = self.shared.local.subscribe_now(topic);
            let (ack, done) = oneshot::channel();
            self.shared
                .commands
                .send(Command {
                    topic: topic.to_owned(),
                    ack: Some(ack),
                })
                .await
                .map_err(|_| Error::Closed)?;
            done.await.map_err(|_| Error::Closed)??;
            Ok(subscription)
        })
    }
}

/// Configures a [`RedisPubSub`]; created by [`RedisPubSub::builder`].
#[derive(Debug)]
pub struct RedisPubSubBuilder {
    url: redis::RedisResult<redis::ConnectionInfo>,
    prefix: String,
    capacity: usize,
    connect_timeout: Duration,
    response_timeout: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
}

impl RedisPubSubBuilder {
    /// Namespace: the Redis channel of topic `t` is `prefix + t`. Default: no
    /// prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Capacity of each local subscription's queue (see [`Subscription`]).
    /// Default: [`DEFAULT_CAPACITY`].
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Timeout of each connection attempt. Default: 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Timeout of each `PUBLISH`, `SUBSCRIBE` and `UNSUBSCRIBE`. Default: 5 s.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Delay before reconnecting the pub/sub connection: starts at `min`,
    /// doubles after each failed attempt up to `max`, with jitter. Default:
    /// 100 ms to 5 s.
    pub fn reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self
    }

    /// Connects both connections and starts the background task. Fails if
    /// Redis cannot be reached within the connect timeout.
    pub async fn connect(self) -> Result<RedisPubSub> {
        let client = Client::open(self.url?)?;
        let pubsub_conn = open_pubsub(&client, self.connect_timeout).await?;
        let publisher = ConnectionManager::new_with_config(
            client.clone(),
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(self.connect_timeout))
                .set_response_timeout(Some(self.response_timeout))
                .set_number_of_retries(2)
                .set_max_delay(self.max_backoff),
        )
        .await?;

        // Bounded: `subscribe` waits for room; a dropped last subscription (which cannot wait)
        // flags a reconciliation instead when the queue is full.
        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let hook_commands = commands.clone();
        let reconcile = Arc::new(AtomicBool::new(false));
        let hook_reconcile = reconcile.clone();
        let local = LocalPubSub::with_topic_hook(self.capacity, move |topic: &str| {
            let command = Command {
                topic: topic.to_owned(),
                ack: None,
            };
            // Closed only when the task is gone, and then there is nothing left to
            // unsubscribe; full: the task reconciles within `RECONCILE_INTERVAL`.
            if let Err(mpsc::error::TrySendError::Full(_)) = hook_commands.try_send(command) {
                hook_reconcile.store(true, Ordering::Release);
            }
        });
        let prefix: Box<str> = self.prefix.into();
        let task = ConnectionTask {
            client,
            registry: local.downgrade(),
            commands: receiver,
            reconcile,
            prefix: prefix.clone(),
            connect_timeout: self.connect_timeout,
            response_timeout: self.response_timeout,
            min_backoff: self.min_backoff,
            max_backoff: self.max_backoff,
        };
        tokio::spawn(task.run(pubsub_conn));

        Ok(RedisPubSub {
            shared: Arc::new(Shared {
                local,
                publisher,
                commands,
                prefix,
            }),
        })
    }
}

fn channel_name(prefix: &str, topic: &str) -> String {
    let mut channel = String::with_capacity(prefix.len() + topic.len());
    channel.push_str(prefix);
    channel.push_str(topic);
    channel
}

async fn open_pubsub(client: &Client, timeout: Duration) -> Result<RedisConn> {
    match tokio::time::timeout(timeout, client.get_async_pubsub()).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(RedisError::from(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("connecting to redis timed out after {timeout:?}"),
        ))
        .into()),
    }
}

/// Whether the pub/sub connection must be re-established after `err`.
fn is_connection_error(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || err.is_unrecoverable_error()
}

/// How a connected session ended.
enum SessionEnd {
    /// Every handle is gone: stop.
    Shutdown,
    /// The connection failed: reconnect.
    Disconnected,
}

/// Owns the node's pub/sub connection; runs until every handle is dropped.
struct ConnectionTask {
    client: Client,
    registry: WeakLocalPubSub,
    commands: mpsc::Receiver<Command>,
    /// Set when a topic's unsubscribe request did not fit in the queue.
    reconcile: Arc<AtomicBool>,
    prefix: Box<str>,
    connect_timeout: Duration,
    response_timeout: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
}

impl ConnectionTask {
    async fn run(mut self, first: RedisConn) {
        let mut conn = Some(first);
        let mut backoff = self.min_backoff;
        loop {
            if let Some(c) = conn.take() {
                let connected_at = tokio::time::Instant::now();
                match self.session(c).await {
                    SessionEnd::Shutdown => return,
                    SessionEnd::Disconnected => {
                        // A session that lasted a while resets the backoff.
                        if connected_at.elapsed() > self.max_backoff {
                            backoff = self.min_backoff;
                        }
                    }
                }
            }
            let delay = jitter(backoff);
            tracing::debug!(?delay, "redis pub/sub: reconnecting after delay");
            if !self.wait(delay).await {
                return;
            }
            backoff = (backoff * 2).min(self.max_backoff);
            match open_pubsub(&self.client, self.connect_timeout).await {
                Ok(c) => {
                    tracing::info!("redis pub/sub: reconnected");
                    conn = Some(c);
                }
                Err(err) => tracing::warn!(%err, "redis pub/sub: reconnect failed"),
            }
        }
    }

    /// Sleeps for `delay` while answering `subscribe` calls (their topics are
    /// subscribed on reconnect). Returns `false` on shutdown.
    async fn wait(&mut self, delay: Duration) -> bool {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                command = self.commands.recv() => match command {
                    Some(command) => {
                        if let Some(ack) = command.ack {
                            let _ = ack.send(Ok(()));
                        }
                    }
                    None => return false,
                },
            }
        }
    }

    async fn session(&mut self, conn: RedisConn) -> SessionEnd {
        let (mut sink, mut stream) = conn.split();
        let mut subscribed = HashSet::new();

        // (Re)subscribe every topic that has local subscribers.
        let Some(registry) = self.registry.upgrade() else {
            return SessionEnd::Shutdown;
        };
        let topics = registry.topics();
        drop(registry);
        if !topics.is_empty() {
            let channels: Vec<String> = topics
                .iter()
                .map(|t| channel_name(&self.prefix, t))
                .collect();
            match self.with_timeout(sink.subscribe(channels)).await {
                Ok(()) => {
                    tracing::debug!(topics = topics.len(), "redis pub/sub: (re)subscribed");
                    subscribed.extend(topics);
                }
                Err(err) if is_connection_error(&err) => {
                    tracing::warn!(%err, "redis pub/sub: resubscribing failed");
                    return SessionEnd::Disconnected;
                }
                // Redis rejected some topic (e.g. ACL): subscribe one by
                // one to keep the others.
                Err(_) => {
                    for topic in topics {
                        match self.sync_topic(&mut sink, &mut subscribed, &topic).await {
                            Ok(()) => {}
                            Err(err) if is_connection_error(&err) => {
                                tracing::warn!(%err, "redis pub/sub: resubscribing failed");
                                return SessionEnd::Disconnected;
                            }
                            Err(err) => {
                                tracing::warn!(%err, topic, "redis pub/sub: SUBSCRIBE rejected");
                            }
                        }
                    }
                }
            }
        }

        let mut reconcile = tokio::time::interval(RECONCILE_INTERVAL);
        reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = reconcile.tick() => {
                    if !self.reconcile.swap(false, Ordering::AcqRel) {
                        continue;
                    }
                    // Some unsubscribe requests did not fit in the queue: unsubscribe every
                    // topic that has no local subscriber any more.
                    let topics: Vec<String> = subscribed.iter().cloned().collect();
                    for topic in topics {
                        match self.sync_topic(&mut sink, &mut subscribed, &topic).await {
                            Ok(()) => {}
                            Err(err) if is_connection_error(&err) => {
                                tracing::warn!(%err, "redis pub/sub: connection lost");
                                return SessionEnd::Disconnected;
                            }
                            Err(err) => {
                                tracing::warn!(%err, topic, "redis pub/sub: UNSUBSCRIBE failed");
                            }
                        }
                    }
                }
                message = stream.next() => {
                    let Some(message) = message else {
                        tracing::warn!("redis pub/sub: connection lost");
                        return SessionEnd::Disconnected;
                    };
                    let Some(registry) = self.registry.upgrade() else {
                        return SessionEnd::Shutdown;
                    };
                    if let Some(topic) = message.get_channel_name().strip_prefix(&*self.prefix) {
                        registry.publish_now(topic, Bytes::copy_from_slice(message.get_payload_bytes()));
                    }
                }
                command = self.commands.recv() => {
                    let Some(command) = command else {
                        return SessionEnd::Shutdown;
                    };
                    let result = self.sync_topic(&mut sink, &mut subscribed, &command.topic).await;
                    let disconnected = matches!(&result, Err(err) if is_connection_error(err));
                    if let Some(ack) = command.ack {
                        // While disconnected, the topic is subscribed on
                        // reconnect: report success.
                        let _ = ack.send(if disconnected { Ok(()) } else { result.map_err(Into::into) });
                    } else if let Err(err) = &result {
                        if !disconnected {
                            tracing::warn!(%err, topic = command.topic, "redis pub/sub: UNSUBSCRIBE failed");
                        }
                    }
                    if disconnected {
                        tracing::warn!("redis pub/sub: connection lost");
                        return SessionEnd::Disconnected;
                    }
                }
            }
        }
    }

    /// Subscribes or unsubscribes `topic` so that Redis' state matches
    /// whether it has local subscribers now. Idempotent, so commands racing
    /// with new subscriptions or drops are harmless.
    async fn sync_topic(
        &self,
        sink: &mut PubSubSink,
        subscribed: &mut HashSet<String>,
        topic: &str,
    ) -> redis::RedisResult<()> {
        let wanted = self
            .registry
            .upgrade()
            .is_some_and(|registry| registry.has_topic(topic));
        let channel = channel_name(&self.prefix, topic);
        match (wanted, subscribed.contains(topic)) {
            (true, false) => {
                self.with_timeout(sink.subscribe(&channel)).await?;
                subscribed.insert(topic.to_owned());
            }
            (false, true) => {
                self.with_timeout(sink.unsubscribe(&channel)).await?;
                subscribed.remove(topic);
            }
            _ => {}
        }
        Ok(())
    }

    async fn with_timeout(
        &self,
        fut: impl std::future::Future<Output = redis::RedisResult<()>>,
    ) -> redis::RedisResult<()> {
        match tokio::time::timeout(self.response_timeout, fut).await {
            Ok(result) => result,
            Err(_) => Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "redis pub/sub command timed out",
            ))),
        }
    }
}

/// A random delay between `delay / 2` and `delay`, so that nodes do not
/// reconnect in lockstep.
fn jitter(delay: Duration) -> Duration {
    let random = RandomState::new().hash_one(std::time::SystemTime::now());
    let half = delay / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(if nanos == 0 { 0 } else { random % nanos })
}
