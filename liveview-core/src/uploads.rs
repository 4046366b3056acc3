//! A view's uploads as its socket and its render see them: the configs by name
//! ([`Uploads`]), their file inputs and image previews, and [`UploadedEntries`].

use liveview_upload::{Stored, UploadConfig, UploadEntry, UploadError, UploadOptions};

/// The entries of one upload, from [`Socket::uploaded_entries`](crate::Socket::uploaded_entries).
#[derive(Debug)]
pub struct UploadedEntries<'a> {
    /// Fully uploaded entries.
    pub completed: Vec<&'a UploadEntry>,
    /// Entries still uploading (or not started).
    pub in_progress: Vec<&'a UploadEntry>,
}

/// A view's upload configs, by name (see [`Socket::allow_upload`](crate::Socket::allow_upload)).
#[derive(Debug, Default)]
pub struct Uploads {
    pub(crate) configs: Vec<UploadConfig>,
    /// Entry refs cancelled since the runtime last looked (their channels must stop).
    pub(crate) cancelled: Vec<String>,
}

impl Uploads {
    pub(crate) const EMPTY: Uploads = Uploads {
        configs: Vec::new(),
        cancelled: Vec::new(),
    };

    /// The config of upload `name`.
    pub fn get(&self, name: &str) -> Option<&UploadConfig> {
        self.configs.iter().find(|c| c.name() == name)
    }

    /// The `<input type="file">` of upload `name`, with the attributes the client needs
    /// (Phoenix: `live_file_input`); empty if `name` was not allowed.
    pub fn file_input(&self, name: &str) -> liveview_diff::Raw<String> {
        liveview_diff::Raw(
            self.get(name)
                .map(liveview_upload::live_file_input)
                .unwrap_or_default(),
        )
    }

    /// [`file_input`](Self::file_input) with extra attributes (Phoenix: `<.live_file_input
    /// upload={…} class="…" required />`): `(name, Some(value))` or a bare `(name, None)`;
    /// values are escaped, and the attributes the client needs cannot be replaced (see
    /// [`live_file_input_with`](liveview_upload::live_file_input_with)).
    ///
    /// ```
    /// use liveview_core::{html, Meta};
    /// let meta = Meta::default();
    /// // No upload named "photos" was allowed here: nothing is rendered.
    /// let page = html! { (meta.uploads.file_input_with("photos", [("required", None)])) };
    /// assert_eq!(page.to_html(), "");
    /// ```
    pub fn file_input_with<'a>(
        &self,
        name: &str,
        attrs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> liveview_diff::Raw<String> {
        liveview_diff::Raw(
            self.get(name)
                .map(|config| liveview_upload::live_file_input_with(config, attrs))
                .unwrap_or_default(),
        )
    }

    /// An `<img>` showing `entry`'s file in the browser before it is uploaded (Phoenix:
    /// `live_img_preview`): the client's `Phoenix.LiveImgPreview` hook sets its `src` to the
    /// selected file, so no byte goes to the server. `class` is added when given.
    ///
    /// ```
    /// use liveview_core::{upload::ClientEntry, UploadConfig, UploadOptions, Uploads};
    /// let mut config = UploadConfig::with_ref("photos", "phx-1", UploadOptions::new()).unwrap();
    /// config.put_entries(&[ClientEntry::new("0", "cat.png", "image/png", 3)]);
    /// let img = Uploads::img_preview(&config.entries()[0], Some("preview"));
    /// assert_eq!(
    ///     img.0,
    ///     r#"<img id="phx-preview-0" data-phx-upload-ref="phx-1" data-phx-entry-ref="0" data-phx-hook="Phoenix.LiveImgPreview" data-phx-update="ignore" class="preview">"#
    /// );
    /// ```
    pub fn img_preview(entry: &UploadEntry, class: Option<&str>) -> liveview_diff::Raw<String> {
        let mut html = String::from("<img ");
        html.push_str(&liveview_upload::live_img_preview_attrs(entry));
        if let Some(class) = class {
            html.push_str(" class=\"");
            liveview_diff::escape_into(class, &mut html);
            html.push('"');
        }
        html.push('>');
        liveview_diff::Raw(html)
    }

    /// Allows (or replaces, cancelling its entries) upload `name` (`allow_upload`).
    pub(crate) fn allow(
        &mut self,
        name: String,
        options: UploadOptions,
    ) -> Result<(), UploadError> {
        let config = UploadConfig::new(name, options)?;
        self.cancelled.extend(
            self.configs
                .iter()
                .filter(|c| c.name() == config.name())
                .flat_map(|c| c.entries().iter().map(|e| e.entry_ref.clone())),
        );
        self.configs.retain(|c| c.name() != config.name());
        self.configs.push(config);
        Ok(())
    }

    /// Cancels entry `entry_ref` of upload `name` (`cancel_upload`).
    pub(crate) fn cancel_entry(&mut self, name: &str, entry_ref: &str) -> Result<(), UploadError> {
        self.get_mut(name)?.cancel(entry_ref)?;
        self.cancelled.push(entry_ref.to_owned());
        Ok(())
    }

    /// Consumes the finished entries of upload `name` (`consume_uploaded_entries`).
    pub(crate) fn consume_entries<T>(
        &mut self,
        name: &str,
        consume: impl FnMut(Stored, &UploadEntry) -> T,
    ) -> Result<Vec<T>, UploadError> {
        Ok(self.get_mut(name)?.consume(consume))
    }

    /// The entries of upload `name`, finished and in progress (`uploaded_entries`).
    pub(crate) fn entries_of(&self, name: &str) -> Result<UploadedEntries<'_>, UploadError> {
        let config = self.get(name).ok_or_else(|| unknown_upload(name))?;
        let (completed, in_progress) = config.uploaded_entries();
        Ok(UploadedEntries {
            completed,
            in_progress,
        })
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Result<&mut UploadConfig, UploadError> {
        self.configs
            .iter_mut()
            .find(|c| c.name() == name)
            .ok_or_else(|| unknown_upload(name))
    }

    pub(crate) fn by_ref_mut(&mut self, upload_ref: &str) -> Option<&mut UploadConfig> {
        self.configs
            .iter_mut()
            .find(|c| c.upload_ref() == upload_ref)
    }
}

fn unknown_upload(name: &str) -> UploadError {
    UploadError::UnknownEntry(format!("no upload named {name:?} was allowed"))
}
