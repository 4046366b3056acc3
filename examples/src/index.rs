//! `/`: the index page linking every example.

use liveview_core::{html, LiveView, Meta, Rendered};

/// The examples, as `(path, description)`.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("/counter", "Counter: phx-click buttons"),
    ("/table", "Table: 100 keyed rows, one changes per click"),
    (
        "/upload",
        "Upload: files in chunks, progress, cancel, consume",
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
            ul {
                @for (path, description) in EXAMPLES {
                    li { a href=(*path) { (*description) } }
                }
            }
        }
    }
}
