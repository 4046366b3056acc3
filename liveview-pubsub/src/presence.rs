//! [`Presence`]: who is on a topic, with metadata, replicated between nodes over any
//! [`PubSub`] backend (Phoenix.Presence's model, without its CRDT).
//!
//! # How it works
//!
//! Each node (each [`Presence`]) owns the entries tracked on it and tells the others about
//! them on the pub/sub topic `prefix + topic`:
//!
//! * `join` / `leave` deltas when an entry is tracked, updated or dropped;
//! * a `heartbeat` every [`PresenceBuilder::heartbeat_interval`] for each topic it has
//!   entries on (a few bytes: the node and its latest sequence number);
//! * its full `state` for a topic when asked (`sync`), which a node does when it starts
//!   following a topic and whenever it sees that it missed a delta (a sequence gap, or a
//!   heartbeat newer than what it holds);
//! * `down` when it shuts down ([`Presence::shutdown`]).
//!
//! Every message of a node carries a sequence number from one counter per node, and each
//! delta the number of the node's previous message on that topic, so a receiver ignores what
//! it already applied and notices what it missed. Deltas that were lost (a full queue, a
//! Redis outage) are repaired by the next `state`. A node that stops sending heartbeats (it
//! died, or it is cut off) has its entries removed by every other node once
//! [`PresenceBuilder::ttl`] has passed without any message from it: they leave.
//!
//! Each node keeps the merged view of a topic (its own entries and every other node's) for
//! as long as a local view follows the topic or has entries on it, and turns every change
//! into a [`PresenceDiff`] delivered to the local subscribers ([`Presence::subscribe`]).
//!
//! # Queues
//!
//! * Outgoing messages go through one bounded queue per node
//!   ([`PresenceBuilder::outbox_capacity`], default [`DEFAULT_OUTBOX_CAPACITY`]) to one task
//!   that publishes them in order. Tracking never waits for it: when the queue is full the
//!   delta is not queued and the node sends its full state at its next heartbeat instead.
//! * Diffs reach local subscribers through a [`LocalPubSub`] with bounded queues
//!   ([`PresenceBuilder::capacity`], default [`DEFAULT_CAPACITY`]); a subscriber that does
//!   not keep up loses diffs ([`Subscription::lagged`]) and should list the topic again.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::local::LocalPubSub;
use crate::subscription::Subscription;
use crate::{PubSub, Result, DEFAULT_CAPACITY};

/// Default interval between a node's heartbeats on each topic it has entries on.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);

/// Default time after which the entries of a node that sent nothing are removed.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);

/// Default capacity of a node's outgoing queue, in messages.
pub const DEFAULT_OUTBOX_CAPACITY: usize = 1024;

/// Default prefix of the pub/sub topics presence uses (`"presence:" + topic`).
pub const DEFAULT_PREFIX: &str = "presence:";

/// Who is on which topic, across every node sharing a [`PubSub`] backend.
///
/// Track an entry with [`track`](Self::track) (a key such as a user id, plus metadata such
/// as a name or "is typing"); it stays until the returned [`Tracked`] is dropped. Follow a
/// topic with [`subscribe`](Self::subscribe) (every change as a [`PresenceDiff`]) and
/// [`list`](Self::list) (the current [`PresenceList`]). One key may have several entries (a
/// user with two tabs, maybe on two nodes): lists group them by key, so the user is counted
/// once and leaves when the last entry does.
///
/// Create one `Presence` per node (per process) on the same backend as the rest of the
/// application, and share it (it is a cheap handle). Its background tasks start with the
/// first `track` or `subscribe`, inside the Tokio runtime, and end when every handle (and
/// every [`Tracked`]) is dropped.
///
/// ```
/// use std::sync::Arc;
///
/// use liveview_pubsub::{LocalPubSub, Presence, PresenceDiff, PresenceList, PubSub};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> liveview_pubsub::Result<()> {
/// let pubsub: Arc<dyn PubSub> = Arc::new(LocalPubSub::new());
/// let presence = Presence::new(pubsub);
///
/// let mut diffs = presence.subscribe("room:1").await?;
/// let tab1 = presence.track("room:1", "alice", &serde_json::json!({"typing": false})).await?;
/// let tab2 = presence.track("room:1", "alice", &serde_json::json!({"typing": true})).await?;
///
/// let list: PresenceList = presence.list("room:1")?;
/// assert_eq!(list.len(), 1, "alice is counted once");
/// assert_eq!(list.metas("alice").count(), 2, "with one entry per tab");
///
/// let diff: PresenceDiff = diffs.recv_json().await.unwrap()?;
/// assert_eq!(diff.joins[0].key, "alice");
///
/// drop((tab1, tab2)); // both leave
/// assert!(presence.list::<serde_json::Value>("room:1")?.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

/// Configures a [`Presence`]; created by [`Presence::builder`].
pub struct PresenceBuilder {
    pubsub: Arc<dyn PubSub>,
    node: Option<String>,
    prefix: String,
    heartbeat: Duration,
    ttl: Duration,
    capacity: usize,
    outbox: usize,
}

