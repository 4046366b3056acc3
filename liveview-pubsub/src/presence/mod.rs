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

mod builder;
mod list;
mod replica;
#[cfg(test)]
mod tests;
mod tracked;

use replica::*;

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
