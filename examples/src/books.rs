//! `/books`: create, edit and delete books with typed, validated forms.
//!
//! The form's params decode into [`BookParams`]: a number (`year`, blank allowed while typing),
//! a checkbox (`available`, with the hidden `false` input), a multi-select (`genres`) and a
//! nested list of chapters added, removed and reordered through Phoenix 1.2's sort and drop
//! params ([`add_row_button`], [`drop_row_button`], [`sort_input`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use liveview_core::form::{
    add_row_button, blank_as_none, checkbox, drop_row_button, error_tag, label, multi_select,
    number_input, sort_input, submit_button, text_input, Errors, Form, FormParams, Validate,
};
use liveview_core::{html, LiveView, Meta, Rendered, Socket, ViewResult};
use serde::{Deserialize, Serialize};

/// The genres, as `(label, value)`.
const GENRES: &[(&str, &str)] = &[
    ("Fiction", "fiction"),
    ("History", "history"),
    ("Science", "science"),
    ("Poetry", "poetry"),
];

/// How many books the shelf holds.
pub const CAPACITY: usize = 200;

/// The view; the books live in the definition (one shelf per server, at most [`CAPACITY`]).
#[derive(Debug, Clone, Default)]
pub struct Books {
    shelf: Arc<Mutex<Shelf>>,
}

#[derive(Debug, Default)]
struct Shelf {
    next_id: u64,
    books: BTreeMap<u64, BookParams>,
}

/// A book's fields, as the form sends them and as they are stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BookParams {
    /// The title.
    #[serde(default)]
    pub title: String,
    /// The author.
    #[serde(default)]
    pub author: String,
    /// The year it was published.
    #[serde(default, deserialize_with = "blank_as_none")]
    pub year: Option<u16>,
    /// Whether it is on the shelf.
    #[serde(default)]
    pub available: bool,
    /// Its genres (a multi-select).
    #[serde(default)]
    pub genres: Vec<String>,
    /// Its chapters (nested rows).
    #[serde(default)]
    pub chapters: Vec<Chapter>,
}

/// One chapter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Chapter {
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Its number of pages.
    #[serde(default, deserialize_with = "blank_as_none")]
    pub pages: Option<u32>,
}

impl Validate for BookParams {
    fn validate(&self, errors: &mut Errors) {
        if self.title.trim().is_empty() {
            errors.add("title", "Please give the title");
        }
        if self.author.trim().is_empty() {
            errors.add("author", "Please give the author");
        }
        match self.year {
            None => errors.add("year", "Please give the year"),
            Some(year) if !(1450..=2100).contains(&year) => {
                errors.add("year", "A year between 1450 and 2100")
            }
            Some(_) => {}
        }
        if let Some(genre) = self.genres().find(|g| !GENRES.iter().any(|(_, v)| v == g)) {
            errors.add("genres", format!("Unknown genre {genre}"));
        }
        for (index, chapter) in self.chapters.iter().enumerate() {
            if chapter.title.trim().is_empty() {
                errors.add(
                    &format!("chapters.{index}.title"),
                    "A chapter needs a title",
                );
            }
        }
    }
}

impl BookParams {
    /// The chosen genres (the multi-select's hidden empty value left out).
    fn genres(&self) -> impl Iterator<Item = &str> {
        self.genres
            .iter()
            .map(String::as_str)
            .filter(|g| !g.is_empty())
    }
}

/// One tab's state.
#[derive(Debug, Default)]
pub struct State {
    books: Vec<(u64, BookParams)>,
    /// The open form: `None` for a new book, `Some(id)` when editing.
    editing: Option<(Option<u64>, Form<BookParams>)>,
}

/// The page's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Opens an empty form.
    New,
    /// Opens the form of a book (`phx-value-id`, decoded as a number).
    Edit {
        /// The book's id.
        id: u64,
    },
    /// Deletes a book.
    Delete {
        /// The book's id.
        id: u64,
    },
    /// Closes the form.
    Cancel,
    /// `phx-change`.
    Validate(FormParams),
    /// `phx-submit`.
    Save(FormParams),
}

impl Books {
    fn list(&self) -> Vec<(u64, BookParams)> {
        let shelf = self.shelf.lock().unwrap_or_else(PoisonError::into_inner);
        shelf.books.iter().map(|(id, b)| (*id, b.clone())).collect()
    }
}