/// One tracked entry; dropping it untracks it (the other nodes see it leave).
///
/// Keep it as long as the entry should be present, for example in a view's state, so that
/// it leaves when the view ends.
pub struct Tracked {
    presence: Presence,
    topic: Box<str>,
    key: String,
    entry_ref: u64,
}

/// One entry of a key on a topic: who (`key`), which entry (`id`, unique across nodes: the
/// node's name and a number) and its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "M: DeserializeOwned"))]
pub struct PresenceEntry<M = Value> {
    /// The key it was tracked under (a user id, a name).
    pub key: String,
    /// Unique across nodes and for the life of the topic.
    pub id: String,
    /// The metadata it was tracked (or last updated) with.
    pub meta: M,
}

/// What changed on a topic, as delivered by [`Presence::subscribe`] (JSON).
///
/// Apply `leaves` before `joins`. A join whose `id` is already present is an update of that
/// entry's metadata. [`PresenceList::apply`] does all of this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "M: DeserializeOwned"))]
pub struct PresenceDiff<M = Value> {
    /// The presence topic.
    pub topic: String,
    /// Entries that appeared (or whose metadata changed).
    pub joins: Vec<PresenceEntry<M>>,
    /// Entries that left, with the metadata they had.
    pub leaves: Vec<PresenceEntry<M>>,
}

/// Who is on a topic: each key with its entries. Build it with [`Presence::list`] and keep it
/// current with [`apply`](Self::apply).
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceList<M = Value> {
    by_key: BTreeMap<String, BTreeMap<String, M>>,
}

/// The keys a [`PresenceDiff`] brought online or took offline (returned by
/// [`PresenceList::apply`]). A second tab of a present user is neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceChanges {
    /// Keys that had no entry before and have one now.
    pub joined: Vec<String>,
    /// Keys that had entries before and have none now.
    pub left: Vec<String>,
}

struct Inner {
    node: Box<str>,
    pubsub: Arc<dyn PubSub>,
    /// Diffs to this node's subscribers, by presence topic.
    bus: LocalPubSub,
    prefix: Box<str>,
    heartbeat: Duration,
    ttl: Duration,
    outbox: mpsc::Sender<Outgoing>,
    /// Taken by the publisher task when the background tasks start.
    outbox_rx: Mutex<Option<mpsc::Receiver<Outgoing>>>,
    started: AtomicBool,
    /// The node's sequence counter (shared by its topics, so it never goes back).
    next_seq: AtomicU64,
    next_ref: AtomicU64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    topics: HashMap<Box<str>, TopicState>,
    next_generation: u64,
    closed: bool,
}

/// What a node knows about one topic it follows.
struct TopicState {
    /// This node's entries, by ref.
    local: BTreeMap<u64, Meta>,
    /// Every other node's entries.
    remote: HashMap<Box<str>, RemoteNode>,
    /// The sequence number of this node's latest message on the topic (0: none yet).
    seq: u64,
    /// A delta could not be queued: send the full state with the next heartbeat.
    resync: bool,
    generation: u64,
    reader: Option<AbortHandle>,
}

#[derive(Clone)]
struct Meta {
    key: String,
    meta: Value,
}

struct RemoteNode {
    entries: BTreeMap<u64, Meta>,
    /// The sequence number of the latest message applied from it.
    seq: u64,
    last_seen: Instant,
    last_sync_request: Option<Instant>,
}

enum Outgoing {
    Publish { topic: String, payload: Bytes },
    Flush(oneshot::Sender<()>),
}

