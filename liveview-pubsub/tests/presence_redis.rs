//! Presence over the real Redis backend: two nodes (each a `RedisPubSub` with its own
//! connections and a `Presence`) see each other's joins, leaves and updates; a key tracked
//! on both is one user; a node cut off from Redis leaves after the TTL; after Redis is killed
//! and restarted the nodes find each other again.
//!
//! Uses `REDIS_URL` (set by `cargo xtask test`) or a `redis-server` of its own; the restart
//! test always runs a server of its own (`redis-server` on `PATH`).
#![cfg(feature = "redis")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use liveview_pubsub::{Presence, PresenceDiff, PresenceList, PubSub, RedisPubSub, Subscription};
use support::{redis_url, unreachable, Cuttable, RedisProcess};
use tokio::time::Instant;

// Real time on a shared machine: a TTL of ten heartbeats leaves room for a stalled process.
const HEARTBEAT: Duration = Duration::from_millis(200);
const TTL: Duration = Duration::from_secs(2);
const WAIT: Duration = Duration::from_secs(10);

async fn connect(url: &str, prefix: &str) -> RedisPubSub {
    let connect = RedisPubSub::builder(url)
        .prefix(prefix)
        .connect_timeout(Duration::from_secs(3))
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .connect();
    match tokio::time::timeout(WAIT, connect).await {
        Ok(Ok(node)) => node,
        Ok(Err(err)) => unreachable(url, &err),
        Err(_) => unreachable(url, &"timed out"),
    }
}

fn presence(pubsub: Arc<dyn PubSub>, name: &str) -> Presence {
    Presence::builder(pubsub)
        .node_name(name)
        .heartbeat_interval(HEARTBEAT)
        .ttl(TTL)
        .build()
}

fn prefix(test: &str) -> String {
    format!("lvps-presence-test:{}:{test}:", std::process::id())
}

/// Applies diffs until `done(list)` holds (fails after [`WAIT`]).
async fn until(
    diffs: &mut Subscription,
    list: &mut PresenceList,
    done: impl Fn(&PresenceList) -> bool,
) {
    let deadline = Instant::now() + WAIT;
    while !done(list) {
        let diff: PresenceDiff = tokio::time::timeout_at(deadline, diffs.recv_json())
            .await
            .unwrap_or_else(|_| panic!("presence did not converge: {list:?}"))
            .expect("alive")
            .expect("a diff");
        list.apply(diff);
    }
}

#[tokio::test]
async fn two_nodes_see_each_others_users_over_redis() {
    let url = redis_url();
    let prefix = prefix("two-nodes");
    let a = presence(Arc::new(connect(&url, &prefix).await), "a");
    let b = presence(Arc::new(connect(&url, &prefix).await), "b");
    let mut on_a = a.subscribe("room").await.unwrap();
    let mut on_b = b.subscribe("room").await.unwrap();
    let (mut list_a, mut list_b) = (PresenceList::default(), PresenceList::default());

    let ann_on_a = a
        .track("room", "ann", &serde_json::json!({"typing": false}))
        .await
        .unwrap();
    let ann_on_b = b
        .track("room", "ann", &serde_json::json!({"typing": false}))
        .await
        .unwrap();
    let bob = b
        .track("room", "bob", &serde_json::json!({"typing": false}))
        .await
        .unwrap();
    for (diffs, list) in [(&mut on_a, &mut list_a), (&mut on_b, &mut list_b)] {
        until(diffs, list, |l| {
            l.metas("ann").count() == 2 && l.contains("bob")
        })
        .await;
        assert_eq!(list.len(), 2, "ann's two entries are one user");
    }

    ann_on_b
        .update(&serde_json::json!({"typing": true}))
        .unwrap();
    until(&mut on_a, &mut list_a, |l| {
        l.metas("ann").any(|meta| meta["typing"] == true)
    })
    .await;

    drop((ann_on_a, ann_on_b));
    until(&mut on_a, &mut list_a, |l| !l.contains("ann")).await;
    until(&mut on_b, &mut list_b, |l| !l.contains("ann")).await;
    assert_eq!(a.list::<serde_json::Value>("room").unwrap(), list_a);
    drop(bob);
}

#[tokio::test]
async fn a_node_cut_off_from_redis_leaves_after_the_ttl() {
    let url = redis_url();
    let prefix = prefix("cut-off");
    let link = Arc::new(Cuttable::new(connect(&url, &prefix).await));
    let doomed = presence(link.clone(), "doomed");
    let survivor = presence(Arc::new(connect(&url, &prefix).await), "survivor");
    let mut diffs = survivor.subscribe("room").await.unwrap();
    let mut list = PresenceList::default();
    let _ann = doomed.track("room", "ann", &()).await.unwrap();
    until(&mut diffs, &mut list, |l| l.contains("ann")).await;

    link.cut();
    let cut = Instant::now();
    until(&mut diffs, &mut list, |l| !l.contains("ann")).await;
    let took = cut.elapsed();
    assert!(
        took + HEARTBEAT >= TTL && took <= TTL + HEARTBEAT * 3,
        "left {took:?} after the cut; the TTL is {TTL:?}"
    );
}

#[tokio::test]
async fn after_redis_restarts_the_nodes_find_each_other_again() {
    let mut redis = RedisProcess::start();
    let prefix = prefix("restart");
    let a = presence(Arc::new(connect(&redis.url(), &prefix).await), "a");
    let b = presence(Arc::new(connect(&redis.url(), &prefix).await), "b");
    let mut diffs = b.subscribe("room").await.unwrap();
    let mut list = PresenceList::default();
    let _ann = a.track("room", "ann", &()).await.unwrap();
    until(&mut diffs, &mut list, |l| l.contains("ann")).await;

    // Down for longer than the TTL: ann leaves B's list.
    redis.kill();
    until(&mut diffs, &mut list, |l| !l.contains("ann")).await;
    // Back: A's heartbeats reach B again, B asks for A's state, ann is back.
    redis.restart();
    until(&mut diffs, &mut list, |l| l.contains("ann")).await;
    // New entries flow too.
    let _bob = a.track("room", "bob", &()).await.unwrap();
    until(&mut diffs, &mut list, |l| l.contains("bob")).await;
}
