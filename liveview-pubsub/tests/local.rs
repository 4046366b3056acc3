//! Tests of the in-process backend, `LocalPubSub`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use liveview_pubsub::{LocalPubSub, PubSub, PubSubExt, Subscription, DEFAULT_CAPACITY};
use serde::{Deserialize, Serialize};

const TIMEOUT: Duration = Duration::from_secs(5);

async fn recv(sub: &mut Subscription) -> Bytes {
    tokio::time::timeout(TIMEOUT, sub.recv())
        .await
        .unwrap_or_else(|_| panic!("no message on {:?} within {TIMEOUT:?}", sub.topic()))
        .expect("backend closed")
}

#[tokio::test]
async fn delivers_to_every_subscriber_in_order() {
    let pubsub = LocalPubSub::new();
    let mut subs = Vec::new();
    for _ in 0..100 {
        subs.push(pubsub.subscribe("room").await.unwrap());
    }
    assert_eq!(pubsub.subscriber_count("room"), 100);
    for i in 0..3 {
        pubsub
            .publish("room", Bytes::from(format!("m{i}")))
            .await
            .unwrap();
    }
    for sub in &mut subs {
        for i in 0..3 {
            assert_eq!(recv(sub).await, format!("m{i}").as_bytes());
        }
        assert_eq!(sub.try_recv(), None);
        assert_eq!(sub.lagged(), 0);
    }
}

#[tokio::test]
async fn topics_are_isolated() {
    let pubsub = LocalPubSub::new();
    let mut a = pubsub.subscribe("a").await.unwrap();
    let mut b = pubsub.subscribe("b").await.unwrap();
    let mut a_prefix = pubsub.subscribe("a:").await.unwrap();
    pubsub
        .publish("a", Bytes::from_static(b"for a"))
        .await
        .unwrap();
    assert_eq!(recv(&mut a).await, &b"for a"[..]);
    assert_eq!(b.try_recv(), None);
    assert_eq!(a_prefix.try_recv(), None);
    assert_eq!(a.topic(), "a");
    assert_eq!(b.topic(), "b");
}

#[tokio::test]
async fn dropping_the_last_subscription_removes_the_topic() {
    let pubsub = LocalPubSub::new();
    let first = pubsub.subscribe("t").await.unwrap();
    let second = pubsub.subscribe("t").await.unwrap();
    let other = pubsub.subscribe("u").await.unwrap();
    assert_eq!(pubsub.topic_count(), 2);
    assert_eq!(pubsub.subscriber_count("t"), 2);

    drop(first);
    assert_eq!(pubsub.subscriber_count("t"), 1);
    assert_eq!(pubsub.topic_count(), 2);

    drop(second);
    assert_eq!(pubsub.subscriber_count("t"), 0);
    assert_eq!(pubsub.topics(), vec!["u".to_owned()]);

    drop(other);
    assert_eq!(pubsub.topic_count(), 0);

    // Many short-lived topics leave nothing behind.
    for i in 0..1000 {
        let _sub = pubsub.subscribe(&format!("ephemeral:{i}")).await.unwrap();
    }
    assert_eq!(pubsub.topic_count(), 0);
    assert!(pubsub.topics().is_empty());
}

#[tokio::test]
async fn dropping_one_subscription_keeps_delivering_to_the_others() {
    let pubsub = LocalPubSub::new();
    let mut keep = pubsub.subscribe("t").await.unwrap();
    let gone = pubsub.subscribe("t").await.unwrap();
    drop(gone);
    assert_eq!(pubsub.publish_now("t", Bytes::from_static(b"x")), 1);
    assert_eq!(recv(&mut keep).await, &b"x"[..]);
}

#[tokio::test]
async fn slow_subscriber_does_not_block_the_publisher() {
    let pubsub = LocalPubSub::with_capacity(8);
    assert_eq!(pubsub.capacity(), 8);
    let mut slow = pubsub.subscribe("t").await.unwrap();
    let mut fast = pubsub.subscribe("t").await.unwrap();

    // `slow` never reads while 1000 messages are published; the publisher
    // must not wait for it.
    tokio::time::timeout(TIMEOUT, async {
        for i in 0..1000u32 {
            pubsub
                .publish("t", Bytes::from(i.to_string()))
                .await
                .unwrap();
            assert_eq!(recv(&mut fast).await, i.to_string().as_bytes());
        }
    })
    .await
    .expect("publisher was blocked by a slow subscriber");

    assert_eq!(fast.lagged(), 0);
    // The slow subscriber keeps the first 8 messages (bounded memory) and
    // the rest are dropped and counted.
    assert_eq!(slow.lagged(), 992);
    for i in 0..8u32 {
        assert_eq!(recv(&mut slow).await, i.to_string().as_bytes());
    }
    assert_eq!(slow.try_recv(), None);

    // Once it has caught up it receives new messages again.
    pubsub
        .publish("t", Bytes::from_static(b"later"))
        .await
        .unwrap();
    assert_eq!(recv(&mut slow).await, &b"later"[..]);
    assert_eq!(slow.lagged(), 992);
}

