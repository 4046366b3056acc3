//! `/autocomplete`: city suggestions while typing, from a debounced `phx-change`
//! (`phx-debounce="300"`: one event per pause in typing, not one per key); submitting searches
//! the stores of that city through `send_info`.

use std::collections::BTreeSet;
use std::time::Duration;

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
use serde::Deserialize;

use crate::search::{find, Store, STORES};

/// The autocomplete view; `delay` simulates a slow store search.
#[derive(Debug, Clone)]
pub struct Autocomplete {
    delay: Duration,
}

impl Default for Autocomplete {
    fn default() -> Self {
        Self::new(Duration::from_millis(300))
    }
}

impl Autocomplete {
    /// Searches take `delay` (a slow backend, so the loading state shows).
    pub fn new(delay: Duration) -> Self {
        Self { delay }
    }
}

/// The autocomplete's state.
#[derive(Debug, Default)]
pub struct State {
    city: String,
    matches: Vec<&'static str>,
    /// How many `suggest` events arrived (shows the debounce at work).
    suggests: u32,
    loading: bool,
    stores: Vec<Store>,
}

/// The autocomplete's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// `phx-change="suggest"` (debounced).
    Suggest {
        /// What was typed so far.
        city: String,
    },
    /// `phx-submit="search"`.
    Search {
        /// The city.
        city: String,
    },
}

/// Work the view sends itself.
#[derive(Debug)]
pub enum Info {
    /// Search the stores of this city.
    Run(String),
}

/// The cities starting with `prefix` (case-insensitive), sorted, without duplicates.
pub fn suggest(prefix: &str) -> Vec<&'static str> {
    let prefix = prefix.trim().to_lowercase();
    if prefix.is_empty() {
        return Vec::new();
    }
    STORES
        .iter()
        .map(|s| s.city)
        .filter(|city| city.to_lowercase().starts_with(&prefix))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

impl LiveView for Autocomplete {
    type State = State;
    type Event = Event;
    type Info = Info;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Autocomplete");
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Suggest { city } => {
                let matches = suggest(&city);
                socket.assign(|state| {
                    state.suggests += 1;
                    state.city = city;
                    state.matches = matches;
                });
            }
            Event::Search { city } => {
                socket.send_info(Info::Run(city.clone()));
                socket.assign(|state| {
                    state.city = city;
                    state.loading = true;
                    state.stores.clear();
                });
            }
        }
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: Info) -> ViewResult {
        let Info::Run(city) = info;
        tokio::time::sleep(self.delay).await;
        let stores = find("", city.trim());
        socket.assign(|state| {
            state.loading = false;
            state.stores = stores;
        });
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Find a store by city" }
            form #city-form phx-change="suggest" phx-submit="search" {
                input #city type="text" name="city" value=(&state.city) list="matches" placeholder="City" autocomplete="off" phx-debounce="300";
                button type="submit" phx-disable-with="Searching..." { "Search" }
            }
            datalist #matches {
                @for city in &state.matches { option value=(*city) {} }
            }
            ul #suggestions {
                @for city in &state.matches { li { (*city) } }
            }
            p { "Suggestion requests: " span #suggests { (state.suggests) } }
            @if state.loading { p.loading #loading { "Searching…" } }
            ul #stores {
                @for s in &state.stores, key = s.name {
                    li { b { (s.name) } " " (s.zip) }
                }
            }
            (crate::back_link())
        }
    }
}
