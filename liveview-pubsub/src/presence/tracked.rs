//! [`Tracked`]: one entry this node tracks; dropping it leaves.

use super::*;

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
