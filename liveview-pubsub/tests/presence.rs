//! Presence between in-process "nodes" (several `Presence`s sharing one `LocalPubSub`):
//! joins and leaves cross nodes, a key with several entries is one user, late nodes get the
//! state, lost messages are repaired, and a node that stops heartbeating leaves after the
//! TTL. Time is Tokio's paused clock, so the timings are exact and the tests do not depend
//! on the machine's load.

mod support;

use std::sync::Arc;
use std::time::Duration;

use liveview_pubsub::{
    LocalPubSub, Presence, PresenceChanges, PresenceDiff, PresenceList, PubSub, Subscription,
};
use serde::{Deserialize, Serialize};
use support::Cuttable;
use tokio::time::Instant;

const HEARTBEAT: Duration = Duration::from_millis(100);
const TTL: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Meta {
    name: String,
    typing: bool,
}

fn meta(name: &str) -> Meta {
    Meta {
        name: name.to_owned(),
        typing: false,
    }
}

fn node(pubsub: Arc<dyn PubSub>, name: &str) -> Presence {
    Presence::builder(pubsub)
        .node_name(name)
        .heartbeat_interval(HEARTBEAT)
        .ttl(TTL)
        .build()
}

async fn next_diff(diffs: &mut Subscription) -> PresenceDiff<Meta> {
    tokio::time::timeout(Duration::from_secs(60), diffs.recv_json())
        .await
        .expect("a presence diff")
        .expect("the presence is alive")
        .expect("a valid diff")
}

/// Applies diffs to `list` until `done(list)` holds; returns every change seen on the way.
async fn until(
    diffs: &mut Subscription,
    list: &mut PresenceList<Meta>,
    done: impl Fn(&PresenceList<Meta>) -> bool,
) -> PresenceChanges {
    let mut all = PresenceChanges::default();
    while !done(list) {
        let changes = list.apply(next_diff(diffs).await);
        all.joined.extend(changes.joined);
        all.left.extend(changes.left);
    }
    all
}

