//! `/upload`: file uploads in chunks over the socket (`allow_upload`, progress, cancel,
//! `consume_uploaded_entries`, `uploaded_entries`), into temporary files (the default
//! storage). `/upload/checksum` ([`crate::checksum`]) stores them with a storage of its own,
//! `/upload/external` ([`crate::external_upload`]) lets the browser send them elsewhere.

use base64::Engine as _;
use liveview_core::upload::EntryError;
use liveview_core::{
    html, LiveView, Meta, Params, Rendered, Session, Socket, UploadConfig, UploadEntry,
    UploadOptions, Uploads, ViewResult,
};
use serde::Deserialize;

/// The upload view: a gallery.
#[derive(Debug, Default)]
pub struct Upload;

/// How many saved files the gallery keeps (the oldest go first).
const GALLERY_SIZE: usize = 12;

/// A stored file.
#[derive(Debug, Clone)]
pub struct Stored {
    name: String,
    size: u64,
    /// The first bytes of the file, shown to prove the content arrived.
    head: String,
    /// For an image, the image itself as a `data:` URL (the thumbnail).
    thumbnail: Option<String>,
}

/// The upload view's state.
#[derive(Debug, Default)]
pub struct State {
    stored: Vec<Stored>,
    /// `(completed, in progress)` from `uploaded_entries`, as of the last form change or
    /// upload progress.
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
            Event::Validate => count_entries(socket)?,
            Event::Cancel { r#ref } => socket.cancel_upload("files", &r#ref)?,
            Event::Save => {
                // Temporary files (the default storage): each is deleted when the callback
                // returns, unless it is persisted somewhere.
                let stored = socket.consume_uploaded_entries("files", |stored, entry| {
                    let bytes = stored.path().map(std::fs::read).and_then(Result::ok);
                    let bytes = bytes.unwrap_or_default();
                    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(16)]).into_owned();
                    let thumbnail = entry.client_type.starts_with("image/").then(|| {
                        format!(
                            "data:{};base64,{}",
                            entry.client_type,
                            base64::engine::general_purpose::STANDARD.encode(&bytes)
                        )
                    });
                    Stored {
                        name: entry.client_name.clone(),
                        size: bytes.len() as u64,
                        head,
                        thumbnail,
                    }
                })?;
                socket.assign(|state| {
                    state.stored.extend(stored);
                    let extra = state.stored.len().saturating_sub(GALLERY_SIZE);
                    state.stored.drain(..extra);
                });
                count_entries(socket)?;
            }
        }
        Ok(())
    }

    /// Every chunk updates the entry counts shown under the list.
    async fn handle_progress(
        &self,
        socket: &mut Socket<Self>,
        _name: &str,
        _entry: &UploadEntry,
    ) -> ViewResult {
        count_entries(socket)
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        let Some(config) = meta.uploads.get("files") else {
            return html! { h1 { "Upload" } };
        };
        let options = config.options();
        let entries = config.entries();
        html! {
            h1 { "Photo gallery" }
            p.lead #limits {
                "Up to " (options.max_entries) " files of at most " (megabytes(options.max_file_size))
                " each (" (options.accept.join(", ")) "). Images are previewed before they are sent."
            }
            form #upload-form phx-change="validate" phx-submit="save" {
                label #drop-zone.drop-zone phx-drop-target=(config.upload_ref()) {
                    strong { "Drop files here" }
                    " or choose them: "
                    (meta.uploads.file_input_with("files", [("class", Some("file-input")), ("aria-label", Some("Files to upload"))]))
                }
                @for error in config.config_errors() {
                    p.error.config-error data-reason=(error.reason()) { (describe(error, options)) }
                }
                ul #entries.entries {
                    @for entry in entries, key = &entry.entry_ref {
                        li.entry data-ref=(&entry.entry_ref) {
                            @if entry.client_type.starts_with("image/") {
                                (Uploads::img_preview(entry, Some("preview")))
                            } @else {
                                span.preview.file-icon { (extension(&entry.client_name)) }
                            }
                            div {
                                span.name { (&entry.client_name) }
                                progress.bar value=(entry.progress) max="100" { (entry.progress) "%" }
                                span.progress { (entry.progress) }
                                @for error in &entry.errors {
                                    " "
                                    span.error data-reason=(error.reason()) { (describe(error, options)) }
                                }
                            }
                            button.btn-secondary type="button" phx-click="cancel" phx-value-ref=(&entry.entry_ref) aria-label=(format!("Cancel {}", entry.client_name)) { "cancel" }
                        }
                    }
                }
                p #entry-counts { "completed: " (state.counts.0) ", in progress: " (state.counts.1) }
                button type="submit" phx-disable-with="Uploading…" { "Upload" }
            }
            h2 { "Saved" }
            @if state.stored.is_empty() {
                p #nothing-saved.lead { "Nothing saved yet." }
            }
            ul #stored.gallery {
                @for file in &state.stored {
                    li {
                        figure {
                            @if let Some(src) = &file.thumbnail {
                                img.thumbnail src=(src) alt=(&file.name);
                            } @else {
                                code { (&file.head) }
                            }
                            figcaption { (&file.name) " (" (file.size) " bytes)" }
                        }
                    }
                }
            }
            (crate::back_link())
        }
    }
}

/// Updates the `(completed, in progress)` counts of the `files` upload.
fn count_entries(socket: &mut Socket<Upload>) -> ViewResult {
    let entries = socket.uploaded_entries("files")?;
    let counts = (entries.completed.len(), entries.in_progress.len());
    socket.assign(|state| state.counts = counts);
    Ok(())
}

/// `photo.JPG` → `JPG`, shown in place of a preview for files that are not images.
fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, ext)| ext.to_uppercase())
        .unwrap_or_else(|| "FILE".into())
}

/// The entries of `config`, each with its name, a progress bar, its errors in words and a
/// cancel button (the `/upload/checksum` and `/upload/external` pages; `/upload` writes its
/// own list out).
pub(crate) fn entry_list(config: &UploadConfig) -> Rendered {
    let options = config.options();
    html! {
        @for error in config.config_errors() {
            p.error.config-error data-reason=(error.reason()) { (describe(error, options)) }
        }
        ul #entries {
            @for entry in config.entries(), key = &entry.entry_ref {
                li.entry data-ref=(&entry.entry_ref) {
                    span.name { (&entry.client_name) }
                    " "
                    progress value=(entry.progress) max="100" { (entry.progress) "%" }
                    " "
                    span.progress { (entry.progress) "%" }
                    @if entry.done { " " span.done { "uploaded" } }
                    @for error in &entry.errors {
                        " "
                        span.error data-reason=(error.reason()) { (describe(error, options)) }
                    }
                    " "
                    button type="button" phx-click="cancel" phx-value-ref=(&entry.entry_ref) { "cancel" }
                }
            }
        }
    }
}

/// An upload error in words a person reads.
pub(crate) fn describe(error: &EntryError, options: &UploadOptions) -> String {
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
        EntryError::WriterFailure => {
            "The server could not store this file: cancel it and try again later.".into()
        }
        EntryError::Custom(reason) if reason == "store_offline" => {
            "The file store is not reachable: try again later.".into()
        }
        other => format!("This file was refused ({other})."),
    }
}

/// `2_000_000` → `"2 MB"`.
pub(crate) fn megabytes(bytes: u64) -> String {
    let tenths = bytes / 100_000;
    if tenths.is_multiple_of(10) {
        format!("{} MB", tenths / 10)
    } else {
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}
