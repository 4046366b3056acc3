//! `/nav/:page` and `/nav-landing`: navigation started by the server. `push_patch` changes the
//! URL and runs `handle_params` in the same view (no remount); `push_redirect` replaces the
//! view by another over the same socket, carrying a flash set just before it (`put_flash`);
//! `redirect` sends the browser to a new page with a full page load.

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, Url, ViewResult};
use serde::Deserialize;

/// The navigation view.
#[derive(Debug, Default)]
pub struct Nav;

/// Its state.
#[derive(Debug, Default)]
pub struct State {
    page: String,
    url: String,
    /// How many times `handle_params` ran in this view (1 after mount).
    params_calls: u32,
}

/// The navigation view's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// `push_patch` to `/nav/<to>`.
    Patch {
        /// The page to go to.
        to: String,
    },
    /// `put_flash` then `push_redirect` to `/nav-landing`.
    LiveRedirect,
    /// `redirect` to `/nav-landing` (a full page load).
    Redirect,
}

impl LiveView for Nav {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn handle_params(
        &self,
        socket: &mut Socket<Self>,
        url: &Url,
        params: &Params,
    ) -> ViewResult {
        let page = params.get("page").unwrap_or_default().to_owned();
        socket.page_title(format!("Nav {page}"));
        let url = url.path_and_query();
        socket.assign(|state| {
            state.page = page;
            state.url = url;
            state.params_calls += 1;
        });
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Patch { to } => socket.push_patch(format!("/nav/{to}"), false),
            Event::LiveRedirect => {
                socket.put_flash("info", "Welcome! You came by push_redirect.");
                socket.push_redirect("/nav-landing", false);
            }
            Event::Redirect => {
                socket.put_flash("info", "Welcome! You came by redirect.");
                socket.redirect("/nav-landing?full=1");
            }
        }
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        html! {
            (crate::flash_messages(meta.flash))
            h1 { "Page " span #page { (&state.page) } }
            p { "URL: " code #url { (&state.url) } }
            p { "handle_params calls in this view: " span #params-calls { (state.params_calls) } }
            p {
                button #patch-a phx-click="patch" phx-value-to="a" { "push_patch to a" }
                " "
                button #patch-b phx-click="patch" phx-value-to="b" { "push_patch to b" }
                " "
                button #live-redirect phx-click="live-redirect" { "push_redirect to the landing page" }
                " "
                button #redirect phx-click="redirect" { "redirect (full page load)" }
            }
            (crate::back_link())
        }
    }
}

/// The page `/nav/:page` navigates to.
#[derive(Debug, Default)]
pub struct Landing;

/// The landing page's state.
#[derive(Debug, Default)]
pub struct LandingState {
    full: bool,
}

impl LiveView for Landing {
    type State = LandingState;
    type Event = ();
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, params: &Params, _: &Session) -> ViewResult {
        socket.page_title("Landing");
        let full = params.get("full").is_some();
        socket.assign(|state| state.full = full);
        Ok(())
    }

    fn render(&self, state: &LandingState, meta: &Meta<'_>) -> Rendered {
        html! {
            (crate::flash_messages(meta.flash))
            h1 #landing { "Landing" }
            @if state.full { p #arrived { "Arrived with a full page load." } }
            p { a #back href="/nav/a" data-phx-link="redirect" data-phx-link-state="push" { "Back to /nav/a" } }
            (crate::back_link())
        }
    }
}
