//! `/table`: 100 rows rendered by a keyed loop; `bump` increments one row's value, and the
//! diff carries only that row's changed value.

use liveview_core::{
    html, LiveView, Meta, Params, Rendered, Session, Socket, ViewError, ViewResult,
};
use serde::Deserialize;

/// The table view.
#[derive(Debug, Default)]
pub struct Table;

/// One row.
#[derive(Debug, Clone)]
pub struct Row {
    /// The row id.
    pub id: u32,
    /// The label.
    pub label: String,
    /// The value `bump` increments.
    pub value: u64,
}

/// The table's state.
#[derive(Debug, Default)]
pub struct State {
    /// The rows, in display order.
    pub rows: Vec<Row>,
}

impl State {
    /// The initial 100 rows.
    pub fn initial() -> Self {
        Self {
            rows: (1..=100)
                .map(|id| Row {
                    id,
                    label: format!("Row {id}"),
                    value: 0,
                })
                .collect(),
        }
    }
}

/// The table's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// `phx-click="bump" phx-value-id="…"`.
    Bump {
        /// The row id (`phx-value-*` values arrive as strings).
        id: String,
    },
}

impl LiveView for Table {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(
        &self,
        socket: &mut Socket<Self>,
        _params: &Params,
        _session: &Session,
    ) -> ViewResult {
        socket.page_title("Table");
        socket.assign_all(State::initial());
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let Event::Bump { id } = event;
        let id: u32 = id
            .parse()
            .map_err(|_| ViewError::msg(format!("bad row id {id:?}")))?;
        socket.assign(|state| {
            if let Some(row) = state.rows.iter_mut().find(|row| row.id == id) {
                row.value += 1;
            }
        });
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Table" }
            table {
                thead { tr { th { "id" } th { "label" } th { "value" } th {} } }
                tbody {
                    @for row in &state.rows, key = row.id, memo = (&row.label, row.value) {
                        tr id=(format!("row-{}", row.id)) {
                            td { (row.id) }
                            td { (&row.label) }
                            td.value { (row.value) }
                            td { button phx-click="bump" phx-value-id=(row.id) { "bump" } }
                        }
                    }
                }
            }
            p { a href="/" { "All examples" } }
        }
    }
}