/// The messages between nodes (JSON on `prefix + topic`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Wire {
    Join {
        node: String,
        seq: u64,
        prev: u64,
        r: u64,
        key: String,
        meta: Value,
    },
    Leave {
        node: String,
        seq: u64,
        prev: u64,
        r: u64,
    },
    Heartbeat {
        node: String,
        seq: u64,
    },
    State {
        node: String,
        seq: u64,
        entries: Vec<WireEntry>,
    },
    Sync {
        node: String,
        to: Option<String>,
    },
    Down {
        node: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct WireEntry {
    r: u64,
    key: String,
    meta: Value,
}

impl Presence {
    /// A presence with the default settings on `pubsub` (see [`Presence::builder`]).
    pub fn new(pubsub: Arc<dyn PubSub>) -> Self {
        Self::builder(pubsub).build()
    }

    /// Starts configuring a presence on `pubsub`.
    pub fn builder(pubsub: Arc<dyn PubSub>) -> PresenceBuilder {
        PresenceBuilder {
            pubsub,
            node: None,
            prefix: DEFAULT_PREFIX.to_owned(),
            heartbeat: DEFAULT_HEARTBEAT_INTERVAL,
            ttl: DEFAULT_TTL,
            capacity: DEFAULT_CAPACITY,
            outbox: DEFAULT_OUTBOX_CAPACITY,
        }
    }

    /// This node's name (random unless set with [`PresenceBuilder::node_name`]).
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// Tracks an entry of `key` with `meta` on `topic` until the returned [`Tracked`] is
    /// dropped. Every node following the topic sees it join.
    ///
    /// Fails if `meta` does not serialize to JSON, if this presence was shut down
    /// ([`crate::Error::Closed`]), or if the backend refuses the subscription to the topic.
    pub async fn track<M: Serialize + ?Sized>(
        &self,
        topic: &str,
        key: &str,
        meta: &M,
    ) -> Result<Tracked> {
        let meta = serde_json::to_value(meta)?;
        self.inner.ensure_started();
        let entry_ref = self.inner.next_ref.fetch_add(1, Ordering::Relaxed) + 1;
        let activate = {
            let mut state = self.inner.lock();
            if state.closed {
                return Err(crate::Error::Closed);
            }
            let (topic_state, generation) = state.topic(topic);
            let meta = Meta {
                key: key.to_owned(),
                meta,
            };
            topic_state.local.insert(entry_ref, meta.clone());
            self.inner
                .send_delta(topic, topic_state, |node, seq, prev| Wire::Join {
                    node,
                    seq,
                    prev,
                    r: entry_ref,
                    key: meta.key.clone(),
                    meta: meta.meta.clone(),
                });
            let entry = self.inner.entry(entry_ref, &meta);
            self.inner.notify(topic, vec![entry], Vec::new());
            generation
        };
        let tracked = Tracked {
            presence: self.clone(),
            topic: topic.into(),
            key: key.to_owned(),
            entry_ref,
        };
        if let Some(generation) = activate {
            // On failure `tracked` is dropped, which removes the entry again.
            self.inner.activate(topic, generation).await?;
        }
        Ok(tracked)
    }

    /// Follows `topic`: every change (local or on another node) arrives on the returned
    /// subscription as a JSON [`PresenceDiff`] (read it with
    /// [`Subscription::recv_json`], or hand it to a view). Subscribe before
    /// [`list`](Self::list)ing, so no change falls between the two; diffs already reflected
    /// in the list apply again harmlessly.
    ///
    /// The subscription is local to this node (diffs are computed by each node, not sent
    /// between nodes). Fails like [`track`](Self::track).
    pub async fn subscribe(&self, topic: &str) -> Result<Subscription> {
        self.inner.ensure_started();
        let subscription = self.inner.bus.subscribe_now(topic);
        let activate = {
            let mut state = self.inner.lock();
            if state.closed {
                return Err(crate::Error::Closed);
            }
            state.topic(topic).1
        };
        if let Some(generation) = activate {
            self.inner.activate(topic, generation).await?;
        }
        Ok(subscription)
    }

    /// Who is on `topic` now, as this node knows it, with each entry's metadata decoded as
    /// `M`. Empty for a topic this node neither follows nor tracks anything on.
    ///
    /// Fails with [`crate::Error::Json`] if some metadata does not decode as `M`.
    pub fn list<M: DeserializeOwned>(&self, topic: &str) -> Result<PresenceList<M>> {
        let state = self.inner.lock();
        let mut list = PresenceList::default();
        let Some(topic_state) = state.topics.get(topic) else {
            return Ok(list);
        };
        let local = topic_state
            .local
            .iter()
            .map(|(entry_ref, meta)| (&*self.inner.node, *entry_ref, meta));
        let remote = topic_state.remote.iter().flat_map(|(node, remote)| {
            remote
                .entries
                .iter()
                .map(move |(entry_ref, meta)| (&**node, *entry_ref, meta))
        });
        for (node, entry_ref, meta) in local.chain(remote) {
            let decoded = serde_json::from_value(meta.meta.clone())?;
            list.by_key
                .entry(meta.key.clone())
                .or_default()
                .insert(entry_id(node, entry_ref), decoded);
        }
        Ok(list)
    }

    /// The topics this node follows (has entries on or subscribers to), in no particular
    /// order.
    pub fn topics(&self) -> Vec<String> {
        self.inner
            .lock()
            .topics
            .keys()
            .map(|topic| topic.to_string())
            .collect()
    }

    /// Leaves every topic at once: tells the other nodes this node is gone (`down`), waits
    /// until that was handed to the backend, and refuses further `track`s and `subscribe`s.
    /// Call it on graceful shutdown, after the server stopped; without it the other nodes
    /// drop this node's entries after the TTL.
    pub async fn shutdown(&self) {
        let topics: Vec<String> = {
            let mut state = self.inner.lock();
            state.closed = true;
            let topics = state
                .topics
                .iter()
                .filter(|(_, topic_state)| !topic_state.local.is_empty())
                .map(|(topic, _)| topic.to_string())
                .collect();
            for topic_state in state.topics.values_mut() {
                topic_state.local.clear();
            }
            topics
        };
        if !self.inner.started.load(Ordering::Acquire) {
            return;
        }
        for topic in topics {
            let payload = encode(&Wire::Down {
                node: self.inner.node.to_string(),
            });
            let message = Outgoing::Publish {
                topic: self.inner.wire_topic(&topic),
                payload,
            };
            if self.inner.outbox.send(message).await.is_err() {
                return;
            }
        }
        let (done, flushed) = oneshot::channel();
        if self.inner.outbox.send(Outgoing::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }
}

impl fmt::Debug for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presence")
            .field("node", &self.inner.node)
            .field("prefix", &self.inner.prefix)
            .field("heartbeat", &self.inner.heartbeat)
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

impl PresenceBuilder {
    /// This node's name, unique among the nodes sharing the backend (default: random). It is
    /// part of every entry's id.
    pub fn node_name(mut self, name: impl Into<String>) -> Self {
        self.node = Some(name.into());
        self
    }

    /// The prefix of the pub/sub topics presence uses (default [`DEFAULT_PREFIX`]); nodes
    /// must agree on it.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How often a node says it is alive, on each topic it has entries on (default
    /// [`DEFAULT_HEARTBEAT_INTERVAL`]). It checks the other nodes' TTL four times as often.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat = interval.max(Duration::from_millis(1));
        self
    }

    /// How long a node may stay silent before its entries are removed (default
    /// [`DEFAULT_TTL`]; at least twice the heartbeat interval is sensible). A dead node's
    /// users leave between `ttl` and `ttl` plus a quarter of the heartbeat interval after its
    /// last message (so between `ttl - interval` and `ttl + interval / 4` after it died).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The capacity of each local subscriber's queue of diffs (default [`DEFAULT_CAPACITY`]).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// The capacity of the node's outgoing queue (default [`DEFAULT_OUTBOX_CAPACITY`]).
    pub fn outbox_capacity(mut self, capacity: usize) -> Self {
        self.outbox = capacity.max(1);
        self
    }

    /// Builds the presence. Needs no runtime: the background tasks start with the first
    /// `track` or `subscribe`.
    pub fn build(self) -> Presence {
        let (outbox, outbox_rx) = mpsc::channel(self.outbox);
        let node = self.node.unwrap_or_else(random_node_name);
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let weak = weak.clone();
            let bus = LocalPubSub::with_topic_hook(self.capacity, move |topic: &str| {
                // The last local subscriber of `topic` is gone.
                if let Some(inner) = weak.upgrade() {
                    inner.release_if_unused(topic);
                }
            });
            Inner {
                node: node.into(),
                pubsub: self.pubsub,
                bus,
                prefix: self.prefix.into(),
                heartbeat: self.heartbeat,
                ttl: self.ttl,
                outbox,
                outbox_rx: Mutex::new(Some(outbox_rx)),
                started: AtomicBool::new(false),
                next_seq: AtomicU64::new(0),
                next_ref: AtomicU64::new(0),
                state: Mutex::new(State::default()),
            }
        });
        Presence { inner }
    }
}

