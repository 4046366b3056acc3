//! Tests of `RedisPubSub` against a real Redis server.
//!
//! They use the `redis-server` (6.2 or newer) at `REDIS_URL` (`cargo xtask test`
//! starts one on a free port and sets it), or else start one of their own on a
//! free port (`redis-server` must be installed), and FAIL if neither works. Each
//! test uses its own topic prefix, so tests can run in parallel against one
//! server.
#![cfg(feature = "redis")]

use std::time::Duration;

use bytes::Bytes;
use liveview_pubsub::{Error, PubSub, PubSubExt, RedisPubSub, Subscription};
use redis::IntoConnectionInfo;

const TIMEOUT: Duration = Duration::from_secs(10);

mod support;

use support::{redis_url, unreachable};

/// A unique per-test prefix.
fn prefix(test: &str) -> String {
    format!("lvps-test:{}:{test}:", std::process::id())
}

/// A "node" connected with the default user.
async fn node(prefix: &str) -> RedisPubSub {
    node_with(redis_url().into_connection_info().unwrap(), prefix).await
}

async fn node_with(info: redis::ConnectionInfo, prefix: &str) -> RedisPubSub {
    let url = redis_url();
    let connect = RedisPubSub::builder(info)
        .prefix(prefix)
        .connect_timeout(Duration::from_secs(3))
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .connect();
    match tokio::time::timeout(TIMEOUT, connect).await {
        Ok(Ok(node)) => node,
        Ok(Err(err)) => unreachable(&url, &err),
        Err(_) => unreachable(&url, &"timed out"),
    }
}

/// A plain connection for inspecting or administering the server.
async fn admin() -> redis::aio::MultiplexedConnection {
    let url = redis_url();
    let client = redis::Client::open(url.as_str()).unwrap_or_else(|e| unreachable(&url, &e));
    match tokio::time::timeout(TIMEOUT, client.get_multiplexed_async_connection()).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(err)) => unreachable(&url, &err),
        Err(_) => unreachable(&url, &"timed out"),
    }
}

/// How many Redis connections are subscribed to `channel` (PUBSUB NUMSUB).
async fn numsub(admin: &mut redis::aio::MultiplexedConnection, channel: &str) -> i64 {
    let (_, count): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(admin)
        .await
        .unwrap();
    count
}

/// Waits until `PUBSUB NUMSUB channel` equals `expected`.
async fn wait_numsub(admin: &mut redis::aio::MultiplexedConnection, channel: &str, expected: i64) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let count = numsub(admin, channel).await;
        if count == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "PUBSUB NUMSUB {channel} stayed {count}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn recv(sub: &mut Subscription) -> Bytes {
    tokio::time::timeout(TIMEOUT, sub.recv())
        .await
        .unwrap_or_else(|_| panic!("no message on {:?} within {TIMEOUT:?}", sub.topic()))
        .expect("backend closed")
}

async fn assert_nothing(sub: &mut Subscription) {
    if let Ok(msg) = tokio::time::timeout(Duration::from_millis(200), sub.recv()).await {
        panic!("unexpected message on {:?}: {msg:?}", sub.topic());
    }
}

/// A temporary ACL user (so a test can kill exactly its own connections) and
/// connection info that logs in as it.
struct AclUser {
    name: String,
    info: redis::ConnectionInfo,
}

impl AclUser {
    async fn create(
        admin: &mut redis::aio::MultiplexedConnection,
        test: &str,
        rules: &[&str],
    ) -> Self {
        let name = format!("lvps-test-{}-{test}", std::process::id());
        let password = "lvps-test-password";
        let mut cmd = redis::cmd("ACL");
        cmd.arg("SETUSER")
            .arg(&name)
            .arg("reset")
            .arg("on")
            .arg(format!(">{password}"))
            .arg("~*")
            .arg("&*");
        for rule in rules {
            cmd.arg(*rule);
        }
        let () = cmd
            .query_async(admin)
            .await
            .expect("ACL SETUSER (needs Redis >= 6.2)");
        let info = redis_url().into_connection_info().unwrap();
        let settings = info
            .redis_settings()
            .clone()
            .set_username(&name)
            .set_password(password);
        let info = info.set_redis_settings(settings);
        Self { name, info }
    }

