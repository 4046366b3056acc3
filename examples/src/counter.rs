//! `/counter`: a count with `-` and `+` buttons (`phx-click`).

use liveview_core::{html, LiveView, Meta, Rendered, Socket, ViewResult};
use serde::Deserialize;

/// The counter view.
#[derive(Debug, Default)]
pub struct Counter;

/// The counter's state.
#[derive(Debug, Default)]
pub struct State {
    /// The count.
    pub count: i64,
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

impl LiveView for Counter {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(
        &self,
        socket: &mut Socket<Self>,
        _params: &liveview_core::Params,
        _session: &liveview_core::Session,
    ) -> ViewResult {
        socket.page_title("Counter");
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Inc => socket.assign(|state| state.count += 1),
            Event::Dec => socket.assign(|state| state.count -= 1),
        }
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        html! {
            div.counter {
                h1 { "Count: " (state.count) }
                button phx-click="dec" { "-" }
                button phx-click="inc" { "+" }
            }
            p { a href="/" { "All examples" } }
        }
    }
}
