//! `/nested`: nested LiveViews (`Meta::live_render`). The page renders two independent child
//! counters and a clock child, each a view of its own (own id, state, events, channel). The
//! parent re-renders without remounting them, a child that crashes rejoins alone (the parent
//! and the other children keep their state), and the children end with the page.

use std::time::Duration;

use liveview_core::{
    html, LiveRender, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult,
};
use serde::Deserialize;

/// The parent page.
#[derive(Debug, Default)]
pub struct NestedPage;

/// The parent's state: how many times it re-rendered on request.
#[derive(Debug, Default)]
pub struct PageState {
    renders: u32,
}

/// The parent's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageEvent {
    /// Re-render the parent (its children stay mounted).
    Rerender,
}

fn session(label: &str) -> Session {
    Session::default().with("label", label)
}

impl LiveView for NestedPage {
    type State = PageState;
    type Event = PageEvent;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Nested views");
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: PageEvent) -> ViewResult {
        let PageEvent::Rerender = event;
        socket.assign(|state| state.renders += 1);
        Ok(())
    }

    fn render(&self, state: &PageState, meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Nested views" }
            p {
                "The parent re-rendered " span #parent-renders { (state.renders) } " times. "
                button #rerender phx-click="rerender" { "Re-render the parent" }
            }
            div.children {
                (meta.live_render::<ChildCounter>(LiveRender::new("counter-left").session(session("Left"))))
                (meta.live_render::<ChildCounter>(LiveRender::new("counter-right").session(session("Right"))))
                (meta.live_render::<Clock>(LiveRender::new("clock")))
            }
            p { a href="/" { "All examples" } }
        }
    }
}

/// A child counter: its label comes from the session its parent gave it.
#[derive(Debug, Default)]
pub struct ChildCounter;

/// A child counter's state.
#[derive(Debug, Default)]
pub struct CounterState {
    label: String,
    count: i64,
}

/// A child counter's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CounterEvent {
    /// Count one more.
    Inc,
    /// Crash this child (its callback panics): it rejoins alone, from zero.
    Crash,
}

impl LiveView for ChildCounter {
    type State = CounterState;
    type Event = CounterEvent;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, session: &Session) -> ViewResult {
        let label = session
            .get("label")
            .and_then(|label| label.as_str())
            .unwrap_or("Counter")
            .to_owned();
        socket.assign(|state| state.label = label);
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: CounterEvent) -> ViewResult {
        match event {
            CounterEvent::Inc => socket.assign(|state| state.count += 1),
            CounterEvent::Crash => {
                panic!("the {} counter crashed on purpose", socket.context().label)
            }
        }
        Ok(())
    }

    fn render(&self, state: &CounterState, _meta: &Meta<'_>) -> Rendered {
        html! {
            section.child-counter {
                h2 { (&state.label) " counter" }
                p { "Count: " span.count { (state.count) } }
                button.inc phx-click="inc" { "+" }
                " "
                button.crash phx-click="crash" { "Crash this child" }
            }
        }
    }
}

/// A child clock: it ticks every second on its own.
#[derive(Debug, Default)]
pub struct Clock;

impl LiveView for Clock {
    type State = u64;
    type Event = ();
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.repeat(Duration::from_secs(1), || ());
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, _: ()) -> ViewResult {
        socket.assign(|seconds| *seconds += 1);
        Ok(())
    }

    fn render(&self, seconds: &u64, _meta: &Meta<'_>) -> Rendered {
        html! {
            section.clock {
                h2 { "Clock" }
                p { "Running for " span.seconds { (seconds) } " s" }
            }
        }
    }
}
