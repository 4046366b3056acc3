//! `/volume`: the arrow keys change the volume anywhere on the page (`phx-window-keydown`);
//! the page title follows the volume (`page_title`), and reaching 0 or 100 shows a flash
//! (`put_flash`) that a click clears (`lv:clear-flash`).

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
use serde::Deserialize;

/// The volume view.
#[derive(Debug, Default)]
pub struct Volume;

/// The volume, 0 to 100 in steps of 10.
#[derive(Debug, Default)]
pub struct State {
    volume: u8,
}

/// The volume's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// `phx-window-keydown="key_update"`: any key; the arrows change the volume.
    KeyUpdate {
        /// The key (`ArrowUp`, `ArrowDown`, …).
        key: String,
    },
}

fn title(volume: u8) -> String {
    format!("Volume {volume}%")
}

impl LiveView for Volume {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.assign(|state| state.volume = 50);
        socket.page_title(title(50));
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let Event::KeyUpdate { key } = event;
        let volume = socket.context().volume;
        let volume = match key.as_str() {
            "ArrowUp" => volume.saturating_add(10).min(100),
            "ArrowDown" => volume.saturating_sub(10),
            _ => return Ok(()),
        };
        if volume == socket.context().volume {
            return Ok(());
        }
        socket.assign(|state| state.volume = volume);
        socket.page_title(title(volume));
        match volume {
            0 => socket.put_flash("error", "Silence!"),
            100 => socket.put_flash("info", "Cranked to 100!"),
            _ => {}
        }
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        html! {
            (crate::flash_messages(meta.flash))
            div phx-window-keydown="key_update" {
                h1 { "Volume: " span #volume { (state.volume) } "%" }
                div.meter style="width: 20em; border: 1px solid #999" {
                    div #bar style=(format!("width: {}%; height: 1em; background: #4a4", state.volume)) {}
                }
                p { "Press ↑ / ↓ anywhere on the page." }
            }
            (crate::back_link())
        }
    }
}
