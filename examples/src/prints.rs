//! `/prints`: a range slider in a form (`phx-change`); every move recomputes the price.

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
use serde::Deserialize;

/// The prints view.
#[derive(Debug, Default)]
pub struct Prints;

/// How many prints.
#[derive(Debug, Default)]
pub struct State {
    count: u32,
}

/// The prints' events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// `phx-change="update"` on the form.
    Update {
        /// The slider's value (decoded from the form's text; a value that is not a number is
        /// refused with an error naming `photo_count`).
        photo_count: u32,
    },
}

/// The price in cents of `count` prints: 50 cents each, 20% off from 100.
pub fn price_cents(count: u32) -> u32 {
    let full = count * 50;
    if count >= 100 {
        full * 8 / 10
    } else {
        full
    }
}

impl LiveView for Prints {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Prints");
        socket.assign(|state| state.count = 10);
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let Event::Update { photo_count } = event;
        let count = photo_count.clamp(10, 500);
        socket.assign(|state| state.count = count);
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        let cents = price_cents(state.count);
        html! {
            h1 { "Photo prints" }
            form #prints-form phx-change="update" {
                label for="photo_count" { "Prints: " span #count { (state.count) } }
                input #photo_count type="range" name="photo_count" min="10" max="500" step="10" value=(state.count);
            }
            p { "Price: " span #price { "$" (cents / 100) "." (format!("{:02}", cents % 100)) } }
            (crate::back_link())
        }
    }
}
