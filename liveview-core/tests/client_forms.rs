//! The form decoder against bodies the real Phoenix LiveView 1.2 client sent (captured by
//! `js/e2e/books.test.mjs`, which checks the client still sends exactly these): numbers,
//! a checkbox with its hidden `false`, a multi-select with its hidden empty value, nested rows
//! with sort/drop params and `_unused_` markers decode into typed structs and changesets.

use liveview_core::form::{blank_as_none, Errors, Form, FormParams, Validate};
use liveview_core::ClientEvent;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Chapter {
    #[serde(default)]
    title: String,
    #[serde(default, deserialize_with = "blank_as_none")]
    pages: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Book {
    title: String,
    author: String,
    #[serde(default, deserialize_with = "blank_as_none")]
    year: Option<u16>,
    available: bool,
    #[serde(default)]
    genres: Vec<String>,
    #[serde(default)]
    chapters: Vec<Chapter>,
}

impl Validate for Book {
    fn validate(&self, errors: &mut Errors) {
        for (index, chapter) in self.chapters.iter().enumerate() {
            if chapter.title.is_empty() {
                errors.add(&format!("chapters[{index}].title"), "needs a title");
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Typed {
    Save {
        book: Book,
    },
    Validate {
        book: Book,
        #[serde(rename = "_target")]
        target: Vec<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Raw {
    Save(FormParams),
    Validate(FormParams),
}

/// The captured event `name` as the runtime builds it.
fn captured(name: &str) -> ClientEvent {
    let fixtures: Vec<Value> =
        serde_json::from_str(include_str!("data/client_forms.json")).unwrap();
    let fixture = fixtures
        .iter()
        .find(|fixture| fixture["name"] == name)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    let event = ClientEvent::form(
        fixture["event"].as_str().unwrap(),
        fixture["body"].as_str().unwrap(),
    )
    .unwrap();
    match fixture["target"].as_str() {
        Some(target) => event.with_target(target),
        None => event,
    }
}

fn params(event: &ClientEvent) -> FormParams {
    match event.decode::<Raw>().unwrap() {
        Raw::Save(params) | Raw::Validate(params) => params,
    }
}

#[test]
fn a_submitted_book_decodes_into_typed_fields() {
    let event = captured("books_save");
    let Typed::Save { book } = event.decode::<Typed>().unwrap() else {
        panic!("a save event")
    };
    assert_eq!(
        book,
        Book {
            title: "TITLE".into(),
            author: "Frank Herbert".into(),
            year: Some(1965),
            // The hidden "false" comes first, the checked box's "true" wins.
            available: true,
            // The multi-select's hidden empty value, then the chosen options.
            genres: vec!["".into(), "fiction".into(), "science".into()],
            chapters: vec![
                Chapter {
                    title: "Arrakis".into(),
                    pages: Some(42)
                },
                Chapter {
                    title: "Muad'Dib".into(),
                    pages: None
                },
            ],
        }
    );
    let form: Form<Book> = Form::submit("book", &params(&event));
    assert!(form.is_valid(), "{:?}", form.errors());
    assert_eq!(form.into_valid().unwrap().chapters.len(), 2);
}

#[test]
fn the_remove_button_drops_its_row_and_the_others_move_up() {
    let event = captured("books_drop");
    assert_eq!(
        event.target.as_deref(),
        Some(&["book".to_owned(), "chapters_drop".to_owned(), String::new()][..])
    );
    let form: Form<Book> = Form::change("book", &params(&event));
    let book = form.data().unwrap();
    let titles: Vec<&str> = book.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Arrakis", "Muad'Dib"]);
    let rows = form.inputs_for("chapters");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].field("title").name(), "book[chapters][0][title]");
    assert_eq!(rows[0].field("pages").value(), "42");
    assert_eq!(rows[1].field("title").id(), "book_chapters_1_title");
}

#[test]
fn the_add_button_appends_an_empty_row_whose_errors_stay_hidden() {
    let event = captured("books_add_row");
    let form: Form<Book> = Form::change("book", &params(&event));
    let rows = form.inputs_for("chapters");
    assert_eq!(rows.len(), 2, "the row of the first press plus the new one");
    assert_eq!(rows[1].field("title").name(), "book[chapters][1][title]");
    // Every row has an empty title: two errors, none shown (no input was used).
    assert_eq!(form.errors().iter().count(), 2);
    for row in &rows {
        assert!(!row.field("title").used());
        assert!(row.field("title").errors().is_empty());
    }
}

#[test]
fn typing_in_one_row_shows_that_rows_errors_only() {
    let event = captured("books_row_typed");
    let Typed::Validate { book, target } = event.decode::<Typed>().unwrap() else {
        panic!("a validate event")
    };
    assert_eq!(target, ["book", "chapters", "1", "title"]);
    assert_eq!(book.chapters[1].title, "Arrakis");
    let mut form: Form<Book> = Form::change("book", &params(&event));
    let rows = form.inputs_for("chapters");
    assert!(rows[0].field("title").used(), "typed in before");
    assert!(rows[1].field("title").used());
    assert!(!rows[1].field("pages").used());
    assert!(!rows[2].field("title").used());
    assert!(rows[2].field("title").errors().is_empty());
    assert_eq!(form.errors().get("chapters.2.title"), ["needs a title"]);
    // Submitted, the same params show every error.
    form = Form::submit("book", &params(&event));
    assert_eq!(
        form.inputs_for("chapters")[2].field("title").errors(),
        ["needs a title"]
    );
}
