//! `/rtcounter`: a counter shared by every tab (`subscribe` + `broadcast`): a click in one tab
//! updates the count in all of them, through the endpoint's pub/sub and `handle_info`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
use serde::Deserialize;

/// The pub/sub topic the counters share.
pub const TOPIC: &str = "rtcounter";

/// The shared counter view; the count lives in the definition, shared by every connection.
#[derive(Debug, Default, Clone)]
pub struct RtCounter {
    count: Arc<AtomicI64>,
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

impl LiveView for RtCounter {
    type State = State;
    type Event = Event;
    /// The new count, broadcast on [`TOPIC`].
    type Info = i64;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Shared counter");
        socket.subscribe(TOPIC).await?;
        let count = self.count.load(Ordering::SeqCst);
        socket.assign(|state| state.count = count);
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let count = match event {
            Event::Inc => self.count.fetch_add(1, Ordering::SeqCst) + 1,
            Event::Dec => self.count.fetch_sub(1, Ordering::SeqCst) - 1,
        };
        socket.assign(|state| state.count = count);
        socket.broadcast(TOPIC, &count).await?;
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, _count: i64) -> ViewResult {
        // Two tabs' broadcasts may arrive in either order: show the latest count, not the
        // broadcast one.
        let latest = self.count.load(Ordering::SeqCst);
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
                p { "Open this page in two tabs: a click in one updates both." }
            }
            (crate::back_link())
        }
    }
}
