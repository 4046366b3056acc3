//! [`PresenceBuilder`]: a presence's settings.

use super::*;

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
