//! `/streams/components`: four live components, each with its own stream called `items`.
//! Every stream has a reference of its own on the wire, so resetting one box's stream leaves
//! the items of the other three on the page.

use liveview_core::{
    html, ComponentSocket, LiveComponent, LiveView, Meta, Params, Rendered, Session, Socket,
    Stream, ViewResult,
};
use serde::Deserialize;

/// One item of a box.
#[derive(Debug, Clone)]
pub struct Item {
    /// The box holding it.
    pub owner: String,
    /// Its number within the box.
    pub n: u32,
}

fn item_dom_id(item: &Item) -> String {
    format!("{}-item-{}", item.owner, item.n)
}

/// A box: a component with a stream.
#[derive(Debug, Default)]
pub struct StreamBox;

/// A box's state.
#[derive(Debug)]
pub struct BoxState {
    items: Stream<Item>,
    next: u32,
}

impl Default for BoxState {
    fn default() -> Self {
        Self {
            items: Stream::new("items", item_dom_id),
            next: 1,
        }
    }
}

impl BoxState {
    fn item(&mut self, owner: &str) -> Item {
        let n = self.next;
        self.next += 1;
        Item {
            owner: owner.to_owned(),
            n,
        }
    }
}

/// A box's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BoxEvent {
    /// Append one item.
    Add,
    /// Replace every item of this box by one new item.
    Reset,
}

impl LiveComponent for StreamBox {
    type State = BoxState;
    type Props = ();
    type Event = BoxEvent;

    fn mount(&self, socket: &mut ComponentSocket<Self>) {
        let owner = socket.id().to_owned();
        socket.assign(|state| {
            let items = [state.item(&owner), state.item(&owner)];
            state.items.extend(items);
        });
    }

    fn update(&self, _socket: &mut ComponentSocket<Self>, _props: ()) {}

    async fn handle_event(
        &self,
        socket: &mut ComponentSocket<Self>,
        event: BoxEvent,
    ) -> ViewResult {
        let owner = socket.id().to_owned();
        socket.assign(|state| {
            let item = state.item(&owner);
            match event {
                BoxEvent::Add => {
                    state.items.insert(item);
                }
                BoxEvent::Reset => {
                    state.items.reset([item]);
                }
            }
        });
        Ok(())
    }

    fn render(&self, state: &BoxState, meta: &Meta<'_>) -> Rendered {
        html! {
            section.stream-box {
                ul id=(format!("{}-list", meta.myself.unwrap_or_default())) phx-update="stream" {
                    @stream (dom_id, item) in &state.items {
                        li id=(dom_id) { (&item.owner) " item " (item.n) }
                    }
                }
                button.add phx-click="add" phx-target=(meta.myself) { "Add" }
                button.reset phx-click="reset" phx-target=(meta.myself) { "Reset" }
            }
        }
    }
}

/// The page holding four boxes.
#[derive(Debug, Default)]
pub struct ComponentStreams;

impl LiveView for ComponentStreams {
    type State = ();
    type Event = ();
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Streams in components");
        Ok(())
    }

    fn render(&self, _state: &(), meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Streams in components" }
            p { "Four components, each with a stream named items. Resetting one leaves the others alone." }
            div.boxes {
                @for name in ["box-a", "box-b", "box-c", "box-d"] {
                    div.box-holder id=(name) { (meta.live_component(StreamBox, name, ())) }
                }
            }
            p { a href="/" { "All examples" } }
        }
    }
}
