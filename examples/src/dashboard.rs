//! `/dashboard`: server-pushed updates. `repeat` ticks `handle_info` every second; each tick
//! renders new numbers and pushes a `point` event (`push_event`) to the `Sparkline` client
//! hook (`js/hooks.js`). The timer ends with the view; `shutdown` counts the views that ended,
//! and [`Stats`] counts the live timers, so a test can prove no timer outlives its view.
//!
//! The load is pseudo-random: seeded from the view id, or from [`Dashboard::with_seed`] for
//! tests. Two ticks may draw the same load, and then the slot is (rightly) not sent.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
use serde::Serialize;

/// The dashboard view: the tick interval and the shared [`Stats`].
#[derive(Debug, Clone)]
pub struct Dashboard {
    interval: Duration,
    stats: Arc<Stats>,
    seed: Option<u64>,
}

/// Counters shared by every dashboard of one server.
#[derive(Debug, Default)]
pub struct Stats {
    /// Repeat timers alive: incremented when a view starts one, decremented when the timer's
    /// task is dropped (aborted).
    pub timers: AtomicUsize,
    /// Ticks produced by all timers.
    pub ticks: AtomicU64,
    /// Views whose `shutdown` ran.
    pub shutdowns: AtomicUsize,
}

impl Default for Dashboard {
    fn default() -> Self {
        Self::new(Duration::from_secs(1))
    }
}

impl Dashboard {
    /// A dashboard ticking every `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            stats: Arc::default(),
            seed: None,
        }
    }

    /// Every view draws its numbers from `seed` (instead of a seed taken from its random id),
    /// so a run can be repeated exactly.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The shared counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }
}

/// Decrements [`Stats::timers`] when the timer's closure is dropped with its task.
struct TimerGuard(Arc<Stats>);

impl Drop for TimerGuard {
    fn drop(&mut self) {
        self.0.timers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One dashboard's state.
#[derive(Debug, Default)]
pub struct State {
    ticks: u64,
    load: u32,
    sales: u64,
    timers: usize,
    seed: u64,
}

/// A server message.
#[derive(Debug)]
pub enum Info {
    /// A `repeat` tick.
    Tick,
}

/// The payload of the `point` event pushed to the hook.
#[derive(Debug, Serialize)]
pub struct Point {
    /// The tick number.
    pub tick: u64,
    /// The new load value.
    pub load: u32,
}

fn next_random(seed: &mut u64) -> u64 {
    // A small LCG: the numbers only need to move.
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

impl LiveView for Dashboard {
    type State = State;
    type Event = ();
    type Info = Info;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Dashboard");
        let seed = self
            .seed
            .unwrap_or_else(|| socket.id().bytes().map(u64::from).sum::<u64>());
        socket.assign(|state| {
            state.seed = seed;
            state.load = 50;
        });
        if socket.connected() {
            self.stats.timers.fetch_add(1, Ordering::SeqCst);
            let guard = TimerGuard(self.stats.clone());
            socket.repeat(self.interval, move || {
                guard.0.ticks.fetch_add(1, Ordering::SeqCst);
                Info::Tick
            });
        }
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: Info) -> ViewResult {
        let Info::Tick = info;
        let timers = self.stats.timers.load(Ordering::SeqCst);
        let (tick, load) = socket.assign(|state| {
            state.ticks += 1;
            state.load = (next_random(&mut state.seed) % 101) as u32;
            state.sales += next_random(&mut state.seed) % 10;
            state.timers = timers;
            (state.ticks, state.load)
        });
        socket.push_event("point", &Point { tick, load });
        Ok(())
    }

    fn shutdown(&self, _socket: &mut Socket<Self>) {
        self.stats.shutdowns.fetch_add(1, Ordering::SeqCst);
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Dashboard" }
            dl {
                dt { "ticks" } dd #ticks { (state.ticks) }
                dt { "load" } dd #load { (state.load) "%" }
                dt { "sales" } dd #sales { (state.sales) }
                dt { "dashboard timers running on the server" } dd #timers { (state.timers) }
            }
            p { "Points received by the hook: " span #sparkline phx-hook="Sparkline" phx-update="ignore" {} }
            (crate::back_link())
        }
    }
}
