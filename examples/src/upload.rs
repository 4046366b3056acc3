//! `/upload`: file uploads in chunks over the socket (`allow_upload`, progress, cancel,
//! `consume_uploaded_entries`, `uploaded_entries`).

use liveview_core::upload::EntryError;
use liveview_core::{
    html, LiveView, Meta, Params, Rendered, Session, Socket, UploadOptions, ViewResult,
};
use serde::Deserialize;

/// The upload view.
#[derive(Debug, Default)]
pub struct Upload;

/// A stored file.
#[derive(Debug, Clone)]
pub struct Stored {
    name: String,
    size: u64,
    /// The first bytes of the file, shown to prove the content arrived.
    head: String,
}

/// The upload view's state.
#[derive(Debug, Default)]
pub struct State {
    stored: Vec<Stored>,
    /// `(completed, in progress)` from `uploaded_entries`, as of the last form change.
    counts: (usize, usize),
}

/// The upload view's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// `phx-change` on the form: the selection changed (the runtime has already registered
    /// the entries).
    Validate,
    /// `phx-submit`: consume the finished files.
    Save,
    /// Cancel one entry.
    Cancel {
        /// The entry ref.
        r#ref: String,
    },
}

impl LiveView for Upload {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(
        &self,
        socket: &mut Socket<Self>,
        _params: &Params,
        _session: &Session,
    ) -> ViewResult {
        socket.page_title("Upload");
        socket.allow_upload(
            "files",
            UploadOptions::new()
                .accept([".txt", ".png", ".jpg", ".bin"])
                .max_entries(3)
                .max_file_size(2_000_000)
                .chunk_size(16_000),
        )?;
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Validate => {
                let entries = socket.uploaded_entries("files")?;
                let counts = (entries.completed.len(), entries.in_progress.len());
                socket.assign(|state| state.counts = counts);
            }
            Event::Cancel { r#ref } => socket.cancel_upload("files", &r#ref)?,
            Event::Save => {
                let stored = socket.consume_uploaded_entries("files", |file, entry| {
                    let bytes = file.read().unwrap_or_default();
                    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(16)]).into_owned();
                    Stored {
                        name: entry.client_name.clone(),
                        size: bytes.len() as u64,
                        head,
                    }
                })?;
                socket.assign(|state| state.stored.extend(stored));
            }
        }
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        let Some(config) = meta.uploads.get("files") else {
            return html! { h1 { "Upload" } };
        };
        let options = config.options();
        let entries = config.entries();
        html! {
            h1 { "Upload" }
            p #limits {
                "Up to " (options.max_entries) " files of at most " (megabytes(options.max_file_size))
                " each (" (options.accept.join(", ")) ")."
            }
            form #upload-form phx-change="validate" phx-submit="save" {
                (meta.uploads.file_input("files"))
                @for error in config.config_errors() {
                    p.error.config-error data-reason=(error.reason()) { (describe(error, options)) }
                }
                ul #entries {
                    @for entry in entries, key = &entry.entry_ref {
                        li.entry data-ref=(&entry.entry_ref) {
                            span.name { (&entry.client_name) }
                            " "
                            progress value=(entry.progress) max="100" { (entry.progress) "%" }
                            " "
                            span.progress { (entry.progress) }
                            @for error in &entry.errors {
                                span.error data-reason=(error.reason()) { (describe(error, options)) }
                            }
                            button type="button" phx-click="cancel" phx-value-ref=(&entry.entry_ref) { "cancel" }
                        }
                    }
                }
                p #entry-counts { "completed: " (state.counts.0) ", in progress: " (state.counts.1) }
                button type="submit" { "Upload" }
            }
            h2 { "Stored" }
            ul #stored {
                @for file in &state.stored {
                    li { (&file.name) " (" (file.size) " bytes): " code { (&file.head) } }
                }
            }
            p { a href="/" { "All examples" } }
        }
    }
}

/// An upload error in words a person reads.
fn describe(error: &EntryError, options: &UploadOptions) -> String {
    match error {
        EntryError::TooLarge => format!(
            "This file is larger than {}.",
            megabytes(options.max_file_size)
        ),
        EntryError::NotAccepted => format!(
            "This kind of file is not accepted (only {}).",
            options.accept.join(", ")
        ),
        EntryError::TooManyFiles => format!(
            "Too many files: choose at most {}, or remove some.",
            options.max_entries
        ),
        EntryError::ExternalClientFailure => "The browser could not upload this file.".into(),
        EntryError::ChunkTimeout => "The upload stalled and was stopped: try again.".into(),
        other => format!("This file was refused ({other})."),
    }
}

/// `2_000_000` → `"2 MB"`.
fn megabytes(bytes: u64) -> String {
    let tenths = bytes / 100_000;
    if tenths.is_multiple_of(10) {
        format!("{} MB", tenths / 10)
    } else {
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}
