//! `/paginate`: a paginated, sortable table whose page, page size and sort order live in the
//! URL (`?page=2&per_page=10&sort_by=item`). `handle_params` reads them on mount and on every
//! URL change; the page links are patch links (`data-phx-link="patch"`), and the column
//! headers and the page-size select call `push_patch` from `handle_event`. The URL changes
//! without a page load, and back/forward work.

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, Url, ViewResult};
use serde::Deserialize;

/// The paginate view.
#[derive(Debug, Default)]
pub struct Paginate;

/// One donation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Donation {
    /// Its id (1-based).
    pub id: u32,
    /// What was donated.
    pub item: String,
    /// How many.
    pub quantity: u32,
    /// Days until it expires.
    pub days: u32,
}

const FOODS: &[&str] = &[
    "Apples",
    "Bananas",
    "Beans",
    "Bread",
    "Carrots",
    "Cheese",
    "Eggs",
    "Flour",
    "Lentils",
    "Milk",
    "Oats",
    "Pasta",
    "Peanut butter",
    "Potatoes",
    "Rice",
    "Soup",
    "Tomatoes",
    "Tuna",
    "Yogurt",
    "Zucchini",
];

/// The 50 donations, in id order.
pub fn donations() -> Vec<Donation> {
    (1..=50u32)
        .map(|id| Donation {
            id,
            item: format!("{} #{id}", FOODS[(id as usize * 7) % FOODS.len()]),
            quantity: (id * 37) % 23 + 1,
            days: (id * 13) % 30 + 1,
        })
        .collect()
}

/// The table options, from the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The page, from 1.
    pub page: u32,
    /// Rows per page: 5, 10 or 20.
    pub per_page: u32,
    /// The column sorted by: `id`, `item`, `quantity` or `days`.
    pub sort_by: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: 10,
            sort_by: "id",
        }
    }
}

const COLUMNS: &[&str] = &["id", "item", "quantity", "days"];

impl Options {
    /// Reads the options from URL parameters; missing or invalid values take their defaults.
    pub fn from_params(params: &Params) -> Self {
        let per_page = params
            .parse::<u32>("per_page")
            .filter(|n| [5, 10, 20].contains(n))
            .unwrap_or(10);
        let pages = 50u32.div_ceil(per_page);
        Self {
            page: params.parse::<u32>("page").unwrap_or(1).clamp(1, pages),
            per_page,
            sort_by: params
                .get("sort_by")
                .and_then(|s| COLUMNS.iter().find(|c| **c == s).copied())
                .unwrap_or("id"),
        }
    }

    /// The URL of these options.
    pub fn url(&self) -> String {
        format!(
            "/paginate?page={}&per_page={}&sort_by={}",
            self.page, self.per_page, self.sort_by
        )
    }

    fn pages(&self) -> u32 {
        50u32.div_ceil(self.per_page)
    }
}

/// The view's state: the options and the rows of the current page.
#[derive(Debug, Default)]
pub struct State {
    options: Options,
    rows: Vec<Donation>,
}

/// The events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// `phx-click="sort" phx-value-by="item"` on a column header.
    Sort {
        /// The column.
        by: String,
    },
    /// `phx-change="per-page"` on the page-size form.
    PerPage {
        /// The page size.
        per_page: String,
    },
}

impl LiveView for Paginate {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Donations");
        Ok(())
    }

    async fn handle_params(
        &self,
        socket: &mut Socket<Self>,
        _: &Url,
        params: &Params,
    ) -> ViewResult {
        let options = Options::from_params(params);
        let mut all = donations();
        match options.sort_by {
            "item" => all.sort_by(|a, b| a.item.cmp(&b.item)),
            "quantity" => all.sort_by_key(|d| (d.quantity, d.id)),
            "days" => all.sort_by_key(|d| (d.days, d.id)),
            _ => {}
        }
        let start = ((options.page - 1) * options.per_page) as usize;
        let rows = all
            .into_iter()
            .skip(start)
            .take(options.per_page as usize)
            .collect();
        socket.page_title(format!("Donations, page {}", options.page));
        socket.assign(|state| {
            state.options = options;
            state.rows = rows;
        });
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let current = socket.context().options.clone();
        let options = match event {
            Event::Sort { by } => Options::from_params(&Params::from_query(&format!(
                "page=1&per_page={}&sort_by={by}",
                current.per_page
            ))),
            Event::PerPage { per_page } => Options::from_params(&Params::from_query(&format!(
                "page=1&per_page={per_page}&sort_by={}",
                current.sort_by
            ))),
        };
        socket.push_patch(options.url(), false);
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        let o = &state.options;
        let page = |page: u32| Options { page, ..o.clone() }.url();
        html! {
            h1 { "Food donations" }
            form #per-page-form phx-change="per-page" {
                label for="per_page" { "Rows per page " }
                select #per_page name="per_page" {
                    @for n in [5u32, 10, 20] {
                        option value=(n) selected[n == o.per_page] { (n) }
                    }
                }
            }
            table #donations {
                thead {
                    tr {
                        @for column in COLUMNS {
                            th {
                                button.sort type="button" id=(format!("sort-{column}")) phx-click="sort" phx-value-by=(*column) {
                                    (*column) @if *column == o.sort_by { " ▼" }
                                }
                            }
                        }
                    }
                }
                tbody {
                    @for d in &state.rows, key = d.id {
                        tr id=(format!("donation-{}", d.id)) {
                            td { (d.id) } td { (&d.item) } td { (d.quantity) } td { (d.days) }
                        }
                    }
                }
            }
            p #pager {
                @if o.page > 1 {
                    a #prev href=(page(o.page - 1)) data-phx-link="patch" data-phx-link-state="push" { "← Previous" }
                    " "
                }
                span #page { "Page " (o.page) " of " (o.pages()) }
                @if o.page < o.pages() {
                    " "
                    a #next href=(page(o.page + 1)) data-phx-link="patch" data-phx-link-state="push" { "Next →" }
                }
            }
            (crate::back_link())
        }
    }
}
