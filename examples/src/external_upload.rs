//! `/upload/external`: external (client-side) uploads, Phoenix's `external:` option. The
//! config's presigner signs, for each selected file, a URL of an object store
//! ([`ObjectStore`], standing in for S3); the preflight reply hands it to the client's
//! `DemoStore` uploader (`js/app.js`), which `PUT`s the file there itself and reports its
//! progress; the server receives no byte of it. On save, `consume_uploaded_entries` hands
//! back each entry's presigned fields (`Stored::External`), and the page checks that the
//! object really arrived before it lists it: the progress is only the browser's word.

use std::sync::Arc;
use std::time::Duration;

use liveview_core::upload::{EntryError, ExternalUpload, Stored};
use liveview_core::{
    html, LiveView, Meta, Params, Rendered, Session, Socket, UploadEntry, UploadOptions, ViewResult,
};

use crate::object_store::ObjectStore;
use crate::upload::{entry_list, megabytes};

/// The external upload view.
#[derive(Debug)]
pub struct ExternalUploads {
    store: Arc<ObjectStore>,
}

impl ExternalUploads {
    /// The view, sending files to `store`.
    pub fn new(store: Arc<ObjectStore>) -> Self {
        ExternalUploads { store }
    }
}

/// A saved upload: found in the store, or not.
#[derive(Debug, Clone)]
pub struct Received {
    name: String,
    key: String,
    outcome: Result<Found, String>,
}

/// What the store holds for a saved upload.
#[derive(Debug, Clone)]
pub struct Found {
    size: u64,
    content_type: String,
    /// The first bytes, shown to prove the content arrived.
    head: String,
}

/// The external upload view's state.
#[derive(Debug, Default)]
pub struct State {
    received: Vec<Received>,
    /// The store's address, shown on the page.
    store_url: Option<String>,
}

/// The same events as the plain upload page (select, cancel, save).
pub use crate::upload::Event;

impl LiveView for ExternalUploads {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("External uploads");
        let store = self.store.clone();
        socket.allow_upload(
            "files",
            UploadOptions::new()
                .max_entries(3)
                .max_file_size(5_000_000)
                .external(move |entry: &UploadEntry| presign(&store, entry)),
        )?;
        let store_url = self.store.url().ok();
        socket.assign(|state| state.store_url = store_url);
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Validate => {}
            Event::Cancel { r#ref } => socket.cancel_upload("files", &r#ref)?,
            Event::Save => {
                let received = socket.consume_uploaded_entries("files", |stored, entry| {
                    let key = match &stored {
                        Stored::External(upload) => upload.get("key").and_then(|v| v.as_str()),
                        _ => None,
                    };
                    let key = key.unwrap_or_default().to_owned();
                    let outcome = self.check(&key, entry);
                    Received {
                        name: entry.client_name.clone(),
                        key,
                        outcome,
                    }
                })?;
                socket.assign(|state| state.received.extend(received));
            }
        }
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        let Some(config) = meta.uploads.get("files") else {
            return html! { h1 { "External uploads" } };
        };
        let options = config.options();
        let store = state.store_url.as_deref().unwrap_or("(not running)");
        html! {
            h1 { "External uploads" }
            p #limits {
                "Up to " (options.max_entries) " files of at most " (megabytes(options.max_file_size))
                " each. Your browser sends each file straight to the object store at "
                code #store-url { (store) }
                " with a URL this server signed for that file alone; the server only follows "
                "the progress, and checks the store when you save."
            }
            form #upload-form phx-change="validate" phx-submit="save" {
                (meta.uploads.file_input("files"))
                (entry_list(config))
                button type="submit" { "Save" }
            }
            h2 { "In the object store" }
            ul #stored {
                @for file in &state.received {
                    @match &file.outcome {
                        Ok(found) => {
                            li.object data-key=(&file.key) {
                                (&file.name) " (" (found.size) " bytes, " (&found.content_type) "): "
                                code { (&found.head) }
                            }
                        }
                        Err(message) => {
                            li.error data-key=(&file.key) { (&file.name) ": " (message) }
                        }
                    }
                }
            }
            p { a href="/upload" { "Uploads over the socket" } " · " a href="/" { "All examples" } }
        }
    }
}

impl ExternalUploads {
    /// Checks that the store holds `key` with the entry's size.
    fn check(&self, key: &str, entry: &UploadEntry) -> Result<Found, String> {
        let Some(object) = self.store.get(key) else {
            return Err(
                "The browser reported it sent, but the object store does not have it.".into(),
            );
        };
        if object.bytes.len() as u64 != entry.client_size {
            return Err(format!(
                "The object store has {} bytes of the {} announced.",
                object.bytes.len(),
                entry.client_size
            ));
        }
        let head = &object.bytes[..object.bytes.len().min(16)];
        Ok(Found {
            size: object.bytes.len() as u64,
            content_type: object.content_type,
            head: String::from_utf8_lossy(head).into_owned(),
        })
    }
}

/// Signs a URL for one entry: the object key is the entry's server-side UUID and a tidy
/// copy of its name, the size is the announced one, valid for 10 minutes.
fn presign(store: &Arc<ObjectStore>, entry: &UploadEntry) -> Result<ExternalUpload, EntryError> {
    let key = format!("{}/{}", entry.uuid, tidy(&entry.client_name));
    match store.presign_put(&key, entry.client_size, Duration::from_secs(600)) {
        Ok(url) => Ok(ExternalUpload::new("DemoStore")
            .field("url", url)
            .field("key", key)),
        Err(error) => {
            tracing::warn!(%error, "cannot presign an upload");
            Err(EntryError::Custom("store_offline".into()))
        }
    }
}

/// A file name reduced to `A-Z a-z 0-9 . _ -` (at most 100 characters).
fn tidy(name: &str) -> String {
    let tidy: String = name
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let tidy = tidy.trim_start_matches('.');
    if tidy.is_empty() {
        "file".to_owned()
    } else {
        tidy.replace("..", "_")
    }
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn names_are_tidied_into_keys() {
        assert_eq!(tidy("photo 1.JPG"), "photo_1.JPG");
        assert_eq!(tidy("../../etc/passwd"), "___etc_passwd");
        assert_eq!(tidy("..."), "file");
        assert_eq!(tidy("été.png"), "_t_.png");
    }
}
