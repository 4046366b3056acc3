//! `/hello-toggle` and `/hi/:name`: the smallest views. The toggle flips a greeting on a
//! click; `/hi/:name` reads a path parameter and the query string (`?greeting=Howdy`) in
//! `mount`/`handle_params`, and shows the socket's `id` and `connected`.

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, Url, ViewResult};
use serde::Deserialize;

/// The toggle view.
#[derive(Debug, Default)]
pub struct HelloToggle;

/// The toggle's state.
#[derive(Debug, Default)]
pub struct ToggleState {
    on: bool,
}

/// The toggle's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToggleEvent {
    /// `phx-click="toggle"`.
    Toggle,
}

impl LiveView for HelloToggle {
    type State = ToggleState;
    type Event = ToggleEvent;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Hello toggle");
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: ToggleEvent) -> ViewResult {
        let ToggleEvent::Toggle = event;
        socket.assign(|state| state.on = !state.on);
        Ok(())
    }

    fn render(&self, state: &ToggleState, _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 #greeting { @if state.on { "Hello 👋" } @else { "Goodbye 👋" } }
            button phx-click="toggle" { "Toggle" }
            (crate::back_link())
        }
    }
}

/// The `/hi/:name` view.
#[derive(Debug, Default)]
pub struct HelloName;

/// What `/hi/:name` shows.
#[derive(Debug, Default)]
pub struct NameState {
    name: String,
    greeting: String,
    id: String,
    connected: bool,
    path: String,
}

impl LiveView for HelloName {
    type State = NameState;
    type Event = ();
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, params: &Params, _: &Session) -> ViewResult {
        let name = params.get("name").unwrap_or("stranger").to_owned();
        socket.page_title(format!("Hi {name}"));
        let (id, connected) = (socket.id().to_owned(), socket.connected());
        socket.assign(|state| {
            state.name = name;
            state.id = id;
            state.connected = connected;
        });
        Ok(())
    }

    async fn handle_params(
        &self,
        socket: &mut Socket<Self>,
        url: &Url,
        params: &Params,
    ) -> ViewResult {
        let greeting = params.get("greeting").unwrap_or("Hello").to_owned();
        let path = url.path_and_query();
        socket.assign(|state| {
            state.greeting = greeting;
            state.path = path;
        });
        Ok(())
    }

    fn render(&self, state: &NameState, _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 #hello { (&state.greeting) ", " (&state.name) "!" }
            dl {
                dt { "view id" } dd #view-id { (&state.id) }
                dt { "connected" } dd #connected { @if state.connected { "yes" } @else { "no" } }
                dt { "url" } dd #url { (&state.path) }
            }
            p { a href="/hi/world?greeting=Howdy" { "Howdy, world" } }
            (crate::back_link())
        }
    }
}
