//! `/cards`: stateful live components (`LiveComponent`). Each card keeps its own like count and
//! handles its own clicks (`phx-target=(meta.myself)`): a like sends only that card's diff in
//! `"c"`. The board adds and removes cards; removed cards are destroyed on the server after the
//! client's `cids_destroyed`. A card can tell its parent (`send_parent_info`).

use liveview_core::{
    html, ComponentSocket, LiveComponent, LiveView, Meta, Params, Rendered, Session, Socket,
    ViewError, ViewResult,
};
use serde::Deserialize;

/// One card: a stateful component.
#[derive(Debug, Default)]
pub struct Card;

/// A card's own state.
#[derive(Debug, Default)]
pub struct CardState {
    title: String,
    likes: u32,
}

/// Events targeted at a card.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardEvent {
    /// `phx-click="like"` with `phx-target` = the card.
    Like,
    /// Ask the board to highlight this card.
    Star,
}

impl LiveComponent for Card {
    type State = CardState;
    type Props = String;
    type Event = CardEvent;

    fn update(&self, socket: &mut ComponentSocket<Self>, title: String) {
        socket.assign(|state| state.title = title);
    }

    async fn handle_event(
        &self,
        socket: &mut ComponentSocket<Self>,
        event: CardEvent,
    ) -> ViewResult {
        match event {
            CardEvent::Like => socket.assign(|state| state.likes += 1),
            CardEvent::Star => socket.send_parent_info(Info::Starred(socket.id().to_owned())),
        }
        Ok(())
    }

    fn render(&self, state: &CardState, meta: &Meta<'_>) -> Rendered {
        html! {
            section.card id=(format!("card-{}", meta.myself.unwrap_or_default())) {
                h2 { (&state.title) }
                span.likes { (state.likes) }
                " "
                button.like phx-click="like" phx-target=(meta.myself) { "like" }
                button.star phx-click="star" phx-target=(meta.myself) { "star" }
            }
        }
    }
}

/// The board view.
#[derive(Debug, Default)]
pub struct Cards;

/// The board's state.
#[derive(Debug, Default)]
pub struct State {
    cards: Vec<(u32, String)>,
    next: u32,
    starred: Option<String>,
}

/// The board's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// Add a card.
    Add,
    /// Remove a card (`phx-value-id`).
    Remove {
        /// The card id.
        id: String,
    },
}

/// Messages from the cards.
#[derive(Debug)]
pub enum Info {
    /// A card asked to be starred.
    Starred(String),
}

impl LiveView for Cards {
    type State = State;
    type Event = Event;
    type Info = Info;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Cards");
        socket.assign(|state| {
            state.cards = vec![(1, "Solar".into()), (2, "Wind".into()), (3, "Hydro".into())];
            state.next = 4;
        });
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Add => socket.assign(|state| {
                let id = state.next;
                state.next += 1;
                state.cards.push((id, format!("Card {id}")));
            }),
            Event::Remove { id } => {
                let id: u32 = id.parse().map_err(|_| ViewError::msg("bad card id"))?;
                socket.assign(|state| state.cards.retain(|(card, _)| *card != id));
            }
        }
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: Info) -> ViewResult {
        let Info::Starred(id) = info;
        socket.assign(|state| state.starred = Some(id));
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Cards" }
            p #starred { "Starred: " (state.starred.as_deref().unwrap_or("none")) }
            div #cards {
                @for (id, title) in &state.cards, key = id {
                    div.slot data-card=(id) {
                        (meta.live_component(Card, format!("c{id}"), title.clone()))
                        button.remove phx-click="remove" phx-value-id=(id) { "remove" }
                    }
                }
            }
            button #add phx-click="add" { "add card" }
            (crate::back_link())
        }
    }
}
