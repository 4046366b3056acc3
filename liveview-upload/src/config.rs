//! [`UploadConfig`]: one allowed upload (one file input) and its entries.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::entry::{ClientEntry, UploadEntry};
use crate::error::{EntryError, Error, Result};
use crate::options::{Accept, MaxEntriesMode, UploadOptions};
use crate::storage::{Stored, TempFileStorage, UploadStorage};
use crate::token::{EntryTokens, UploadTokenPayload};
use crate::wire::{
    ClientConfig, PreflightEntry, PreflightError, PreflightOk, PreflightReply, ProgressUpdate,
};
use crate::writer::UploadTarget;

/// How many entries past `max_entries` a config keeps (shown with
/// [`EntryError::TooManyFiles`]); a batch that would go further is refused
/// whole (see [`UploadConfig::put_entries`]).
pub const EXTRA_ENTRIES: usize = 16;

/// One allowed upload: its name, server-generated ref, options, entries,
/// errors and what was stored of completed entries.
///
/// Phoenix: `Phoenix.LiveView.UploadConfig`; LiveViewJS: `UploadConfig`.
///
/// Dropping the config drops what it still holds ([`Stored`]): temporary files are deleted.
pub struct UploadConfig {
    name: String,
    upload_ref: String,
    options: UploadOptions,
    accept: Accept,
    entries: Vec<UploadEntry>,
    config_errors: Vec<EntryError>,
    /// What the storage made of each completed entry, or the presigner's answer for each
    /// entry of an external upload.
    stored: HashMap<String, Stored>,
}

impl fmt::Debug for UploadConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadConfig")
            .field("name", &self.name)
            .field("ref", &self.upload_ref)
            .field("options", &self.options)
            .field("entries", &self.entries)
            .field("config_errors", &self.config_errors)
            .field("stored", &self.stored.len())
            .finish()
    }
}

impl UploadConfig {
    /// A config named `name` (the input's `name`) with a fresh random ref
    /// (`"phx-…"`). Fails with [`Error::InvalidOptions`] for zero limits or a
    /// malformed `accept` filter.
    pub fn new(name: impl Into<String>, options: UploadOptions) -> Result<Self> {
        Self::with_ref(name, crate::id::config_ref(), options)
    }

    /// Like [`new`](Self::new) with a given ref (tests, deterministic
    /// rendering).
    pub fn with_ref(
        name: impl Into<String>,
        upload_ref: impl Into<String>,
        options: UploadOptions,
    ) -> Result<Self> {
        let accept = options.validate()?;
        Ok(UploadConfig {
            name: name.into(),
            upload_ref: upload_ref.into(),
            options,
            accept,
            entries: Vec::new(),
            config_errors: Vec::new(),
            stored: HashMap::new(),
        })
    }

    // ----- accessors -------------------------------------------------------

    /// The config name (the input's `name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The config ref (`data-phx-upload-ref`, the input's `id`).
    pub fn upload_ref(&self) -> &str {
        &self.upload_ref
    }

    /// The options.
    pub fn options(&self) -> &UploadOptions {
        &self.options
    }

    /// Whether uploads start right after selection.
    pub fn auto_upload(&self) -> bool {
        self.options.auto_upload
    }

    /// This config's own storage ([`UploadOptions::storage`]); `None` means the endpoint's
    /// default.
    pub fn storage(&self) -> Option<&Arc<dyn UploadStorage>> {
        self.options.storage.as_ref()
    }

    /// Whether the client uploads the files itself ([`UploadOptions::external`]).
    pub fn is_external(&self) -> bool {
        self.options.external.is_some()
    }

    /// What is stored for an entry: the storage's result once all its bytes arrived, or,
    /// for an external upload, the presigner's answer once it is preflighted.
    pub fn stored(&self, entry_ref: &str) -> Option<&Stored> {
        self.stored.get(entry_ref)
    }

