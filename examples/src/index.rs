//! `/`: the index page linking every example.

use liveview_core::{html, LiveView, Meta, Rendered};

/// The examples, as `(path, description)`.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("/counter", "Counter: phx-click buttons"),
    (
        "/rtcounter",
        "Shared counter: subscribe and broadcast across tabs and nodes",
    ),
    ("/hello-toggle", "Hello toggle: the smallest view"),
    (
        "/hi/world?greeting=Howdy",
        "Hi /hi/:name: path parameters and the query string",
    ),
    (
        "/volume",
        "Volume: window key events, page title, flash messages",
    ),
    ("/prints", "Prints: a range slider with phx-change"),
    (
        "/dashboard",
        "Dashboard: repeat timers, push_event to a client hook, shutdown",
    ),
    (
        "/search",
        "Search: phx-submit with a loading state, send_info does the work",
    ),
    ("/autocomplete", "Autocomplete: debounced phx-change"),
    (
        "/paginate",
        "Paginate and sort: handle_params, push_patch, patch links",
    ),
    (
        "/nav/a",
        "Navigation: push_patch, push_redirect with a flash, redirect",
    ),
    (
        "/chat",
        "Chat: temp_assign, phx-update=\"append\", who is online and typing (presence)",
    ),
    ("/table", "Table: 100 keyed rows, one changes per click"),
    (
        "/upload",
        "Upload gallery: drag and drop, image previews, a progress bar per file, errors in words, thumbnails",
    ),
    (
        "/upload/checksum",
        "Upload with checksums: a storage of the application's own (SHA-256, stored once)",
    ),
    (
        "/upload/external",
        "External uploads: the browser sends files straight to an object store (presigned URLs)",
    ),
    (
        "/upload/avatar",
        "Avatar: an upload owned by a live component (allow_upload in a component)",
    ),
    (
        "/cards",
        "Cards: stateful live components with their own events",
    ),
    (
        "/feed",
        "Feed: a stream (append, prepend with a limit, update, delete, reset)",
    ),
    (
        "/volunteers",
        "Volunteers: a form validated as you type, new entries shared live between tabs",
    ),
    (
        "/books",
        "Books: create, edit and delete with typed, validated forms and nested rows",
    ),
    (
        "/account",
        "Users: log in (phx-trigger-action, a signed cookie), an on_mount guard, a second live session",
    ),
    (
        "/items",
        "Items: one view for three routes (live_action), patches without a remount",
    ),
    (
        "/about",
        "About: a plain page beside the live ones (render_to_string)",
    ),
    (
        "/js",
        "JS commands: a modal, tabs and a dropdown with transitions and no round trip; a hook gets a reply",
    ),
    (
        "/async",
        "Async dashboard: panels loading at their own pace (assign_async, start_async), retry",
    ),
    (
        "/streams/components",
        "Streams in components: four streams of one name, each reset on its own",
    ),
    (
        "/nested",
        "Nested views: two child counters and a clock, each a LiveView of its own",
    ),
    (
        "/player",
        "Sticky view: a now-playing player that keeps playing across live navigation",
    ),
];

/// The index view.
#[derive(Debug, Default)]
pub struct Index;

impl LiveView for Index {
    type State = ();
    type Event = ();
    type Info = ();

    fn render(&self, _state: &(), _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "LiveView examples" }
            p.lead { "Each page is a LiveView served by this Rust server and driven by the official Phoenix LiveView 1.2 client." }
            ul.examples {
                @for (path, description) in EXAMPLES {
                    @match description.split_once(": ") {
                        Some((title, what)) => {
                            li { a href=(*path) { span.title { (title) } span.what { (what) } } }
                        }
                        None => {
                            li { a href=(*path) { span.title { (*description) } } }
                        }
                    }
                }
            }
        }
    }
}
