//! The replicated state of a node's topics: deltas, heartbeats, syncs, expiry, and the tasks that publish and receive them.

use super::*;

impl Inner {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn wire_topic(&self, topic: &str) -> String {
        let mut wire = String::with_capacity(self.prefix.len() + topic.len());
        wire.push_str(&self.prefix);
        wire.push_str(topic);
        wire
    }

    pub(super) fn entry(&self, entry_ref: u64, meta: &Meta) -> PresenceEntry {
        PresenceEntry {
            key: meta.key.clone(),
            id: entry_id(&self.node, entry_ref),
            meta: meta.meta.clone(),
        }
    }

    /// Starts the publisher and the heartbeat tasks, once.
    pub(super) fn ensure_started(self: &Arc<Self>) {
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
    pub(super) fn send_delta(
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
    pub(super) fn queue(&self, topic: &str, message: &Wire) -> bool {
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
    pub(super) fn notify(
        &self,
        topic: &str,
        joins: Vec<PresenceEntry>,
        leaves: Vec<PresenceEntry>,
    ) {
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
    pub(super) async fn activate(self: &Arc<Self>, topic: &str, generation: u64) -> Result<()> {
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
    pub(super) fn release_if_unused(&self, topic: &str) {
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
    pub(super) fn receive(&self, topic: &str, message: Wire) {
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

    pub(super) fn may_request_sync(&self, remote: &mut RemoteNode, now: Instant) -> bool {
        let due = remote
            .last_sync_request
            .is_none_or(|at| now.duration_since(at) >= self.heartbeat);
        if due {
            remote.last_sync_request = Some(now);
        }
        due
    }

    pub(super) fn request_sync(&self, topic: &str, node: &str) {
        self.queue(
            topic,
            &Wire::Sync {
                node: self.node.to_string(),
                to: Some(node.to_owned()),
            },
        );
    }

    pub(super) fn send_state(&self, topic: &str, topic_state: &mut TopicState) {
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
    pub(super) fn tick(&self, heartbeat: bool) {
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
    pub(super) fn topic(&mut self, topic: &str) -> (&mut TopicState, Option<u64>) {
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

pub(super) fn remote_node<'a>(
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

pub(super) fn remote_entry(node: &str, entry_ref: u64, meta: &Meta) -> PresenceEntry {
    PresenceEntry {
        key: meta.key.clone(),
        id: entry_id(node, entry_ref),
        meta: meta.meta.clone(),
    }
}

pub(super) fn entry_id(node: &str, entry_ref: u64) -> String {
    format!("{node}.{entry_ref}")
}

pub(super) fn encode<T: Serialize>(value: &T) -> Bytes {
    // Our own types with string keys: serializing cannot fail.
    Bytes::from(serde_json::to_vec(value).expect("presence messages serialize"))
}

/// A random node name (16 hex digits).
pub(super) fn random_node_name() -> String {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one((
        std::process::id(),
        std::time::SystemTime::now(),
        &random_node_name as *const _ as usize,
    ));
    format!("{random:016x}")
}

/// Publishes the node's outgoing messages in order, until every sender is gone.
pub(super) async fn publish_outbox(
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
pub(super) async fn heartbeat(inner: Weak<Inner>, interval: Duration) {
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
pub(super) async fn read_topic(inner: Weak<Inner>, topic: String, mut subscription: Subscription) {
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
