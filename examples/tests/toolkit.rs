//! Every example driven with the in-process test toolkit (`liveview_core::testing`): the dead
//! render, the connected join and every interaction go through the real runtime, and the HTML
//! is merged as the browser's client merges it. Fast: no browser, no socket.

#[path = "toolkit/components.rs"]
mod components;
#[path = "toolkit/counter.rs"]
mod counter;
#[path = "toolkit/forms.rs"]
mod forms;
#[path = "toolkit/js.rs"]
mod js;
#[path = "toolkit/live_updates.rs"]
mod live_updates;
#[path = "toolkit/navigation.rs"]
mod navigation;
#[path = "toolkit/nested.rs"]
mod nested;
#[path = "toolkit/pages.rs"]
mod pages;
#[path = "toolkit/uploads.rs"]
mod uploads;
#[path = "toolkit/users.rs"]
mod users;

use std::sync::Arc;

use liveview_core::Endpoint;

/// The examples' endpoint (in-process pub/sub, a random key).
pub fn app() -> Arc<Endpoint> {
    examples::app(None).expect("the examples' endpoint builds")
}
