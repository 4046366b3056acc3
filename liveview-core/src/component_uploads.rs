//! Uploads owned by a live component (Phoenix: `allow_upload` in a component): the
//! component's [`ComponentSocket`] holds the configs; its render sees them as
//! `meta.uploads`; the selection, the preflight, the progress and the stored files of its
//! entries go to it, and it re-renders. The runtime's side is `runtime::view_uploads`, which
//! finds a config by its ref in the view or in any component.

use liveview_upload::{Stored, UploadEntry, UploadError, UploadOptions};

use crate::component::{ComponentSocket, LiveComponent};
use crate::uploads::UploadedEntries;

impl<C: LiveComponent> ComponentSocket<C> {
    /// Allows file uploads under `name` in this component (Phoenix: `allow_upload/3` on a
    /// component's socket), like [`Socket::allow_upload`](crate::Socket::allow_upload).
    /// The component's render gets its own uploads in `meta.uploads`; put the file input
    /// in a form with `phx-target=(meta.myself())` so the selection comes to the component.
    ///
    /// ```
    /// use liveview_core::{html, ComponentSocket, LiveComponent, Meta, Rendered, UploadOptions};
    ///
    /// struct Avatar;
    ///
    /// impl LiveComponent for Avatar {
    ///     type Props = ();
    ///     type State = ();
    ///     type Event = ();
    ///     fn mount(&self, socket: &mut ComponentSocket<Self>) {
    ///         socket
    ///             .allow_upload("avatar", UploadOptions::new().accept([".png"]))
    ///             .expect("a valid config");
    ///     }
    ///     fn update(&self, _: &mut ComponentSocket<Self>, _: ()) {}
    ///     fn render(&self, _: &(), meta: &Meta<'_>) -> Rendered {
    ///         html! {
    ///             form phx-change="validate" phx-target=(meta.myself) {
    ///                 (meta.uploads.file_input("avatar"))
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    pub fn allow_upload(
        &mut self,
        name: impl Into<String>,
        options: UploadOptions,
    ) -> Result<(), UploadError> {
        self.uploads.allow(name.into(), options)?;
        self.changed = true;
        Ok(())
    }

    /// Cancels entry `entry_ref` of this component's upload `name`, like
    /// [`Socket::cancel_upload`](crate::Socket::cancel_upload).
    pub fn cancel_upload(&mut self, name: &str, entry_ref: &str) -> Result<(), UploadError> {
        self.uploads.cancel_entry(name, entry_ref)?;
        self.changed = true;
        Ok(())
    }

    /// Consumes the finished entries of this component's upload `name`, like
    /// [`Socket::consume_uploaded_entries`](crate::Socket::consume_uploaded_entries).
    pub fn consume_uploaded_entries<T>(
        &mut self,
        name: &str,
        consume: impl FnMut(Stored, &UploadEntry) -> T,
    ) -> Result<Vec<T>, UploadError> {
        let results = self.uploads.consume_entries(name, consume)?;
        self.changed = true;
        Ok(results)
    }

    /// The entries of this component's upload `name`, like
    /// [`Socket::uploaded_entries`](crate::Socket::uploaded_entries).
    pub fn uploaded_entries(&self, name: &str) -> Result<UploadedEntries<'_>, UploadError> {
        self.uploads.entries_of(name)
    }
}
