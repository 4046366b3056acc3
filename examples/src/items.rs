//! `/items`, `/items/new`, `/items/:id`: one view serving three routes with their action
//! (`Socket::live_action`, Phoenix's `@live_action`). Patch links between them run
//! `handle_params` on the same view (no remount: the mount id stays). The view's container
//! is a `section` with a class, it fills the root layout's slot (a portal outside the
//! container), and `/items/new` has a root layout of its own.

use liveview_core::{
    default_layout, html, Container, LiveView, Meta, Params, Rendered, RouteOptions, Router,
    Session, Socket, Url, ViewError, ViewResult,
};

/// The items view.
#[derive(Debug, Default)]
pub struct Items;

/// Its state.
#[derive(Debug, Default)]
pub struct State {
    mount_id: String,
    action: String,
    selected: Option<u32>,
    params_runs: u32,
}

/// Adds the three routes to `router`.
pub fn routes(router: Router) -> Router {
    router
        .live_action("/items", Items, "index")
        .live_with(
            "/items/new",
            Items,
            RouteOptions::action("new").root_layout(|parts| {
                default_layout(parts).replacen(
                    "</body>",
                    "<div id=\"modal-portal\" class=\"portal\"></div>\n</body>",
                    1,
                )
            }),
        )
        .live_action("/items/:id", Items, "show")
}

/// The items page's events.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// `phx-click="next"`: `push_patch` to the next item's route.
    Next,
}

impl LiveView for Items {
    type State = State;
    type Event = Event;
    type Info = ();

    fn container(&self) -> Container {
        Container::new("section").attr("class", "items-page")
    }

    async fn mount(&self, socket: &mut Socket<Self>, params: &Params, _: &Session) -> ViewResult {
        if let Some(id) = params.get("id") {
            if id.parse::<u32>().map_or(true, |id| id > 1000) {
                return Err(ViewError::not_found(format!("There is no item {id}.")));
            }
        }
        let id = crate::random_name();
        socket.assign(|state| state.mount_id = id);
        Ok(())
    }

    async fn handle_params(
        &self,
        socket: &mut Socket<Self>,
        _: &Url,
        params: &Params,
    ) -> ViewResult {
        let action = socket.live_action().unwrap_or("index").to_owned();
        socket.page_title(format!("Items: {action}"));
        let selected = params.parse::<u32>("id");
        socket.assign(|state| {
            state.action = action;
            state.selected = selected;
            state.params_runs += 1;
        });
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, Event::Next: Event) -> ViewResult {
        let next = socket.context().selected.map_or(1, |id| (id + 1) % 1000);
        socket.push_patch(format!("/items/{next}"), false);
        Ok(())
    }

    fn root_slot(&self, state: &State, _: &Meta<'_>) -> Option<Rendered> {
        Some(html! { aside #items-slot { "Rendered outside the container for " (&state.action) } })
    }

    fn render(&self, state: &State, _: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Items" }
            p { "Action: " b #live-action { (&state.action) } }
            p { "Mount id: " code #mount-id { (&state.mount_id) } " · handle_params runs: " span #params-runs { (state.params_runs) } }
            @if let Some(id) = state.selected {
                p #selected { "Item " (id) }
            }
            nav {
                a #to-index href="/items" data-phx-link="patch" data-phx-link-state="push" { "All items" } " · "
                a #to-new href="/items/new" data-phx-link="patch" data-phx-link-state="push" { "New item" } " · "
                a #to-42 href="/items/42" data-phx-link="patch" data-phx-link-state="push" { "Item 42" }
            }
            button #next phx-click="next" { "Next item (push_patch)" }
            (crate::back_link())
        }
    }
}