    /// The `config` object of the `allow_upload` reply.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            chunk_size: self.options.chunk_size,
            chunk_timeout: self.options.chunk_timeout,
            max_entries: self.options.max_entries,
            max_file_size: self.options.max_file_size,
        }
    }

    /// The input's `accept` attribute value (filters joined by `,`), or
    /// `None` when anything is accepted.
    pub fn accept_attr(&self) -> Option<String> {
        if self.options.accept.is_empty() {
            None
        } else {
            Some(self.options.accept.join(","))
        }
    }

    /// All entries, in selection order.
    pub fn entries(&self) -> &[UploadEntry] {
        &self.entries
    }

    /// The entry with this ref.
    pub fn entry(&self, entry_ref: &str) -> Option<&UploadEntry> {
        self.entries.iter().find(|e| e.entry_ref == entry_ref)
    }

    fn entry_mut(&mut self, entry_ref: &str) -> Result<&mut UploadEntry> {
        self.entries
            .iter_mut()
            .find(|e| e.entry_ref == entry_ref)
            .ok_or_else(|| Error::UnknownEntry(entry_ref.to_owned()))
    }

    /// Config-level errors (keyed by the config ref on the wire), e.g.
    /// [`EntryError::TooManyFiles`].
    pub fn config_errors(&self) -> &[EntryError] {
        &self.config_errors
    }

    /// The errors of one entry (empty for unknown refs).
    pub fn entry_errors(&self, entry_ref: &str) -> &[EntryError] {
        self.entry(entry_ref).map_or(&[], |e| e.errors.as_slice())
    }

    /// All errors as `(ref, reason)` pairs: entry errors in entry order, then
    /// config-level errors keyed by the config ref.
    pub fn errors(&self) -> Vec<(String, EntryError)> {
        let mut out: Vec<(String, EntryError)> = self
            .entries
            .iter()
            .flat_map(|e| {
                e.errors
                    .iter()
                    .map(|err| (e.entry_ref.clone(), err.clone()))
            })
            .collect();
        out.extend(
            self.config_errors
                .iter()
                .map(|err| (self.upload_ref.clone(), err.clone())),
        );
        out
    }

    /// Whether the config or any entry has an error.
    pub fn has_errors(&self) -> bool {
        !self.config_errors.is_empty() || self.entries.iter().any(|e| !e.errors.is_empty())
    }

    // ----- refs for rendering ---------------------------------------------

    /// Refs of all entries (`data-phx-active-refs`).
    pub fn active_refs(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.entry_ref.as_str()).collect()
    }

    /// Refs of done entries (`data-phx-done-refs`).
    pub fn done_refs(&self) -> Vec<&str> {
        self.refs_where(|e| e.done)
    }

    /// Refs of preflighted entries (`data-phx-preflighted-refs`).
    pub fn preflighted_refs(&self) -> Vec<&str> {
        self.refs_where(|e| e.preflighted)
    }

    /// Refs with errors (`data-phx-error-refs`): entries with errors, then
    /// the config ref if the config has errors.
    pub fn error_refs(&self) -> Vec<&str> {
        let mut refs = self.refs_where(|e| !e.errors.is_empty());
        if !self.config_errors.is_empty() {
            refs.push(&self.upload_ref);
        }
        refs
    }

    fn refs_where(&self, pred: impl Fn(&UploadEntry) -> bool) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| pred(e))
            .map(|e| e.entry_ref.as_str())
            .collect()
    }

    // ----- selection -------------------------------------------------------

    /// Registers the entries of a form change event (`uploads[config ref]`).
    ///
    /// Known refs are left alone. New entries are validated (`too_large`
    /// when the declared size exceeds `max_file_size`, else `not_accepted`
    /// when neither MIME type nor extension matches `accept`) and appended,
    /// invalid ones included (they carry their errors). With
    /// `max_entries == 1`, a single new entry replaces a single existing
    /// one. More entries than `max_entries` put
    /// [`EntryError::TooManyFiles`] on the config.
    ///
    /// A config never holds more than
    /// [`entry_capacity`](Self::entry_capacity) entries (`max_entries` plus
    /// [`EXTRA_ENTRIES`], so the page can list a few too many with the
    /// error): a batch that would pass it is refused whole, nothing of it is
    /// kept, and the config shows [`EntryError::TooManyFiles`]. Each entry is
    /// looked at once, whatever the batch size.
    ///
    /// Returns the entries that were replaced (removed); the transport stops
    /// their upload channels if they had any.
    pub fn put_entries(&mut self, client_entries: &[ClientEntry]) -> Vec<UploadEntry> {
        let known: HashSet<&str> = self.entries.iter().map(|e| e.entry_ref.as_str()).collect();
        let mut seen = HashSet::new();
        let mut new: Vec<&ClientEntry> = Vec::new();
        for c in client_entries {
            if !known.contains(c.entry_ref.as_str()) && seen.insert(c.entry_ref.as_str()) {
                if new.len() > self.entry_capacity() {
                    break;
                }
                new.push(c);
            }
        }

        if self.options.max_entries_mode == MaxEntriesMode::KeepFirst {
            // Keep what fits, drop the rest (a single-entry config still replaces below).
            let single = self.options.max_entries == 1 && self.entries.len() == 1;
            let room = if single {
                1
            } else {
                self.options.max_entries.saturating_sub(self.entries.len())
            };
            new.truncate(room);
        }
        let replacing = self.options.max_entries == 1 && self.entries.len() == 1 && new.len() == 1;
        if !replacing && self.entries.len() + new.len() > self.entry_capacity() {
            if !self.config_errors.contains(&EntryError::TooManyFiles) {
                self.config_errors.push(EntryError::TooManyFiles);
            }
            return Vec::new();
        }

        let mut replaced = Vec::new();
        if replacing {
            let old = self.entries.remove(0);
            replaced.push(self.finish_removal(old));
        }

        for c in new {
            let mut entry = UploadEntry::from_client(c, &self.upload_ref, &self.name);
            if c.size > self.options.max_file_size {
                entry.errors.push(EntryError::TooLarge);
            } else if !self.accept.accepts(&c.name, &c.mime_type) {
                entry.errors.push(EntryError::NotAccepted);
            }
            entry.valid = entry.errors.is_empty();
            self.entries.push(entry);
        }

        self.recalculate_errors();
        replaced
    }

    /// The most entries this config holds: `max_entries` plus [`EXTRA_ENTRIES`].
    pub fn entry_capacity(&self) -> usize {
        self.options.max_entries.saturating_add(EXTRA_ENTRIES)
    }

    /// Adds an application-defined (or any) error to an entry, marking it
    /// invalid (e.g. a custom validation after [`put_entries`](Self::put_entries)).
    pub fn put_entry_error(&mut self, entry_ref: &str, error: EntryError) -> Result<()> {
        let entry = self.entry_mut(entry_ref)?;
        if !entry.errors.contains(&error) {
            entry.errors.push(error);
        }
        entry.valid = false;
        Ok(())
    }

    fn too_many_files(&self) -> bool {
        self.entries.len() > self.options.max_entries
    }

    fn recalculate_errors(&mut self) {
        let too_many = self.too_many_files();
        let has = self.config_errors.contains(&EntryError::TooManyFiles);
        if too_many && !has {
            self.config_errors.push(EntryError::TooManyFiles);
        } else if !too_many && has {
            self.config_errors
                .retain(|e| *e != EntryError::TooManyFiles);
        }
    }

    /// Drops what is stored of a removed entry and marks it cancelled.
    fn finish_removal(&mut self, mut entry: UploadEntry) -> UploadEntry {
        self.stored.remove(&entry.entry_ref);
        entry.cancelled = true;
        entry
    }

    // ----- preflight -------------------------------------------------------

    /// Handles `allow_upload` (§10.3) and returns the reply's `response`
    /// (without `diff`). Phoenix: `Phoenix.LiveView.Upload.generate_preflight_response/4`.
    ///
    /// Unknown entries are first registered as by
    /// [`put_entries`](Self::put_entries). If the config then has errors and
    /// is not `auto_upload`, the whole request fails
    /// ([`PreflightReply::Error`] listing every `[ref, reason]`). Otherwise
    /// the requested entries that are not preflighted yet and lie within the
    /// first `max_entries` are marked preflighted; invalid ones are listed in
    /// `errors`, and each valid one gets what the client uploads it with:
    ///
    /// * a channel token signed with `tokens` over ([`UploadTokenPayload`]) `view_id`, the
    ///   config ref, the entry ref and `cid`;
    /// * for an external upload, the [`Presigner`](crate::Presigner)'s answer (an
    ///   [`ExternalUpload`](crate::ExternalUpload), kept for
    ///   [`consume`](Self::consume)). A presigner error goes on the entry; without
    ///   `auto_upload` it fails the whole request (`[[ref, reason]]`), as in Phoenix; with
    ///   it the entry is listed in `errors` and the others go on.
    pub async fn preflight<T: EntryTokens + Sync + ?Sized>(
        &mut self,
        client_entries: &[ClientEntry],
        tokens: &T,
        view_id: &str,
        cid: Option<u32>,
    ) -> PreflightReply {
        self.put_entries(client_entries);

        if self.has_errors() && !self.options.auto_upload {
            return PreflightReply::Error(PreflightError {
                upload_ref: self.upload_ref.clone(),
                error: self.errors(),
            });
        }

        let max = self.options.max_entries;
        let requested_refs: HashSet<&str> = client_entries
            .iter()
            .map(|c| c.entry_ref.as_str())
            .collect();
        let mut accepted = Vec::new();
        let mut errors = BTreeMap::new();
        for (i, entry) in self.entries.iter_mut().enumerate() {
            let requested = requested_refs.contains(entry.entry_ref.as_str());
            if !requested || i >= max || entry.preflighted {
                continue;
            }
            entry.preflighted = true;
            if entry.valid && entry.errors.is_empty() {
                accepted.push(entry.clone());
            } else {
                errors.insert(entry.entry_ref.clone(), entry.errors.clone());
            }
        }

        let mut entries = BTreeMap::new();
        let presigner = self.options.external.clone();
        for entry in accepted {
            let Some(presigner) = &presigner else {
                let payload = UploadTokenPayload {
                    view_id: view_id.to_owned(),
                    config_ref: self.upload_ref.clone(),
                    entry_ref: entry.entry_ref.clone(),
                    cid,
                };
                let token = payload.sign(&tokens);
                entries.insert(entry.entry_ref, PreflightEntry::Token(token));
                continue;
            };
            match presigner.0.presign(&entry).await {
                Ok(external) => {
                    self.stored
                        .insert(entry.entry_ref.clone(), Stored::External(external.clone()));
                    entries.insert(entry.entry_ref, PreflightEntry::External(external));
                }
                Err(error) => {
                    // The entry exists: it was just preflighted.
                    let _ = self.put_entry_error(&entry.entry_ref, error.clone());
                    if !self.options.auto_upload {
                        return PreflightReply::Error(PreflightError {
                            upload_ref: self.upload_ref.clone(),
                            error: vec![(entry.entry_ref, error)],
                        });
                    }
                    errors.insert(entry.entry_ref, vec![error]);
                }
            }
        }

        PreflightReply::Ok(PreflightOk {
            upload_ref: self.upload_ref.clone(),
            config: self.client_config(),
            entries,
            errors,
        })
    }

    // ----- upload channel --------------------------------------------------

    /// Registers the upload channel of an entry (on a verified `lvu:` join) and returns
    /// where its bytes go: this config's storage, else `default_storage` (the endpoint's),
    /// else temporary files in the system temp directory. The channel opens the
    /// [`UploadTarget`] itself, off the view.
    ///
    /// Errors: [`Error::Disallowed`] if the entry is unknown, invalid, not
    /// preflighted, or external (the client uploads it elsewhere);
    /// [`Error::AlreadyRegistered`] if a channel is registered or the file is already
    /// stored.
    pub fn register_upload(
        &mut self,
        entry_ref: &str,
        default_storage: Option<&Arc<dyn UploadStorage>>,
    ) -> Result<UploadTarget> {
        self.check_registrable(entry_ref)?;
        let storage = match (&self.options.storage, default_storage) {
            (Some(storage), _) | (None, Some(storage)) => storage.clone(),
            (None, None) => Arc::new(TempFileStorage::default()),
        };
        let entry = self.entry_mut(entry_ref)?;
        entry.registered = true;
        Ok(UploadTarget::new(
            storage,
            entry.clone(),
            self.options.max_file_size,
            Duration::from_millis(self.options.chunk_timeout),
        ))
    }

    fn check_registrable(&self, entry_ref: &str) -> Result<()> {
        let entry = self
            .entry(entry_ref)
            .ok_or_else(|| Error::Disallowed(entry_ref.to_owned()))?;
        if !entry.valid || !entry.errors.is_empty() || !entry.preflighted || self.is_external() {
            return Err(Error::Disallowed(entry_ref.to_owned()));
        }
        if entry.registered || self.stored.contains_key(entry_ref) {
            return Err(Error::AlreadyRegistered(entry_ref.to_owned()));
        }
        Ok(())
    }

    /// Forgets the upload channel of an entry whose file is not stored yet
    /// (the channel died), so that a new join may register again.
    pub fn unregister_upload(&mut self, entry_ref: &str) -> Result<()> {
        let stored = self.stored.contains_key(entry_ref);
        let entry = self.entry_mut(entry_ref)?;
        if !stored {
            entry.registered = false;
        }
        Ok(())
    }

    /// Stores what the storage made of an entry once all its bytes arrived
    /// ([`EntryWriter::finish`](crate::EntryWriter::finish)). The entry is done once its
    /// progress is also 100 (in either order). Fails with [`Error::UnknownEntry`] if the
    /// entry was cancelled meanwhile: `stored` is then dropped (a temporary file is
    /// deleted).
    pub fn attach(&mut self, entry_ref: &str, stored: Stored) -> Result<()> {
        let entry = self.entry_mut(entry_ref)?;
        entry.path = stored.path().map(Path::to_path_buf);
        entry.done = entry.progress == 100;
        self.stored.insert(entry_ref.to_owned(), stored);
        Ok(())
    }

    // ----- progress --------------------------------------------------------

    /// Sets the progress (`0..=100`) of an entry; it only grows. At 100 the
    /// entry is done once its file is stored ([`attach`](Self::attach)); an external
    /// entry is done at 100 (the client uploaded it elsewhere).
    pub fn update_progress(&mut self, entry_ref: &str, progress: u64) -> Result<()> {
        if progress > 100 {
            return Err(Error::InvalidProgress(progress));
        }
        let stored = self.stored.contains_key(entry_ref);
        let entry = self.entry_mut(entry_ref)?;
        let progress = progress as u8;
        if progress > entry.progress {
            entry.progress = progress;
        }
        if entry.progress == 100 && stored {
            entry.done = true;
        }
        Ok(())
    }

    /// Applies the `progress` field of a `progress` push: a percentage, or
    /// the error form, which puts [`EntryError::ExternalClientFailure`] on
    /// the entry.
    pub fn apply_progress(&mut self, entry_ref: &str, update: &ProgressUpdate) -> Result<()> {
        match update {
            ProgressUpdate::Percent(p) => self.update_progress(entry_ref, *p),
            ProgressUpdate::Error { .. } => {
                self.put_entry_error(entry_ref, EntryError::ExternalClientFailure)
            }
        }
    }

    // ----- cancel ----------------------------------------------------------

    /// Cancels an entry: removes it, its errors and what is stored of it (a temporary file
    /// is deleted), and re-validates the entry count. Returns the removed entry (with
    /// `cancelled` set); if it [`is_registered`](UploadEntry::is_registered)
    /// the transport stops its `lvu:` channel.
    pub fn cancel(&mut self, entry_ref: &str) -> Result<UploadEntry> {
        let idx = self
            .entries
            .iter()
            .position(|e| e.entry_ref == entry_ref)
            .ok_or_else(|| Error::UnknownEntry(entry_ref.to_owned()))?;
        let entry = self.entries.remove(idx);
        let entry = self.finish_removal(entry);
        self.recalculate_errors();
        Ok(entry)
    }

    /// Cancels every entry (e.g. when the view goes away) and returns them.
    pub fn cancel_all(&mut self) -> Vec<UploadEntry> {
        let entries = std::mem::take(&mut self.entries);
        let out = entries
            .into_iter()
            .map(|e| self.finish_removal(e))
            .collect();
        self.stored.clear();
        self.recalculate_errors();
        out
    }

    // ----- results ---------------------------------------------------------

    /// `(completed, in_progress)`: done entries and all others (invalid ones
    /// included), in entry order.
    pub fn uploaded_entries(&self) -> (Vec<&UploadEntry>, Vec<&UploadEntry>) {
        self.entries.iter().partition(|e| e.done)
    }

    /// Consumes every done entry: calls `f` with what was stored of it and the
    /// entry, removes the entry and returns the results in entry order (Phoenix:
    /// `consume_uploaded_entries/3`; LiveViewJS: `consumeUploadedEntries`).
    ///
    /// `f` owns the [`Stored`] value: what it does not move out is dropped when it returns,
    /// so a temporary file is deleted unless `f` moved it
    /// ([`UploadedFile::persist`](crate::UploadedFile::persist)) or kept it
    /// ([`UploadedFile::keep`](crate::UploadedFile::keep)). To finish the work in async
    /// code, return the value itself from `f`. Entries that are not done are left alone.
    pub fn consume<T, F>(&mut self, mut f: F) -> Vec<T>
    where
        F: FnMut(Stored, &UploadEntry) -> T,
    {
        let done: Vec<String> = self.done_refs().into_iter().map(str::to_owned).collect();
        done.iter()
            .filter_map(|r| self.consume_entry(r, &mut f).ok())
            .collect()
    }

    /// Consumes one done entry (see [`consume`](Self::consume)).
    /// [`Error::UnknownEntry`] if there is no such entry,
    /// [`Error::Disallowed`] if it is not done.
    pub fn consume_entry<T, F>(&mut self, entry_ref: &str, f: F) -> Result<T>
    where
        F: FnOnce(Stored, &UploadEntry) -> T,
    {
        let idx = self
            .entries
            .iter()
            .position(|e| e.entry_ref == entry_ref)
            .ok_or_else(|| Error::UnknownEntry(entry_ref.to_owned()))?;
        if !self.entries[idx].done {
            return Err(Error::Disallowed(entry_ref.to_owned()));
        }
        let Some(stored) = self.stored.remove(entry_ref) else {
            return Err(Error::Disallowed(entry_ref.to_owned()));
        };
        let entry = self.entries.remove(idx);
        self.recalculate_errors();
        Ok(f(stored, &entry))
    }
}
