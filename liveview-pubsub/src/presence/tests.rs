//! Presence tests: in-process nodes sharing one backend, on a paused clock.

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
