//! A backend written outside this crate, from its public API alone: two "nodes" share a bus
//! (standing in for a broker), each fans messages out to its local subscribers through a
//! `LocalPubSub` with a topic hook, subscribes upstream on a topic's first subscriber and
//! unsubscribes upstream when the last one is dropped — the `PubSub` trait's contract.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use liveview_pubsub::{BoxFuture, LocalPubSub, PubSub, PubSubExt, Result, Subscription};
use tokio::sync::broadcast;

/// The broker: every node sees every published `(topic, message)`.
type Bus = broadcast::Sender<(String, Bytes)>;

/// One node of the outside backend.
struct BusPubSub {
    bus: Bus,
    local: LocalPubSub,
    /// The topics this node is subscribed to upstream.
    upstream: Arc<Mutex<HashSet<String>>>,
}

impl BusPubSub {
    fn new(bus: &Bus) -> Arc<Self> {
        let upstream = Arc::new(Mutex::new(HashSet::new()));
        let released = upstream.clone();
        let local = LocalPubSub::with_topic_hook(8, move |topic| {
            // The last local subscriber is gone: release the upstream subscription.
            released.lock().unwrap().remove(topic);
        });
        let node = Arc::new(Self {
            bus: bus.clone(),
            local,
            upstream,
        });
        let mut rx = bus.subscribe();
        let weak = node.local.downgrade();
        let upstream = node.upstream.clone();
        tokio::spawn(async move {
            while let Ok((topic, message)) = rx.recv().await {
                let Some(local) = weak.upgrade() else { break };
                if upstream.lock().unwrap().contains(&topic) {
                    local.publish_now(&topic, message);
                }
            }
        });
        node
    }

    fn upstream_topics(&self) -> usize {
        self.upstream.lock().unwrap().len()
    }
}

impl PubSub for BusPubSub {
    fn publish<'a>(&'a self, topic: &'a str, message: Bytes) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let _ = self.bus.send((topic.to_owned(), message));
            Ok(())
        })
    }

    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<Subscription>> {
        Box::pin(async move {
            let subscription = self.local.subscribe_now(topic);
            self.upstream.lock().unwrap().insert(topic.to_owned());
            Ok(subscription)
        })
    }
}

#[tokio::test]
async fn an_outside_backend_delivers_across_nodes_and_releases_topics() {
    let (bus, _) = broadcast::channel(64);
    let (a, b) = (BusPubSub::new(&bus), BusPubSub::new(&bus));
    let backend: Arc<dyn PubSub> = b.clone();

    let mut first = backend.subscribe("room").await.unwrap();
    let mut second = backend.subscribe("room").await.unwrap();
    assert_eq!(b.upstream_topics(), 1);
    a.publish_json("room", &serde_json::json!({"n": 1}))
        .await
        .unwrap();
    let got: serde_json::Value = first.recv_json().await.unwrap().unwrap();
    assert_eq!(got["n"], 1);
    assert_eq!(
        second.recv().await.unwrap(),
        Bytes::from_static(br#"{"n":1}"#)
    );

    drop(first);
    assert_eq!(b.upstream_topics(), 1, "one subscriber is left");
    drop(second);
    assert_eq!(
        b.upstream_topics(),
        0,
        "the last one released the topic upstream"
    );
    assert!(!b.local.has_topic("room"));
}