    async fn delete(self, admin: &mut redis::aio::MultiplexedConnection) {
        let _: i64 = redis::cmd("ACL")
            .arg("DELUSER")
            .arg(&self.name)
            .query_async(admin)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn message_published_on_one_node_reaches_every_node() {
    let prefix = prefix("cross-node");
    let a = node(&prefix).await;
    let b = node(&prefix).await;
    let mut on_a = a.subscribe("room").await.unwrap();
    let mut on_b = b.subscribe("room").await.unwrap();
    let mut on_b2 = b.subscribe("room").await.unwrap();

    a.publish("room", Bytes::from_static(b"from a"))
        .await
        .unwrap();
    for sub in [&mut on_a, &mut on_b, &mut on_b2] {
        assert_eq!(recv(sub).await, &b"from a"[..]);
    }

    b.publish_json("room", &serde_json::json!({ "from": "b" }))
        .await
        .unwrap();
    for sub in [&mut on_a, &mut on_b, &mut on_b2] {
        let msg: serde_json::Value = tokio::time::timeout(TIMEOUT, sub.recv_json())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(msg["from"], "b");
    }

    // Ordered per publisher, binary-safe.
    for i in 0..50u8 {
        a.publish("room", Bytes::from(vec![0, 255, i]))
            .await
            .unwrap();
    }
    for i in 0..50u8 {
        assert_eq!(recv(&mut on_b).await, &[0, 255, i][..]);
    }
}

#[tokio::test]
async fn one_redis_subscription_per_topic_and_unsubscribe_on_last_drop() {
    let prefix = prefix("unsubscribe");
    let channel = format!("{prefix}t");
    let mut admin = admin().await;
    let a = node(&prefix).await;
    let b = node(&prefix).await;

    // Three local subscribers on B are one Redis subscription.
    let first = b.subscribe("t").await.unwrap();
    let mut second = b.subscribe("t").await.unwrap();
    let third = b.subscribe("t").await.unwrap();
    assert_eq!(b.subscriber_count("t"), 3);
    assert_eq!(numsub(&mut admin, &channel).await, 1);

    drop(first);
    drop(third);
    assert_eq!(b.subscriber_count("t"), 1);
    a.publish("t", Bytes::from_static(b"still here"))
        .await
        .unwrap();
    assert_eq!(recv(&mut second).await, &b"still here"[..]);
    assert_eq!(numsub(&mut admin, &channel).await, 1);

    // Last local subscriber gone: topic removed and UNSUBSCRIBE sent.
    drop(second);
    assert_eq!(b.topic_count(), 0);
    wait_numsub(&mut admin, &channel, 0).await;

    // Subscribing again works (SUBSCRIBE again).
    let mut again = b.subscribe("t").await.unwrap();
    assert_eq!(numsub(&mut admin, &channel).await, 1);
    a.publish("t", Bytes::from_static(b"again")).await.unwrap();
    assert_eq!(recv(&mut again).await, &b"again"[..]);

    // Rapid subscribe/drop churn converges to the right state.
    for _ in 0..50 {
        drop(b.subscribe("t").await.unwrap());
    }
    assert_eq!(numsub(&mut admin, &channel).await, 1);
    drop(again);
    wait_numsub(&mut admin, &channel, 0).await;
    for _ in 0..50 {
        drop(b.subscribe("t").await.unwrap());
    }
    wait_numsub(&mut admin, &channel, 0).await;
    assert_eq!(b.topic_count(), 0);
}

#[tokio::test]
async fn many_topics_on_one_connection() {
    let prefix = prefix("many-topics");
    let a = node(&prefix).await;
    let b = node(&prefix).await;
    let mut subs = Vec::new();
    for i in 0..200 {
        subs.push(b.subscribe(&format!("topic:{i}")).await.unwrap());
    }
    assert_eq!(b.topic_count(), 200);
    for i in 0..200 {
        a.publish(&format!("topic:{i}"), Bytes::from(format!("msg {i}")))
            .await
            .unwrap();
    }
    for (i, sub) in subs.iter_mut().enumerate() {
        assert_eq!(recv(sub).await, format!("msg {i}").as_bytes());
    }
    for sub in &mut subs {
        assert_eq!(sub.try_recv(), None, "topic isolation");
    }
    drop(subs);
    assert_eq!(b.topic_count(), 0);
    let mut admin = admin().await;
    wait_numsub(&mut admin, &format!("{prefix}topic:199"), 0).await;
}

#[tokio::test]
async fn prefixes_isolate_applications() {
    let app1 = node(&prefix("app1")).await;
    let app2 = node(&prefix("app2")).await;
    assert_eq!(app1.prefix(), prefix("app1"));
    let mut sub1 = app1.subscribe("t").await.unwrap();
    let mut sub2 = app2.subscribe("t").await.unwrap();
    app1.publish("t", Bytes::from_static(b"app1 only"))
        .await
        .unwrap();
    assert_eq!(recv(&mut sub1).await, &b"app1 only"[..]);
    assert_nothing(&mut sub2).await;
}

#[tokio::test]
async fn publish_without_subscribers_is_ok() {
    let a = node(&prefix("no-subscribers")).await;
    a.publish("nobody", Bytes::from_static(b"x")).await.unwrap();
}

#[tokio::test]
async fn resubscribes_after_the_connection_drops() {
    let prefix = prefix("reconnect");
    let channel = format!("{prefix}t");
    let mut admin = admin().await;
    let user = AclUser::create(&mut admin, "reconnect", &["+@all"]).await;
    let a = node(&prefix).await;
    let b = node_with(user.info.clone(), &prefix).await;
    let mut sub = b.subscribe("t").await.unwrap();
    let mut other = b.subscribe("u").await.unwrap();
    assert_eq!(numsub(&mut admin, &channel).await, 1);

    // Kill every connection of node B (its pub/sub and publish connections).
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("USER")
        .arg(&user.name)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert!(
        killed >= 2,
        "expected to kill B's 2 connections, killed {killed}"
    );

    // B reconnects and resubscribes every topic by itself.
    wait_numsub(&mut admin, &channel, 1).await;
    wait_numsub(&mut admin, &format!("{prefix}u"), 1).await;
    a.publish("t", Bytes::from_static(b"after reconnect"))
        .await
        .unwrap();
    assert_eq!(recv(&mut sub).await, &b"after reconnect"[..]);

    // B's publish connection reconnects too (a publish racing the drop may
    // fail with an error, never hang).
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        match b.publish("u", Bytes::from_static(b"from b")).await {
            Ok(()) => break,
            Err(err) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "publish keeps failing: {err}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    assert_eq!(recv(&mut other).await, &b"from b"[..]);

    // Subscriptions made after the reconnect work as usual.
    let mut late = b.subscribe("late").await.unwrap();
    a.publish("late", Bytes::from_static(b"late"))
        .await
        .unwrap();
    assert_eq!(recv(&mut late).await, &b"late"[..]);

    drop((sub, other, late, b));
    user.delete(&mut admin).await;
}

#[tokio::test]
async fn publish_errors_are_returned() {
    let prefix = prefix("publish-error");
    let mut admin = admin().await;
    let user = AclUser::create(&mut admin, "publish-error", &["+@all", "-publish"]).await;
    let node = node_with(user.info.clone(), &prefix).await;
    let err = node
        .publish("t", Bytes::from_static(b"x"))
        .await
        .expect_err("PUBLISH is denied by the ACL");
    assert!(matches!(err, Error::Redis(_)), "{err:?}");
    // Subscribing is still allowed for this user.
    drop(node.subscribe("t").await.unwrap());
    drop(node);
    user.delete(&mut admin).await;
}

#[tokio::test]
async fn subscribe_errors_are_returned() {
    let prefix = prefix("subscribe-error");
    let mut admin = admin().await;
    let user = AclUser::create(&mut admin, "subscribe-error", &["+@all", "-subscribe"]).await;
    let node = node_with(user.info.clone(), &prefix).await;
    let err = node
        .subscribe("t")
        .await
        .expect_err("SUBSCRIBE is denied by the ACL");
    assert!(matches!(err, Error::Redis(_)), "{err:?}");
    assert_eq!(node.topic_count(), 0, "failed subscription is not kept");
    // The connection is still usable.
    node.publish("t", Bytes::from_static(b"x")).await.unwrap();
    drop(node);
    user.delete(&mut admin).await;
}

#[tokio::test]
async fn connect_fails_when_redis_is_unreachable() {
    // Port 1 on loopback: nothing listens there.
    let result = RedisPubSub::builder("redis://127.0.0.1:1")
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await;
    let err = result.expect_err("nothing listens on port 1");
    assert!(matches!(err, Error::Redis(_)), "{err:?}");
}

#[tokio::test]
async fn dropping_the_node_closes_subscriptions() {
    let prefix = prefix("shutdown");
    let channel = format!("{prefix}t");
    let mut admin = admin().await;
    let a = node(&prefix).await;
    let mut sub = a.subscribe("t").await.unwrap();
    assert_eq!(numsub(&mut admin, &channel).await, 1);
    drop(a);
    let end = tokio::time::timeout(TIMEOUT, sub.recv()).await.unwrap();
    assert_eq!(end, None);
    // The background task exits and closes the pub/sub connection.
    wait_numsub(&mut admin, &channel, 0).await;
}

#[tokio::test]
async fn topics_dropped_faster_than_the_request_queue_drains_are_still_unsubscribed() {
    let prefix = prefix("reconcile");
    let mut admin = admin().await;
    let node = node(&prefix).await;
    // More topics than the (un)subscribe queue holds (1,024).
    let mut subs = Vec::new();
    for i in 0..1500 {
        subs.push(node.subscribe(&format!("t{i}")).await.unwrap());
    }
    assert_eq!(numsub(&mut admin, &format!("{prefix}t1499")).await, 1);
    // Dropped in one go: the connection task cannot run in between (single-threaded test
    // runtime), so the queue fills and the rest is left to its reconciliation.
    drop(subs);
    assert_eq!(node.topic_count(), 0);
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let channels: Vec<String> = redis::cmd("PUBSUB")
            .arg("CHANNELS")
            .arg(format!("{prefix}*"))
            .query_async(&mut admin)
            .await
            .unwrap();
        if channels.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still subscribed to {} channels",
            channels.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Subscribing again after all that works.
    let mut again = node.subscribe("t7").await.unwrap();
    node.publish("t7", Bytes::from_static(b"back"))
        .await
        .unwrap();
    assert_eq!(recv(&mut again).await, &b"back"[..]);
}