impl fmt::Debug for PresenceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresenceBuilder")
            .field("node", &self.node)
            .field("prefix", &self.prefix)
            .field("heartbeat", &self.heartbeat)
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("outbox", &self.outbox)
            .finish_non_exhaustive()
    }
}

impl Tracked {
    /// Replaces the entry's metadata; every node sees the change as a join with the same
    /// id. Fails if `meta` does not serialize to JSON.
    pub fn update<M: Serialize + ?Sized>(&self, meta: &M) -> Result<()> {
        let meta = serde_json::to_value(meta)?;
        let inner = &self.presence.inner;
        let mut state = inner.lock();
        let Some(topic_state) = state.topics.get_mut(&*self.topic) else {
            return Ok(());
        };
        let Some(entry) = topic_state.local.get_mut(&self.entry_ref) else {
            return Ok(());
        };
        if entry.meta == meta {
            return Ok(());
        }
        entry.meta = meta;
        let entry = entry.clone();
        inner.send_delta(&self.topic, topic_state, |node, seq, prev| Wire::Join {
            node,
            seq,
            prev,
            r: self.entry_ref,
            key: entry.key.clone(),
            meta: entry.meta.clone(),
        });
        inner.notify(
            &self.topic,
            vec![inner.entry(self.entry_ref, &entry)],
            Vec::new(),
        );
        Ok(())
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The entry's id (as in [`PresenceEntry::id`]).
    pub fn id(&self) -> String {
        entry_id(&self.presence.inner.node, self.entry_ref)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let inner = &self.presence.inner;
        let release = {
            let mut state = inner.lock();
            let Some(topic_state) = state.topics.get_mut(&*self.topic) else {
                return;
            };
            let Some(meta) = topic_state.local.remove(&self.entry_ref) else {
                return;
            };
            let entry_ref = self.entry_ref;
            inner.send_delta(&self.topic, topic_state, |node, seq, prev| Wire::Leave {
                node,
                seq,
                prev,
                r: entry_ref,
            });
            inner.notify(&self.topic, Vec::new(), vec![inner.entry(entry_ref, &meta)]);
            topic_state.local.is_empty()
        };
        if release {
            inner.release_if_unused(&self.topic);
        }
    }
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracked")
            .field("topic", &self.topic)
            .field("key", &self.key)
            .field("id", &self.id())
            .finish()
    }
}

