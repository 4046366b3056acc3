//! `/search`: a search form (`phx-submit`, with `phx-disable-with` on its button). The event
//! only records the query and renders a loading state; it hands the work to `handle_info` with
//! `send_info`, so the client gets the loading state at once and the results as a later `diff`.

use std::time::Duration;

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
use serde::Deserialize;

/// A store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Store {
    /// Its name.
    pub name: &'static str,
    /// Its city.
    pub city: &'static str,
    /// Its zip code.
    pub zip: &'static str,
}

const fn store(name: &'static str, city: &'static str, zip: &'static str) -> Store {
    Store { name, city, zip }
}

/// The stores searched by `/search` and `/autocomplete`.
pub const STORES: &[Store] = &[
    store("Downtown Helena", "Helena", "59601"),
    store("East Helena", "Helena", "59602"),
    store("Westside Helena", "Helena", "59601"),
    store("Billings Heights", "Billings", "59101"),
    store("Billings West End", "Billings", "59102"),
    store("Bozeman Main Street", "Bozeman", "59715"),
    store("Missoula Riverfront", "Missoula", "59801"),
    store("Great Falls Central", "Great Falls", "59401"),
    store("Butte Uptown", "Butte", "59701"),
    store("Kalispell North", "Kalispell", "59901"),
    store("Denver Union Station", "Denver", "80202"),
    store("Denver Highlands", "Denver", "80211"),
    store("Boulder Pearl Street", "Boulder", "80302"),
    store("Chicago Loop", "Chicago", "60601"),
    store("Chicago Wicker Park", "Chicago", "60622"),
    store("Charlotte South End", "Charlotte", "28203"),
    store("Chattanooga Northshore", "Chattanooga", "37405"),
    store("Cheyenne Downtown", "Cheyenne", "82001"),
];

/// The stores whose zip code starts with `zip` or whose city is `city` (case-insensitive).
pub fn find(zip: &str, city: &str) -> Vec<Store> {
    STORES
        .iter()
        .filter(|s| {
            (!zip.is_empty() && s.zip.starts_with(zip))
                || (!city.is_empty() && s.city.eq_ignore_ascii_case(city))
        })
        .copied()
        .collect()
}

/// The search view; `delay` simulates a slow backend.
#[derive(Debug, Clone)]
pub struct Search {
    delay: Duration,
}

impl Default for Search {
    fn default() -> Self {
        Self::new(Duration::from_millis(500))
    }
}

impl Search {
    /// A search whose backend takes `delay`.
    pub fn new(delay: Duration) -> Self {
        Self { delay }
    }
}

/// The search's state.
#[derive(Debug, Default)]
pub struct State {
    zip: String,
    loading: bool,
    searched: bool,
    stores: Vec<Store>,
}

/// The search's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// `phx-submit="zip-search"`.
    #[serde(rename = "zip-search")]
    ZipSearch {
        /// The zip code (prefix).
        zip: String,
    },
}

/// Work the view sends itself.
#[derive(Debug)]
pub enum Info {
    /// Run the search for this zip code.
    Run(String),
}

impl LiveView for Search {
    type State = State;
    type Event = Event;
    type Info = Info;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Search");
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let Event::ZipSearch { zip } = event;
        // A zip code (prefix) has at most five digits: the queued search keeps nothing more
        // of what the client sent.
        let zip: String = zip.trim().chars().take(5).collect();
        socket.send_info(Info::Run(zip.clone()));
        socket.assign(|state| {
            state.zip = zip;
            state.loading = true;
            state.stores.clear();
        });
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: Info) -> ViewResult {
        let Info::Run(zip) = info;
        tokio::time::sleep(self.delay).await;
        let stores = find(&zip, "");
        socket.assign(|state| {
            state.loading = false;
            state.searched = true;
            state.stores = stores;
        });
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Find a store" }
            form #search-form phx-submit="zip-search" {
                input #zip type="text" name="zip" value=(&state.zip) placeholder="Zip code (e.g. 596)" autocomplete="off" readonly[state.loading];
                button type="submit" phx-disable-with="Searching..." { "Search" }
            }
            @if state.loading {
                p.loading #loading { "Searching for " (&state.zip) "…" }
            }
            @if state.searched && !state.loading {
                p #result-count { (state.stores.len()) " stores found" }
            }
            ul #stores {
                @for s in &state.stores, key = s.name {
                    li { b { (s.name) } " " (s.city) " " (s.zip) }
                }
            }
            (crate::back_link())
        }
    }
}
