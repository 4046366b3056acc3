//! `/upload/avatar`: an upload owned by a live component (Phoenix: `allow_upload` in a
//! component). The profile card allows the `avatar` upload in its own socket; its form
//! targets it (`phx-target=(meta.myself)`), so the selection, the preview and the progress go
//! to the component, which re-renders alone. The upload starts on selection (`auto_upload`),
//! and the card's `handle_progress` saves the avatar the moment its file is stored.

use base64::Engine as _;
use liveview_core::{
    html, ComponentSocket, LiveComponent, LiveView, Meta, Params, Rendered, Session, Socket,
    UploadEntry, UploadOptions, Uploads, ViewResult,
};
use serde::Deserialize;

use crate::upload::describe;

/// The profile card: a component with its own upload.
#[derive(Debug, Default)]
pub struct ProfileCard;

/// The card's state: the saved avatar.
#[derive(Debug, Default)]
pub struct CardState {
    name: String,
    /// `(file name, size, data: URL)` of the saved avatar.
    avatar: Option<(String, usize, String)>,
}

/// Events targeted at the card.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CardEvent {
    /// The file input changed.
    Validate,
    /// Cancel the selected file.
    Cancel {
        /// The entry ref.
        r#ref: String,
    },
}

impl LiveComponent for ProfileCard {
    type State = CardState;
    type Props = String;
    type Event = CardEvent;

    fn mount(&self, socket: &mut ComponentSocket<Self>) {
        let options = UploadOptions::new()
            .accept([".png", ".jpg"])
            .max_entries(1)
            .max_file_size(1_000_000)
            .chunk_size(8_000)
            .auto_upload(true);
        if let Err(error) = socket.allow_upload("avatar", options) {
            tracing::error!(%error, "the avatar upload config is invalid");
        }
    }

    fn update(&self, socket: &mut ComponentSocket<Self>, name: String) {
        socket.assign(|state| state.name = name);
    }

    async fn handle_event(
        &self,
        socket: &mut ComponentSocket<Self>,
        event: CardEvent,
    ) -> ViewResult {
        match event {
            CardEvent::Validate => {}
            CardEvent::Cancel { r#ref } => socket.cancel_upload("avatar", &r#ref)?,
        }
        Ok(())
    }

    /// Saves the avatar as soon as its upload is complete: no submit needed.
    async fn handle_progress(
        &self,
        socket: &mut ComponentSocket<Self>,
        name: &str,
        entry: &UploadEntry,
    ) -> ViewResult {
        if !entry.done {
            return Ok(());
        }
        let saved = socket.consume_uploaded_entries(name, |stored, entry| {
            let bytes = stored.path().map(std::fs::read).and_then(Result::ok);
            let bytes = bytes.unwrap_or_default();
            let url = format!(
                "data:{};base64,{}",
                entry.client_type,
                base64::engine::general_purpose::STANDARD.encode(&bytes)
            );
            (entry.client_name.clone(), bytes.len(), url)
        })?;
        if let Some(avatar) = saved.into_iter().next() {
            socket.assign(|state| state.avatar = Some(avatar));
        }
        Ok(())
    }

    fn render(&self, state: &CardState, meta: &Meta<'_>) -> Rendered {
        let Some(config) = meta.uploads.get("avatar") else {
            return html! { section.card { "No upload." } };
        };
        let options = config.options();
        html! {
            section.card #profile {
                h2 { (&state.name) }
                @if let Some((name, size, url)) = &state.avatar {
                    figure #avatar {
                        img.thumbnail src=(url) alt="Avatar" width="96" height="96";
                        figcaption { "Saved " (name) " (" (size) " bytes)" }
                    }
                }
                form #avatar-form phx-change="validate" phx-target=(meta.myself) {
                    label.drop-zone #avatar-drop phx-drop-target=(config.upload_ref()) {
                        "Choose or drop an avatar (PNG or JPG, at most 1 MB) "
                        (meta.uploads.file_input_with("avatar", [("class", Some("file-input"))]))
                    }
                    @for error in config.config_errors() {
                        p.error.config-error { (describe(error, options)) }
                    }
                    ul.entries #avatar-entries {
                        @for entry in config.entries(), key = &entry.entry_ref {
                            li.entry data-ref=(&entry.entry_ref) {
                                (Uploads::img_preview(entry, Some("preview")))
                                div {
                                    span.name { (&entry.client_name) }
                                    progress.bar value=(entry.progress) max="100" {}
                                    span.progress { (entry.progress) }
                                    @for error in &entry.errors {
                                        " " span.error { (describe(error, options)) }
                                    }
                                }
                                button.btn-secondary type="button" phx-click="cancel" phx-value-ref=(&entry.entry_ref) phx-target=(meta.myself) { "cancel" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The page: one profile card.
#[derive(Debug, Default)]
pub struct AvatarPage;

impl LiveView for AvatarPage {
    type State = ();
    type Event = ();
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Avatar");
        Ok(())
    }

    fn render(&self, _state: &(), meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Avatar" }
            p.lead { "The upload belongs to the profile card (a live component): its events and progress go to the card alone." }
            (meta.live_component(ProfileCard, "profile", "Ada Lovelace".to_owned()))
            (crate::back_link())
        }
    }
}