impl<M> Default for PresenceList<M> {
    fn default() -> Self {
        Self {
            by_key: BTreeMap::new(),
        }
    }
}

impl<M> PresenceList<M> {
    /// Applies a diff (leaves, then joins); returns the keys that came online and went
    /// offline. Applying a diff twice, or a diff already reflected in the list, changes
    /// nothing.
    pub fn apply(&mut self, diff: PresenceDiff<M>) -> PresenceChanges {
        let mut changes = PresenceChanges::default();
        for leave in diff.leaves {
            if let Some(entries) = self.by_key.get_mut(&leave.key) {
                if entries.remove(&leave.id).is_some() && entries.is_empty() {
                    self.by_key.remove(&leave.key);
                    changes.left.push(leave.key);
                }
            }
        }
        for join in diff.joins {
            let entries = self.by_key.entry(join.key.clone()).or_default();
            if entries.is_empty() {
                // Back within the same diff: it was online before, so neither joined nor left.
                match changes.left.iter().position(|key| key == &join.key) {
                    Some(index) => {
                        changes.left.remove(index);
                    }
                    None if !changes.joined.contains(&join.key) => {
                        changes.joined.push(join.key.clone());
                    }
                    None => {}
                }
            }
            entries.insert(join.id, join.meta);
        }
        changes
    }

    /// The number of keys present (a key with several entries counts once).
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether nobody is present.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Whether `key` has at least one entry.
    pub fn contains(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// The keys present, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.by_key.keys().map(String::as_str)
    }

    /// The metadata of each entry of `key` (none if absent), in id order.
    pub fn metas(&self, key: &str) -> impl Iterator<Item = &M> {
        self.by_key.get(key).into_iter().flat_map(BTreeMap::values)
    }

    /// Each key present with the metadata of its entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, impl Iterator<Item = &M>)> {
        self.by_key
            .iter()
            .map(|(key, entries)| (key.as_str(), entries.values()))
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wire_topic(&self, topic: &str) -> String {
        let mut wire = String::with_capacity(self.prefix.len() + topic.len());
        wire.push_str(&self.prefix);
        wire.push_str(topic);
        wire
    }

    fn entry(&self, entry_ref: u64, meta: &Meta) -> PresenceEntry {
        PresenceEntry {
            key: meta.key.clone(),
            id: entry_id(&self.node, entry_ref),
            meta: meta.meta.clone(),
        }
    }

    /// Starts the publisher and the heartbeat tasks, once.
    fn ensure_started(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let receiver = self
            .outbox_rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(receiver) = receiver {
            tokio::spawn(publish_outbox(
                self.pubsub.clone(),
                receiver,
                self.node.to_string(),
            ));
        }
        tokio::spawn(heartbeat(Arc::downgrade(self), self.heartbeat));
    }

    /// Queues a delta of this node on `topic` (numbered under the state lock, so queued in
    /// order). When the queue is full, the full state goes with the next heartbeat instead.
    fn send_delta(
        &self,
        topic: &str,
        topic_state: &mut TopicState,
        delta: impl FnOnce(String, u64, u64) -> Wire,
    ) {
        if !self.started.load(Ordering::Acquire) {
            return;
        }
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let prev = std::mem::replace(&mut topic_state.seq, seq);
        let message = delta(self.node.to_string(), seq, prev);
        if !self.queue(topic, &message) {
            topic_state.resync = true;
        }
    }