#[tokio::test]
async fn publish_without_subscribers_is_ok() {
    let pubsub = LocalPubSub::new();
    pubsub
        .publish("nobody", Bytes::from_static(b"x"))
        .await
        .unwrap();
    assert_eq!(pubsub.publish_now("nobody", Bytes::new()), 0);
    assert_eq!(pubsub.topic_count(), 0);

    drop(pubsub.subscribe("nobody").await.unwrap());
    pubsub
        .publish("nobody", Bytes::from_static(b"x"))
        .await
        .unwrap();
}

#[tokio::test]
async fn messages_published_before_subscribing_are_not_received() {
    let pubsub = LocalPubSub::new();
    pubsub
        .publish("t", Bytes::from_static(b"early"))
        .await
        .unwrap();
    let mut sub = pubsub.subscribe("t").await.unwrap();
    pubsub
        .publish("t", Bytes::from_static(b"late"))
        .await
        .unwrap();
    assert_eq!(recv(&mut sub).await, &b"late"[..]);
}

#[tokio::test]
async fn recv_returns_none_when_the_backend_is_dropped() {
    let pubsub = LocalPubSub::new();
    let clone = pubsub.clone();
    let mut sub = pubsub.subscribe("t").await.unwrap();
    pubsub
        .publish("t", Bytes::from_static(b"queued"))
        .await
        .unwrap();
    drop(pubsub);
    // A clone still keeps it alive.
    clone
        .publish("t", Bytes::from_static(b"queued 2"))
        .await
        .unwrap();
    drop(clone);
    assert_eq!(recv(&mut sub).await, &b"queued"[..]);
    assert_eq!(recv(&mut sub).await, &b"queued 2"[..]);
    let end = tokio::time::timeout(TIMEOUT, sub.recv()).await.unwrap();
    assert_eq!(end, None);
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Chat {
    from: String,
    text: String,
}

#[tokio::test]
async fn json_helpers_work_through_a_trait_object() {
    let pubsub: Arc<dyn PubSub> = Arc::new(LocalPubSub::new());
    let mut sub = pubsub.subscribe("chat").await.unwrap();
    let msg = Chat {
        from: "ann".into(),
        text: "hi".into(),
    };
    pubsub.publish_json("chat", &msg).await.unwrap();
    pubsub
        .publish("chat", Bytes::from_static(b"not json"))
        .await
        .unwrap();

    let got: Chat = sub.recv_json().await.unwrap().unwrap();
    assert_eq!(got, msg);
    let bad = sub.recv_json::<Chat>().await.unwrap();
    assert!(
        matches!(bad, Err(liveview_pubsub::Error::Json(_))),
        "{bad:?}"
    );

    // `Arc<dyn PubSub>` is itself a `PubSub`.
    fn takes_generic<P: PubSub>(_: &P) {}
    takes_generic(&pubsub);
}

#[tokio::test]
async fn recv_is_cancel_safe_in_select() {
    let pubsub = LocalPubSub::new();
    let mut sub = pubsub.subscribe("t").await.unwrap();
    // Lose the race against a ready branch several times; nothing is lost.
    for _ in 0..3 {
        tokio::select! {
            biased;
            () = std::future::ready(()) => {}
            _ = sub.recv() => panic!("no message yet"),
        }
    }
    pubsub.publish("t", Bytes::from_static(b"x")).await.unwrap();
    assert_eq!(recv(&mut sub).await, &b"x"[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_subscribers_and_publishers() {
    let pubsub = LocalPubSub::new();
    let mut tasks = Vec::new();
    for t in 0..16 {
        let pubsub = pubsub.clone();
        tasks.push(tokio::spawn(async move {
            let topic = format!("topic:{}", t % 4);
            for round in 0..50 {
                let mut sub = pubsub.subscribe(&topic).await.unwrap();
                let mine = format!("{t}/{round}");
                pubsub
                    .publish(&topic, Bytes::from(mine.clone()))
                    .await
                    .unwrap();
                // Other tasks publish on the same topic: skip their messages.
                loop {
                    if recv(&mut sub).await == mine.as_bytes() {
                        break;
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(pubsub.topic_count(), 0);
}

#[tokio::test]
async fn defaults_and_debug() {
    let pubsub = LocalPubSub::default();
    assert_eq!(pubsub.capacity(), DEFAULT_CAPACITY);
    assert_eq!(LocalPubSub::with_capacity(0).capacity(), 1);
    let sub = pubsub.subscribe("t").await.unwrap();
    assert!(format!("{pubsub:?}").contains("LocalPubSub"));
    assert!(format!("{sub:?}").contains("\"t\""));
}