impl LiveView for Books {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(
        &self,
        socket: &mut Socket<Self>,
        _: &liveview_core::Params,
        _: &liveview_core::Session,
    ) -> ViewResult {
        let books = self.list();
        socket.assign(|state| state.books = books);
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::New => socket.assign(|state| state.editing = Some((None, Form::empty("book")))),
            Event::Edit { id } => {
                let shelf = self.shelf.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(book) = shelf.books.get(&id).cloned() {
                    drop(shelf);
                    socket.assign(|state| {
                        state.editing = Some((Some(id), Form::from_data("book", book)))
                    });
                }
            }
            Event::Delete { id } => {
                let removed = self
                    .shelf
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .books
                    .remove(&id);
                if let Some(book) = removed {
                    socket.put_flash("info", format!("Deleted “{}”", book.title));
                }
                let books = self.list();
                socket.assign(|state| state.books = books);
            }
            Event::Cancel => socket.assign(|state| state.editing = None),
            Event::Validate(params) => socket.assign(|state| {
                if let Some((_, form)) = &mut state.editing {
                    *form = Form::change("book", &params);
                }
            }),
            Event::Save(params) => {
                let Some(id) = socket.context().editing.as_ref().map(|(id, _)| *id) else {
                    return Ok(());
                };
                match Form::<BookParams>::submit("book", &params).into_valid() {
                    Ok(mut book) => {
                        book.genres.retain(|g| !g.is_empty());
                        book.title = book.title.trim().to_owned();
                        let title = book.title.clone();
                        {
                            let mut shelf =
                                self.shelf.lock().unwrap_or_else(PoisonError::into_inner);
                            if id.is_none() && shelf.books.len() >= CAPACITY {
                                drop(shelf);
                                socket.put_flash(
                                    "error",
                                    "The shelf is full: delete a book to make room.",
                                );
                                return Ok(());
                            }
                            let id = id.unwrap_or_else(|| {
                                shelf.next_id += 1;
                                shelf.next_id
                            });
                            shelf.books.insert(id, book);
                        }
                        let books = self.list();
                        socket.put_flash("info", format!("Saved “{title}”"));
                        socket.assign(|state| {
                            state.books = books;
                            state.editing = None;
                        });
                    }
                    Err(form) => socket.assign(|state| {
                        if let Some((_, open)) = &mut state.editing {
                            *open = form;
                        }
                    }),
                }
            }
        }
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Books" }
            (crate::flash_messages(meta.flash))
            @if let Some((id, form)) = &state.editing {
                (book_form(*id, form))
            } @else {
                button #new-book phx-click="new" { "New book" }
            }
            table #books {
                thead { tr { th { "Title" } th { "Author" } th { "Year" } th { "Available" } th { "Genres" } th { "Chapters" } th {} } }
                tbody {
                    @for (id, book) in &state.books, key = *id {
                        tr id=(format!("book-{id}")) {
                            td.title { (&book.title) }
                            td.author { (&book.author) }
                            td.year { (book.year) }
                            td.available { (if book.available { "yes" } else { "no" }) }
                            td.genres { (book.genres().collect::<Vec<_>>().join(", ")) }
                            td.chapters {
                                (book.chapters.iter().map(|c| match c.pages {
                                    Some(pages) => format!("{} ({pages} p.)", c.title),
                                    None => c.title.clone(),
                                }).collect::<Vec<_>>().join("; "))
                            }
                            td {
                                button.edit phx-click="edit" phx-value-id=(*id) { "Edit" }
                                " "
                                button.delete phx-click="delete" phx-value-id=(*id) { "Delete" }
                            }
                        }
                    }
                }
            }
            (crate::back_link())
        }
    }
}

fn book_form(id: Option<u64>, form: &Form<BookParams>) -> Rendered {
    let root = form.fields();
    let (title, author, year) = (
        form.field("title"),
        form.field("author"),
        form.field("year"),
    );
    let (available, genres) = (form.field("available"), form.field("genres"));
    let chapters = form.inputs_for("chapters");
    html! {
        form #book-form.book phx-change="validate" phx-submit="save" {
            h2 { (if id.is_some() { "Edit book" } else { "New book" }) }
            div.field { (label(&title, "Title")) (text_input(&title, &[])) (error_tag(&title)) }
            div.field { (label(&author, "Author")) (text_input(&author, &[])) (error_tag(&author)) }
            div.field { (label(&year, "Year")) (number_input(&year, &[])) (error_tag(&year)) }
            div.field { (checkbox(&available, &[])) " " (label(&available, "Available")) }
            div.field { (label(&genres, "Genres")) (multi_select(&genres, GENRES, &[])) (error_tag(&genres)) }
            fieldset #chapters {
                legend { "Chapters" }
                @for row in &chapters {
                    @let chapter_title = row.field("title");
                    @let pages = row.field("pages");
                    div.chapter {
                        (sort_input(&root, "chapters", row))
                        (text_input(&chapter_title, &[("placeholder", "Chapter title")]))
                        (number_input(&pages, &[("placeholder", "Pages")]))
                        (drop_row_button(&root, "chapters", row, "Remove", &[("class", "remove-chapter")]))
                        (error_tag(&chapter_title))
                    }
                }
                input type="hidden" name="book[chapters_drop][]";
                (add_row_button(&root, "chapters", "Add a chapter", &[("id", "add-chapter")]))
            }
            (submit_button("Save", "Saving...", &[("id", "save-book")]))
            " "
            button type="button" phx-click="cancel" { "Cancel" }
        }
    }
}