#[tokio::test(start_paused = true)]
async fn joins_and_leaves_reach_the_other_node() {
    let pubsub: Arc<dyn PubSub> = Arc::new(LocalPubSub::new());
    let a = node(pubsub.clone(), "a");
    let b = node(pubsub.clone(), "b");
    let mut on_b = b.subscribe("room").await.unwrap();
    let mut list = b.list::<Meta>("room").unwrap();
    assert!(list.is_empty());

    let ann = a.track("room", "ann", &meta("Ann")).await.unwrap();
    let diff = next_diff(&mut on_b).await;
    assert_eq!(diff.topic, "room");
    assert_eq!(diff.joins.len(), 1);
    assert_eq!(diff.joins[0].key, "ann");
    assert_eq!(diff.joins[0].id, ann.id());
    assert_eq!(diff.joins[0].meta, meta("Ann"));
    assert!(diff.leaves.is_empty());
    assert_eq!(list.apply(diff).joined, ["ann"]);
    assert_eq!(b.list::<Meta>("room").unwrap(), list, "b's list agrees");

    drop(ann);
    let diff = next_diff(&mut on_b).await;
    assert!(diff.joins.is_empty());
    assert_eq!(diff.leaves[0].key, "ann");
    assert_eq!(list.apply(diff).left, ["ann"]);
    assert!(b.list::<Meta>("room").unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_user_with_tabs_on_two_nodes_is_counted_once() {
    let pubsub: Arc<dyn PubSub> = Arc::new(LocalPubSub::new());
    let (a, b, watcher) = (
        node(pubsub.clone(), "a"),
        node(pubsub.clone(), "b"),
        node(pubsub.clone(), "c"),
    );
    let mut diffs = watcher.subscribe("room").await.unwrap();
    let mut list = PresenceList::default();

    let tab1 = a.track("room", "ann", &meta("Ann")).await.unwrap();
    let tab2 = b.track("room", "ann", &meta("Ann")).await.unwrap();
    let tab3 = b.track("room", "ann", &meta("Ann")).await.unwrap();
    let bob = a.track("room", "bob", &meta("Bob")).await.unwrap();
    let changes = until(&mut diffs, &mut list, |l| {
        l.metas("ann").count() == 3 && l.contains("bob")
    })
    .await;
    assert_eq!(changes.joined, ["ann", "bob"], "ann joined once");
    assert!(changes.left.is_empty());
    assert_eq!(list.len(), 2);
    for presence in [&a, &b, &watcher] {
        let seen = presence.list::<Meta>("room").unwrap();
        assert_eq!(seen.len(), 2, "{}", presence.node());
        assert_eq!(seen.metas("ann").count(), 3, "{}", presence.node());
    }

    // Tabs close one by one: ann leaves with the last.
    drop(tab2);
    let changes = until(&mut diffs, &mut list, |l| l.metas("ann").count() == 2).await;
    assert_eq!(changes, PresenceChanges::default());
    drop(tab1);
    let changes = until(&mut diffs, &mut list, |l| l.metas("ann").count() == 1).await;
    assert_eq!(changes, PresenceChanges::default());
    drop(tab3);
    let changes = until(&mut diffs, &mut list, |l| !l.contains("ann")).await;
    assert_eq!(changes.left, ["ann"]);
    assert_eq!(list.keys().collect::<Vec<_>>(), ["bob"]);
    drop(bob);
}

#[tokio::test(start_paused = true)]
async fn metadata_updates_arrive_as_joins_of_the_same_entry() {
    let pubsub: Arc<dyn PubSub> = Arc::new(LocalPubSub::new());
    let (a, b) = (node(pubsub.clone(), "a"), node(pubsub.clone(), "b"));
    let mut on_a = a.subscribe("room").await.unwrap();
    let mut on_b = b.subscribe("room").await.unwrap();
    let ann = a.track("room", "ann", &meta("Ann")).await.unwrap();
    next_diff(&mut on_a).await;
    next_diff(&mut on_b).await;

    let typing = Meta {
        name: "Ann".into(),
        typing: true,
    };
    ann.update(&typing).unwrap();
    for diffs in [&mut on_a, &mut on_b] {
        let diff = next_diff(diffs).await;
        assert_eq!(diff.joins.len(), 1);
        assert_eq!(diff.joins[0].id, ann.id(), "the same entry");
        assert_eq!(diff.joins[0].meta, typing);
        assert!(diff.leaves.is_empty());
    }
    let list = b.list::<Meta>("room").unwrap();
    assert_eq!(list.metas("ann").collect::<Vec<_>>(), [&typing]);
    // The same metadata again is not news.
    ann.update(&typing).unwrap();
    drop(ann);
    assert!(
        next_diff(&mut on_b).await.joins.is_empty(),
        "the leave, no second update"
    );
}

#[tokio::test(start_paused = true)]
async fn a_node_that_starts_following_late_gets_the_state() {
    let pubsub: Arc<dyn PubSub> = Arc::new(LocalPubSub::new());
    let (a, b) = (node(pubsub.clone(), "a"), node(pubsub.clone(), "b"));
    let _ann = a.track("room", "ann", &meta("Ann")).await.unwrap();
    let _bob = b.track("room", "bob", &meta("Bob")).await.unwrap();
    let _carol = b.track("room", "carol", &meta("Carol")).await.unwrap();

    let late = node(pubsub.clone(), "late");
    let mut diffs = late.subscribe("room").await.unwrap();
    let mut list = late.list::<Meta>("room").unwrap();
    let started = Instant::now();
    let changes = until(&mut diffs, &mut list, |l| l.len() == 3).await;
    assert_eq!(changes.joined.len(), 3);
    assert!(
        started.elapsed() < HEARTBEAT,
        "answered on request, not at the next heartbeat: {:?}",
        started.elapsed()
    );
    assert_eq!(late.list::<Meta>("room").unwrap(), list);
}

#[tokio::test(start_paused = true)]
async fn entries_of_a_node_that_stops_heartbeating_expire_after_the_ttl() {
    let shared = LocalPubSub::new();
    let doomed_link = Arc::new(Cuttable::new(shared.clone()));
    let doomed = node(doomed_link.clone(), "doomed");
    let survivor = node(Arc::new(shared.clone()), "survivor");
    let mut diffs = survivor.subscribe("room").await.unwrap();
    let mut list = PresenceList::default();

    let ann = doomed.track("room", "ann", &meta("Ann")).await.unwrap();
    let _bob = survivor.track("room", "bob", &meta("Bob")).await.unwrap();
    until(&mut diffs, &mut list, |l| {
        l.contains("ann") && l.contains("bob")
    })
    .await;

    // Heartbeats keep ann present for many TTLs.
    tokio::time::sleep(TTL * 4).await;
    assert!(survivor.list::<Meta>("room").unwrap().contains("ann"));

    // The node dies: it sends nothing more (not even ann's leave).
    doomed_link.cut();
    let died = Instant::now();
    drop(ann);
    let changes = until(&mut diffs, &mut list, |l| !l.contains("ann")).await;
    let took = died.elapsed();
    assert_eq!(changes.left, ["ann"]);
    assert!(
        took + HEARTBEAT >= TTL && took <= TTL + HEARTBEAT / 4,
        "left after {took:?}; expected between the TTL ({TTL:?}) less a heartbeat and the TTL \
         plus a quarter heartbeat (the expiry sweep)"
    );
    assert!(list.contains("bob"), "the survivor's own entry stays");
    assert_eq!(survivor.list::<Meta>("room").unwrap(), list);
}

#[tokio::test(start_paused = true)]
async fn a_node_back_from_a_partition_is_resynced() {
    let shared = LocalPubSub::new();
    let link = Arc::new(Cuttable::new(shared.clone()));
    let far = node(link.clone(), "far");
    let near = node(Arc::new(shared.clone()), "near");
    let mut diffs = near.subscribe("room").await.unwrap();
    let mut list = PresenceList::default();
    let ann = far.track("room", "ann", &meta("Ann")).await.unwrap();
    until(&mut diffs, &mut list, |l| l.contains("ann")).await;

    // A leave and a join are lost; the next heartbeat shows near that it missed something.
    link.cut();
    drop(ann);
    let _bob = far.track("room", "bob", &meta("Bob")).await.unwrap();
    tokio::time::sleep(HEARTBEAT / 2).await;
    link.heal();
    let healed = Instant::now();
    until(&mut diffs, &mut list, |l| {
        !l.contains("ann") && l.contains("bob")
    })
    .await;
    assert!(
        healed.elapsed() <= HEARTBEAT * 2,
        "repaired by the next heartbeat and its sync, not the TTL: {:?}",
        healed.elapsed()
    );

    // A partition longer than the TTL: bob expires, then comes back when it heals.
    link.cut();
    until(&mut diffs, &mut list, |l| !l.contains("bob")).await;
    link.heal();
    let changes = until(&mut diffs, &mut list, |l| l.contains("bob")).await;
    assert_eq!(changes.joined, ["bob"]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_makes_a_nodes_users_leave_at_once() {
    let pubsub: Arc<dyn PubSub> = Arc::new(LocalPubSub::new());
    let (a, b) = (node(pubsub.clone(), "a"), node(pubsub.clone(), "b"));
    let mut diffs = b.subscribe("room").await.unwrap();
    let mut list = PresenceList::default();
    let ann = a.track("room", "ann", &meta("Ann")).await.unwrap();
    until(&mut diffs, &mut list, |l| l.contains("ann")).await;

    let stopped = Instant::now();
    a.shutdown().await;
    until(&mut diffs, &mut list, |l| !l.contains("ann")).await;
    assert!(stopped.elapsed() < HEARTBEAT, "{:?}", stopped.elapsed());
    assert!(
        a.track("room", "bob", &meta("Bob")).await.is_err(),
        "a node that shut down tracks nothing"
    );
    drop(ann);
}

#[tokio::test(start_paused = true)]
async fn a_topic_nobody_follows_any_more_is_released() {
    let local = LocalPubSub::new();
    let a = node(Arc::new(local.clone()), "a");
    let diffs = a.subscribe("room").await.unwrap();
    let ann = a.track("room", "ann", &meta("Ann")).await.unwrap();
    assert_eq!(a.topics(), ["room"]);
    assert_eq!(
        local.subscriber_count("presence:room"),
        1,
        "one pub/sub subscription"
    );

    drop(ann);
    assert_eq!(a.topics(), ["room"], "still followed by a subscriber");
    drop(diffs);
    assert!(a.topics().is_empty());
    // The reader task is aborted; its subscription goes with it.
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(local.subscriber_count("presence:room"), 0);

    // Following it again works.
    let mut diffs = a.subscribe("room").await.unwrap();
    let _bob = a.track("room", "bob", &meta("Bob")).await.unwrap();
    assert_eq!(next_diff(&mut diffs).await.joins[0].key, "bob");
}