    /// Queues `message` for `topic` without waiting; `false` if the queue is full.
    fn queue(&self, topic: &str, message: &Wire) -> bool {
        let outgoing = Outgoing::Publish {
            topic: self.wire_topic(topic),
            payload: encode(message),
        };
        match self.outbox.try_send(outgoing) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::debug!(
                    topic,
                    "presence: outgoing queue full, the full state follows with the next heartbeat"
                );
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Delivers a diff to this node's subscribers of `topic`.
    fn notify(&self, topic: &str, joins: Vec<PresenceEntry>, leaves: Vec<PresenceEntry>) {
        if joins.is_empty() && leaves.is_empty() {
            return;
        }
        let diff = PresenceDiff {
            topic: topic.to_owned(),
            joins,
            leaves,
        };
        self.bus.publish_now(topic, encode(&diff));
    }

    /// Subscribes to the topic's pub/sub messages and asks the other nodes for their state.
    async fn activate(self: &Arc<Self>, topic: &str, generation: u64) -> Result<()> {
        let subscription = match self.pubsub.subscribe(&self.wire_topic(topic)).await {
            Ok(subscription) => subscription,
            Err(err) => {
                let mut state = self.lock();
                if state
                    .topics
                    .get(topic)
                    .is_some_and(|t| t.generation == generation)
                {
                    state.topics.remove(topic);
                }
                return Err(err);
            }
        };
        let mut state = self.lock();
        let Some(topic_state) = state.topics.get_mut(topic) else {
            // Released while we subscribed: nothing to follow any more.
            return Ok(());
        };
        if topic_state.generation != generation {
            return Ok(());
        }
        let reader = tokio::spawn(read_topic(
            Arc::downgrade(self),
            topic.to_owned(),
            subscription,
        ));
        topic_state.reader = Some(reader.abort_handle());
        self.queue(
            topic,
            &Wire::Sync {
                node: self.node.to_string(),
                to: None,
            },
        );
        // Entries tracked before the subscription was up were announced already; if that
        // was before the tasks started, the state covers them.
        if !topic_state.local.is_empty() {
            topic_state.resync = true;
        }
        Ok(())
    }

    /// Stops following `topic` if it has neither local entries nor local subscribers.
    fn release_if_unused(&self, topic: &str) {
        let mut state = self.lock();
        let unused = state
            .topics
            .get(topic)
            .is_some_and(|t| t.local.is_empty() && self.bus.subscriber_count(topic) == 0);
        if unused {
            state.topics.remove(topic);
        }
    }

    /// Applies one message from the topic's pub/sub subscription.
    fn receive(&self, topic: &str, message: Wire) {
        let mut state = self.lock();
        let Some(topic_state) = state.topics.get_mut(topic) else {
            return;
        };
        let now = Instant::now();
        let node = match &message {
            Wire::Join { node, .. }
            | Wire::Leave { node, .. }
            | Wire::Heartbeat { node, .. }
            | Wire::State { node, .. }
            | Wire::Sync { node, .. }
            | Wire::Down { node } => node.as_str(),
        };
        if node == &*self.node {
            return;
        }
        let mut joins = Vec::new();
        let mut leaves = Vec::new();
        match message {
            Wire::Sync { to, .. } => {
                let for_me = to.as_deref() == Some(&*self.node);
                if for_me || (to.is_none() && !topic_state.local.is_empty()) {
                    self.send_state(topic, topic_state);
                }
                return;
            }
            Wire::Down { node } => {
                if let Some(remote) = topic_state.remote.remove(node.as_str()) {
                    leaves.extend(
                        remote
                            .entries
                            .iter()
                            .map(|(entry_ref, meta)| remote_entry(&node, *entry_ref, meta)),
                    );
                }
            }
            Wire::Heartbeat { node, seq } => {
                let remote = remote_node(&mut topic_state.remote, &node, now);
                remote.last_seen = now;
                if seq > remote.seq && self.may_request_sync(remote, now) {
                    self.request_sync(topic, &node);
                }
                return;
            }
            Wire::State { node, seq, entries } => {
                let remote = remote_node(&mut topic_state.remote, &node, now);
                remote.last_seen = now;
                if seq < remote.seq {
                    return;
                }
                remote.seq = seq;
                let new: BTreeMap<u64, Meta> = entries
                    .into_iter()
                    .map(|entry| {
                        let meta = Meta {
                            key: entry.key,
                            meta: entry.meta,
                        };
                        (entry.r, meta)
                    })
                    .collect();
                for (entry_ref, meta) in &remote.entries {
                    if !new.contains_key(entry_ref) {
                        leaves.push(remote_entry(&node, *entry_ref, meta));
                    }
                }
                for (entry_ref, meta) in &new {
                    let unchanged = remote
                        .entries
                        .get(entry_ref)
                        .is_some_and(|old| old.key == meta.key && old.meta == meta.meta);
                    if !unchanged {
                        joins.push(remote_entry(&node, *entry_ref, meta));
                    }
                }
                remote.entries = new;
            }
            Wire::Join {
                node,
                seq,
                prev,
                r,
                key,
                meta,
            } => {
                let remote = remote_node(&mut topic_state.remote, &node, now);
                remote.last_seen = now;
                if seq <= remote.seq {
                    return;
                }
                let gap = prev != remote.seq;
                remote.seq = seq;
                let meta = Meta { key, meta };
                joins.push(remote_entry(&node, r, &meta));
                remote.entries.insert(r, meta);
                if gap && self.may_request_sync(remote, now) {
                    self.request_sync(topic, &node);
                }
            }
            Wire::Leave { node, seq, prev, r } => {
                let remote = remote_node(&mut topic_state.remote, &node, now);
                remote.last_seen = now;
                if seq <= remote.seq {
                    return;
                }
                let gap = prev != remote.seq;
                remote.seq = seq;
                if let Some(meta) = remote.entries.remove(&r) {
                    leaves.push(remote_entry(&node, r, &meta));
                }
                if gap && self.may_request_sync(remote, now) {
                    self.request_sync(topic, &node);
                }
            }
        }
        self.notify(topic, joins, leaves);
    }

    fn may_request_sync(&self, remote: &mut RemoteNode, now: Instant) -> bool {
        let due = remote
            .last_sync_request
            .is_none_or(|at| now.duration_since(at) >= self.heartbeat);
        if due {
            remote.last_sync_request = Some(now);
        }
        due
    }

    fn request_sync(&self, topic: &str, node: &str) {
        self.queue(
            topic,
            &Wire::Sync {
                node: self.node.to_string(),
                to: Some(node.to_owned()),
            },
        );
    }

    fn send_state(&self, topic: &str, topic_state: &mut TopicState) {
        let entries = topic_state
            .local
            .iter()
            .map(|(entry_ref, meta)| WireEntry {
                r: *entry_ref,
                key: meta.key.clone(),
                meta: meta.meta.clone(),
            })
            .collect();
        if topic_state.seq == 0 {
            topic_state.seq = self.next_seq.fetch_add(1, Ordering::Relaxed) + 1;
        }
        let message = Wire::State {
            node: self.node.to_string(),
            seq: topic_state.seq,
            entries,
        };
        topic_state.resync = !self.queue(topic, &message);
    }

    /// One round: remove the entries of nodes silent for longer than the TTL, and, when
    /// `heartbeat`, announce this node on every topic it has entries on.
    fn tick(&self, heartbeat: bool) {
        let now = Instant::now();
        let mut state = self.lock();
        let mut expired_diffs = Vec::new();
        for (topic, topic_state) in &mut state.topics {
            if heartbeat && !topic_state.local.is_empty() && topic_state.reader.is_some() {
                if topic_state.resync {
                    self.send_state(topic, topic_state);
                } else {
                    let message = Wire::Heartbeat {
                        node: self.node.to_string(),
                        seq: topic_state.seq,
                    };
                    self.queue(topic, &message);
                }
            }
            let mut leaves = Vec::new();
            topic_state.remote.retain(|node, remote| {
                let alive = now.duration_since(remote.last_seen) <= self.ttl;
                if !alive {
                    if !remote.entries.is_empty() {
                        tracing::info!(
                            topic = &**topic,
                            node = &**node,
                            entries = remote.entries.len(),
                            "presence: node silent for longer than the TTL, its entries leave"
                        );
                    }
                    leaves.extend(
                        remote
                            .entries
                            .iter()
                            .map(|(entry_ref, meta)| remote_entry(node, *entry_ref, meta)),
                    );
                }
                alive
            });
            if !leaves.is_empty() {
                expired_diffs.push((topic.to_string(), leaves));
            }
        }
        for (topic, leaves) in expired_diffs {
            self.notify(&topic, Vec::new(), leaves);
        }
    }
}

impl State {
    /// The topic's state, created if needed; the second value is `Some(generation)` when the
    /// caller must activate it (it was just created).
    fn topic(&mut self, topic: &str) -> (&mut TopicState, Option<u64>) {
        let mut created = None;
        if !self.topics.contains_key(topic) {
            self.next_generation += 1;
            created = Some(self.next_generation);
            self.topics.insert(
                topic.into(),
                TopicState {
                    local: BTreeMap::new(),
                    remote: HashMap::new(),
                    seq: 0,
                    resync: false,
                    generation: self.next_generation,
                    reader: None,
                },
            );
        }
        let topic_state = self.topics.get_mut(topic).expect("inserted above");
        (topic_state, created)
    }
}

impl Drop for TopicState {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.abort();
        }
    }
}

