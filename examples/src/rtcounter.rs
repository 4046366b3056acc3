//! `/rtcounter`: a counter shared by every tab on every node (`subscribe` + `broadcast`): a
//! click in one tab updates the count in all of them, through the endpoint's pub/sub and
//! `handle_info`.
//!
//! Across nodes the count is a sum of contributions (a PN-counter): each node counts its own
//! clicks and broadcasts its total with a version; every node keeps the latest total of each
//! node and shows the sum, so concurrent clicks on two nodes add up instead of overwriting
//! each other. A node that starts later says `hello` and the others answer with their totals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use liveview_core::pubsub::{PubSub, PubSubExt};
use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
use serde::{Deserialize, Serialize};

/// The pub/sub topic the counters share.
pub const TOPIC: &str = "rtcounter";

/// The shared counter view; the counts live in the definition, shared by every connection
/// of this node.
#[derive(Debug, Clone)]
pub struct RtCounter {
    replica: Arc<Replica>,
}

/// This node's copy of the count.
#[derive(Debug)]
struct Replica {
    node: String,
    /// Each node's latest `(version, total)`.
    totals: Mutex<HashMap<String, (u64, i64)>>,
    /// Whether the task answering other nodes' `hello` runs.
    started: AtomicBool,
}

/// One tab's state: the count it shows.
#[derive(Debug, Default)]
pub struct State {
    count: i64,
}

/// The counter's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// `phx-click="inc"`.
    Inc,
    /// `phx-click="dec"`.
    Dec,
}

/// What the nodes say on [`TOPIC`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Info {
    /// A node's total of its own clicks, at its `version`-th change.
    Total {
        /// The node.
        node: String,
        /// Grows with each change of the node's total.
        version: u64,
        /// The sum of the node's `+1`s and `-1`s.
        total: i64,
    },
    /// A node that just started asks for everyone's total.
    Hello {
        /// The node asking.
        hello: String,
    },
}

impl Default for RtCounter {
    fn default() -> Self {
        Self {
            replica: Arc::new(Replica {
                node: crate::random_name(),
                totals: Mutex::default(),
                started: AtomicBool::new(false),
            }),
        }
    }
}

impl Replica {
    /// The count: the sum of every node's total.
    fn count(&self) -> i64 {
        self.lock().values().map(|(_, total)| total).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, i64)>> {
        self.totals.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `delta` to this node's total; returns what to broadcast and the new count.
    fn add(&self, delta: i64) -> (Info, i64) {
        let mut totals = self.lock();
        let (version, total) = totals.entry(self.node.clone()).or_insert((0, 0));
        *version += 1;
        *total += delta;
        let info = Info::Total {
            node: self.node.clone(),
            version: *version,
            total: *total,
        };
        let count = totals.values().map(|(_, total)| total).sum();
        (info, count)
    }

    /// Keeps a node's total if it is newer than the one known.
    fn apply(&self, node: &str, version: u64, total: i64) {
        let mut totals = self.lock();
        let known = totals.entry(node.to_owned()).or_insert((0, 0));
        if version > known.0 {
            *known = (version, total);
        }
    }

    /// This node's total, as broadcast.
    fn own(&self) -> Option<Info> {
        let totals = self.lock();
        totals.get(&self.node).map(|(version, total)| Info::Total {
            node: self.node.clone(),
            version: *version,
            total: *total,
        })
    }
}

/// Says `hello`, then answers the other nodes' `hello`s with this node's total and applies
/// every total it hears, while the replica exists.
async fn replicate(replica: Weak<Replica>, pubsub: Arc<dyn PubSub>) {
    let Some(node) = replica.upgrade().map(|r| r.node.clone()) else {
        return;
    };
    let mut subscription = match pubsub.subscribe(TOPIC).await {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::warn!(%error, "rtcounter: cannot follow the other nodes");
            return;
        }
    };
    if let Err(error) = pubsub
        .publish_json(TOPIC, &Info::Hello { hello: node })
        .await
    {
        tracing::warn!(%error, "rtcounter: cannot greet the other nodes");
    }
    while let Some(message) = subscription.recv_json::<Info>().await {
        let Some(replica) = replica.upgrade() else {
            return;
        };
        let Ok(info) = message else {
            continue;
        };
        match info {
            Info::Total {
                node,
                version,
                total,
            } => replica.apply(&node, version, total),
            Info::Hello { hello } if hello != replica.node => {
                if let Some(own) = replica.own() {
                    if let Err(error) = pubsub.publish_json(TOPIC, &own).await {
                        tracing::warn!(%error, "rtcounter: cannot answer a hello");
                    }
                }
            }
            Info::Hello { .. } => {}
        }
    }
}

impl LiveView for RtCounter {
    type State = State;
    type Event = Event;
    type Info = Info;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Shared counter");
        socket.subscribe(TOPIC).await?;
        if let Some(pubsub) = socket.pubsub() {
            if !self.replica.started.swap(true, Ordering::SeqCst) {
                tokio::spawn(replicate(Arc::downgrade(&self.replica), pubsub.clone()));
            }
        }
        let count = self.replica.count();
        socket.assign(|state| state.count = count);
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let delta = match event {
            Event::Inc => 1,
            Event::Dec => -1,
        };
        let (info, count) = self.replica.add(delta);
        socket.assign(|state| state.count = count);
        socket.broadcast(TOPIC, &info).await?;
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: Info) -> ViewResult {
        if let Info::Total {
            node,
            version,
            total,
        } = info
        {
            // Applied here too (not only by the replica task), so the count shown is current.
            self.replica.apply(&node, version, total);
        }
        let latest = self.replica.count();
        if socket.context().count != latest {
            socket.assign(|state| state.count = latest);
        }
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        html! {
            div.counter {
                h1 { "Shared count: " span #count { (state.count) } }
                button phx-click="dec" { "-" }
                button phx-click="inc" { "+" }
                p { "Open this page in two tabs (or on two nodes): a click in one updates both." }
            }
            (crate::back_link())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_clicks_on_two_nodes_add_up() {
        let (a, b) = (RtCounter::default(), RtCounter::default());
        let (from_a, _) = a.replica.add(1);
        let (from_b, _) = b.replica.add(1);
        let (from_b2, _) = b.replica.add(-1);
        for (replica, info) in [
            (&a.replica, &from_b),
            (&a.replica, &from_b2),
            (&b.replica, &from_a),
        ] {
            let Info::Total {
                node,
                version,
                total,
            } = info.clone()
            else {
                panic!()
            };
            replica.apply(&node, version, total);
        }
        assert_eq!(a.replica.count(), 1);
        assert_eq!(b.replica.count(), 1);
        // An old total arriving late changes nothing.
        let Info::Total { node, total, .. } = from_b else {
            panic!()
        };
        a.replica.apply(&node, 1, total);
        assert_eq!(a.replica.count(), 1);
    }

    #[test]
    fn messages_decode_as_what_they_are() {
        let hello: Info = serde_json::from_str(r#"{"hello":"n1"}"#).unwrap();
        assert_eq!(hello, Info::Hello { hello: "n1".into() });
        let total: Info = serde_json::from_str(r#"{"node":"n1","version":2,"total":-3}"#).unwrap();
        assert_eq!(
            total,
            Info::Total {
                node: "n1".into(),
                version: 2,
                total: -3
            }
        );
    }
}
