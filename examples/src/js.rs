//! `/js`: JS commands. A modal, tabs and a dropdown run in the browser alone (no frame is
//! sent to open or close them), with CSS transitions; the modal's "Confirm" pushes an event and
//! closes in one chain; a client hook asks the server and receives its reply
//! (`Socket::reply`).

use liveview_core::js::{ClassOpts, Target, ToggleOpts, Transition, VisibilityOpts, JS};
use liveview_core::ViewResult;
use liveview_core::{html, JsCommands, LiveView, Meta, Params, Rendered, Session, Socket};
use serde::{Deserialize, Serialize};

/// The page's state: how often the modal was confirmed, how many questions were answered.
#[derive(Debug, Default)]
pub struct State {
    confirmed: u32,
    answered: u32,
}

/// The events: the modal's confirm button, and the hook's question.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// "Confirm" in the modal.
    Confirm,
    /// The `Ask` hook's `pushEvent("ask", {n})`: the server replies with `n` squared.
    Ask {
        /// The number to square.
        n: i64,
    },
}

/// The reply to `ask`.
#[derive(Debug, Serialize)]
struct Answer {
    square: i64,
}

/// The JS commands page.
#[derive(Debug, Default)]
pub struct JsDemo;

const TABS: [(&str, &str, &str); 3] = [
    (
        "overview",
        "Overview",
        "JS commands change the page in the browser: no round trip, no frame.",
    ),
    (
        "details",
        "Details",
        "Each command is typed in Rust and rendered as the JSON the client runs.",
    ),
    (
        "faq",
        "FAQ",
        "State set by JS commands survives server patches (the client keeps it).",
    ),
];

/// A selector with both kinds of quotes, to show the commands' JSON survives escaping.
const QUOTED: &str = r#"[data-label="it's \"quoted\""]"#;

/// Opens the modal: show it with a fade, then focus its first button.
fn open_modal() -> JsCommands {
    JS::show_with(
        "#modal",
        VisibilityOpts {
            transition: Some(Transition::new("fade", "fade-from", "fade-to")),
            time: Some(150),
            display: Some("flex".into()),
            ..Default::default()
        },
    )
    .push_focus(Target::This)
    .focus_first("#modal-panel")
}

/// Closes the modal with a fade and gives the focus back.
fn close_modal() -> JsCommands {
    JS::hide_with(
        "#modal",
        VisibilityOpts {
            transition: Some(Transition::new("fade", "fade-to", "fade-from")),
            time: Some(150),
            ..Default::default()
        },
    )
    .pop_focus()
}

/// Shows tab `id`: hide every panel, show this one, move the `active` class.
fn select_tab(id: &str) -> JsCommands {
    JS::hide(".tab-panel")
        .show(format!("#panel-{id}"))
        .remove_class("active", ".tab")
        .add_class("active", Target::This)
        .set_attribute("aria-selected", "true", Target::This)
}

/// Opens or closes the dropdown, with a slide.
fn toggle_menu() -> JsCommands {
    JS::toggle_with(
        "#menu",
        ToggleOpts {
            ins: Some(Transition::new("slide", "slide-from", "slide-to")),
            outs: Some(Transition::new("slide", "slide-to", "slide-from")),
            time: Some(120),
            ..Default::default()
        },
    )
    .toggle_attribute("aria-expanded", "true", Some("false"), "#menu-button")
}

impl LiveView for JsDemo {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("JS commands");
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Confirm => socket.assign(|state| state.confirmed += 1),
            Event::Ask { n } => {
                socket.assign(|state| state.answered += 1);
                // The hook's pushEvent callback receives this (the reply's "r").
                socket.reply(&Answer {
                    square: n.saturating_mul(n),
                });
            }
        }
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        let close = close_modal();
        let flash = JS::transition("flash", "#confirmed", Some(400));
        html! {
            h1 { "JS commands" }
            p.lead { "A modal, tabs and a dropdown driven by JS commands: they open and close in the browser, with transitions, and send nothing to the server." }

            section.card {
                h2 { "Modal" }
                button #open-modal.btn phx-click=(open_modal()) { "Open the modal" }
                p #confirmed { "Confirmed " (state.confirmed) " times" }
                div #modal.modal style="display: none" phx-window-keydown=(&close) phx-key="Escape" data-cancel=(&close) {
                    div #modal-panel.modal-panel role="dialog" aria-modal="true" aria-labelledby="modal-title" phx-click-away=(JS::exec("data-cancel", "#modal")) {
                        h3 #modal-title { "Are you sure?" }
                        p { "Closing sends nothing; confirming pushes one event and closes in the same chain." }
                        div.actions {
                            button #cancel-modal.btn.btn-secondary phx-click=(&close) { "Cancel" }
                            button #confirm-modal.btn phx-click=(JS::push("confirm").then(close.clone()).then(flash)) { "Confirm" }
                        }
                    }
                }
            }

            section.card {
                h2 { "Tabs" }
                div.tabs role="tablist" {
                    @for (index, (id, label, _)) in TABS.iter().enumerate() {
                        button id=(format!("tab-{id}")) class=(if index == 0 { "tab active" } else { "tab" }) role="tab" phx-click=(select_tab(id)) { (*label) }
                    }
                }
                @for (index, (id, _, text)) in TABS.iter().enumerate() {
                    div.tab-panel id=(format!("panel-{id}")) role="tabpanel" style=(if index == 0 { "" } else { "display: none" }) {
                        p { (*text) }
                    }
                }
            }

            section.card {
                h2 { "Dropdown" }
                div.dropdown {
                    button #menu-button.btn.btn-secondary aria-haspopup="true" aria-expanded="false" phx-click=(toggle_menu()) { "Options ▾" }
                    ul #menu.menu style="display: none" phx-click-away=(JS::hide("#menu").set_attribute("aria-expanded", "false", "#menu-button")) {
                        li { a href="#modal" phx-click=(JS::hide("#menu").then(open_modal())) { "Open the modal" } }
                        li { a href="#tabs" phx-click=(JS::hide("#menu").toggle_class_with("highlight", ".tabs", ClassOpts::default())) { "Highlight the tabs" } }
                        li { a #highlight-quoted href="#quoted" phx-click=(JS::hide("#menu").add_class("highlight", QUOTED)) { "Highlight the quoted note" } }
                    }
                }
                p #quoted data-label=r#"it's "quoted""# { "A note whose selector has both kinds of quotes: the command's JSON is escaped in the attribute and reaches the client intact." }
            }

            section.card {
                h2 { "A hook that gets a reply" }
                p { "The hook calls " code { "pushEvent(\"ask\", {n}, reply => …)" } "; the server answers with " code { "socket.reply(…)" } "." }
                div #ask phx-hook="Ask" phx-update="ignore" data-n="12" {
                    button #ask-button.btn type="button" { "Square 12 on the server" }
                    " "
                    output #answer {}
                }
                p #answered { "Answered " (state.answered) " questions" }
            }
            (crate::back_link())
        }
    }
}