fn remote_node<'a>(
    remote: &'a mut HashMap<Box<str>, RemoteNode>,
    node: &str,
    now: Instant,
) -> &'a mut RemoteNode {
    remote.entry(node.into()).or_insert_with(|| RemoteNode {
        entries: BTreeMap::new(),
        seq: 0,
        last_seen: now,
        last_sync_request: None,
    })
}

fn remote_entry(node: &str, entry_ref: u64, meta: &Meta) -> PresenceEntry {
    PresenceEntry {
        key: meta.key.clone(),
        id: entry_id(node, entry_ref),
        meta: meta.meta.clone(),
    }
}

fn entry_id(node: &str, entry_ref: u64) -> String {
    format!("{node}.{entry_ref}")
}

fn encode<T: Serialize>(value: &T) -> Bytes {
    // Our own types with string keys: serializing cannot fail.
    Bytes::from(serde_json::to_vec(value).expect("presence messages serialize"))
}

/// A random node name (16 hex digits).
fn random_node_name() -> String {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one((
        std::process::id(),
        std::time::SystemTime::now(),
        &random_node_name as *const _ as usize,
    ));
    format!("{random:016x}")
}

/// Publishes the node's outgoing messages in order, until every sender is gone.
async fn publish_outbox(
    pubsub: Arc<dyn PubSub>,
    mut outbox: mpsc::Receiver<Outgoing>,
    node: String,
) {
    let mut failing = false;
    while let Some(outgoing) = outbox.recv().await {
        match outgoing {
            Outgoing::Publish { topic, payload } => match pubsub.publish(&topic, payload).await {
                Ok(()) => {
                    if failing {
                        tracing::info!(node, "presence: publishing works again");
                        failing = false;
                    }
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(node, %err, "presence: publishing failed (other nodes will resync)");
                        failing = true;
                    }
                }
            },
            Outgoing::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// How many times per heartbeat interval a node looks for expired nodes: a dead node's
/// entries leave at most a quarter of an interval after its TTL ran out.
const SWEEPS_PER_HEARTBEAT: u32 = 4;

/// Runs [`Inner::tick`] [`SWEEPS_PER_HEARTBEAT`] times per `interval` (heartbeats once per
/// `interval`) while the presence exists.
async fn heartbeat(inner: Weak<Inner>, interval: Duration) {
    let sweep = (interval / SWEEPS_PER_HEARTBEAT).max(Duration::from_millis(1));
    let mut ticker = tokio::time::interval(sweep);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut round = 0u32;
    loop {
        ticker.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        round = (round + 1) % SWEEPS_PER_HEARTBEAT;
        inner.tick(round == 0);
    }
}

/// Feeds the messages of one topic's subscription to [`Inner::receive`].
async fn read_topic(inner: Weak<Inner>, topic: String, mut subscription: Subscription) {
    while let Some(message) = subscription.recv().await {
        let Some(inner) = inner.upgrade() else {
            return;
        };
        match serde_json::from_slice::<Wire>(&message) {
            Ok(message) => inner.receive(&topic, message),
            Err(err) => tracing::warn!(topic, %err, "presence: undecodable message"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, id: &str, meta: u32) -> PresenceEntry<u32> {
        PresenceEntry {
            key: key.to_owned(),
            id: id.to_owned(),
            meta,
        }
    }

    fn diff(joins: Vec<PresenceEntry<u32>>, leaves: Vec<PresenceEntry<u32>>) -> PresenceDiff<u32> {
        PresenceDiff {
            topic: "t".to_owned(),
            joins,
            leaves,
        }
    }

    #[test]
    fn a_second_entry_of_a_key_is_not_a_second_user() {
        let mut list = PresenceList::default();
        let changes = list.apply(diff(vec![entry("ann", "a.1", 1)], vec![]));
        assert_eq!(changes.joined, ["ann"]);
        let changes = list.apply(diff(vec![entry("ann", "b.7", 2)], vec![]));
        assert_eq!(changes, PresenceChanges::default(), "second tab");
        assert_eq!(list.len(), 1);
        assert_eq!(list.metas("ann").copied().collect::<Vec<_>>(), [1, 2]);

        let changes = list.apply(diff(vec![], vec![entry("ann", "a.1", 1)]));
        assert_eq!(changes, PresenceChanges::default(), "one tab left");
        assert!(list.contains("ann"));
        let changes = list.apply(diff(vec![], vec![entry("ann", "b.7", 2)]));
        assert_eq!(changes.left, ["ann"]);
        assert!(list.is_empty());
    }

    #[test]
    fn diffs_apply_idempotently_and_joins_update() {
        let mut list = PresenceList::default();
        let d = diff(vec![entry("ann", "a.1", 1), entry("bob", "a.2", 1)], vec![]);
        list.apply(d.clone());
        let once = list.clone();
        assert_eq!(list.apply(d), PresenceChanges::default());
        assert_eq!(list, once);

        // A join with a known id replaces the metadata.
        list.apply(diff(vec![entry("ann", "a.1", 5)], vec![]));
        assert_eq!(list.metas("ann").copied().collect::<Vec<_>>(), [5]);
        // A leave of an unknown id is ignored.
        assert_eq!(
            list.apply(diff(vec![], vec![entry("carol", "z.9", 0)])),
            PresenceChanges::default()
        );
        // Leave and re-join in one diff: still online, no change reported.
        let changes = list.apply(diff(
            vec![entry("bob", "a.3", 1)],
            vec![entry("bob", "a.2", 1)],
        ));
        assert_eq!(changes, PresenceChanges::default());
        assert_eq!(list.keys().collect::<Vec<_>>(), ["ann", "bob"]);
        let all: Vec<(&str, usize)> = list
            .iter()
            .map(|(key, metas)| (key, metas.count()))
            .collect();
        assert_eq!(all, [("ann", 1), ("bob", 1)]);
    }

    #[test]
    fn wire_messages_round_trip() {
        let message = Wire::Join {
            node: "n".into(),
            seq: 3,
            prev: 1,
            r: 9,
            key: "ann".into(),
            meta: serde_json::json!({"typing": true}),
        };
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(
            json,
            r#"{"t":"join","node":"n","seq":3,"prev":1,"r":9,"key":"ann","meta":{"typing":true}}"#
        );
        let back: Wire = serde_json::from_str(&json).unwrap();
        assert!(matches!(
            back,
            Wire::Join {
                seq: 3,
                prev: 1,
                r: 9,
                ..
            }
        ));
    }
}
