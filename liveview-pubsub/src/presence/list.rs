//! [`PresenceList`]: who is on a topic, grouped by key.

use super::*;

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
