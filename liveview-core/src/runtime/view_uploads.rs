//! The upload side of a view's task: entries selected in form events, the `allow_upload`
//! preflight (with the presigner of an external upload), progress, and the `lvu:` channels'
//! registrations, finished uploads and failures.

use liveview_upload::{AllowUploadRequest, EntryError, ProgressRequest, Stored, UploadError};
use tokio::sync::oneshot;

use super::message::Queued;
use super::transport::send_text;
use super::upload_channel::{Registration, UploadSlot};
use super::view_task::{Crash, Flow, ViewTask};
use crate::catch::{callback, catch};
use crate::component::{Cid, ErasedComponent};
use crate::event::ClientEvent;
use crate::protocol::payload;
use crate::token::UploadTokens;
use crate::untrusted::Untrusted;
use crate::uploads::Uploads;
use crate::view::LiveView;

impl<V: LiveView> ViewTask<V> {
    /// Answers a refused upload message (`allow_upload`, `progress`) with an error reply: the
    /// client sends those without locking an element and reads an error as the upload's
    /// failure (an ok reply without `entries` would break its preflight handling).
    pub(super) async fn reject_upload(
        &mut self,
        msg_ref: Option<&str>,
        reason: &'static str,
    ) -> Result<Flow, Crash> {
        let frame = self.channel().error(msg_ref, reason);
        send_text(&*self.out, frame).await;
        Ok(Flow::Continue)
    }

    /// Registers the upload entries a form event lists (`uploads` in its payload).
    pub(super) fn put_event_entries(&mut self, event: &ClientEvent) {
        if put_entries(self.socket.uploads_mut(), event) {
            self.socket.mark_changed();
        }
    }

    /// Who owns the upload config `config_ref`: the view, or one of its components (taken
    /// out of the registry until [`release`](Self::release)).
    fn upload_owner(&mut self, config_ref: &str) -> Option<Owner> {
        if self.socket.uploads_mut().by_ref_mut(config_ref).is_some() {
            return Some(Owner::View);
        }
        let mut registry = self.components.borrow_mut();
        let cids: Vec<Cid> = registry.entries.keys().copied().collect();
        for cid in cids {
            let Some(mut instance) = registry.take_instance(cid) else {
                continue;
            };
            if instance.uploads_mut().by_ref_mut(config_ref).is_some() {
                return Some(Owner::Component(cid, instance));
            }
            registry.put_instance(cid, instance);
        }
        None
    }

    /// Puts an owner back: a component is re-rendered when `changed` (its diff goes with
    /// this turn); the view is marked changed.
    fn release(&mut self, owner: Owner, changed: bool) -> Result<(), Crash> {
        let (cid, mut instance) = match owner {
            Owner::View => {
                if changed {
                    self.socket.mark_changed();
                }
                return Ok(());
            }
            Owner::Component(cid, instance) => (cid, instance),
        };
        if changed {
            instance.mark_changed();
        }
        self.components.borrow_mut().put_instance(cid, instance);
        if changed {
            self.rerender_component(cid)?;
        }
        Ok(())
    }

    /// The uploads of `owner`.
    fn owned<'a>(&'a mut self, owner: &'a mut Owner) -> &'a mut Uploads {
        match owner {
            Owner::View => self.socket.uploads_mut(),
            Owner::Component(_, instance) => instance.uploads_mut(),
        }
    }

    pub(super) async fn on_allow_upload(
        &mut self,
        msg_ref: Option<String>,
        payload: Queued,
    ) -> Result<Flow, Crash> {
        let request: AllowUploadRequest = match serde_json::from_str(payload.get()) {
            Ok(request) => request,
            Err(error) => {
                tracing::warn!(target: "liveview::rejection", error = %Untrusted(&error.to_string()), "malformed allow_upload");
                return self
                    .reject_upload(msg_ref.as_deref(), "malformed allow_upload")
                    .await;
            }
        };
        drop(payload);
        let id = self.socket.id().to_owned();
        let Some(mut owner) = self.upload_owner(&request.upload_ref) else {
            return self
                .reject_upload(msg_ref.as_deref(), "unknown upload")
                .await;
        };
        let shared = self.shared.clone();
        let tokens = UploadTokens(&shared.signer);
        let preflight = match self.owned(&mut owner).by_ref_mut(&request.upload_ref) {
            Some(config) => Some(
                config
                    .preflight(&request.entries, &tokens, &id, request.cid)
                    .await,
            ),
            None => None,
        };
        self.release(owner, true)?;
        let Some(preflight) = preflight else {
            return self
                .reject_upload(msg_ref.as_deref(), "unknown upload")
                .await;
        };
        // The preflight's members go into the reply next to "diff".
        let members = payload::members_of(&preflight);
        self.finish_turn(msg_ref, Some(members)).await
    }

    pub(super) async fn on_progress(
        &mut self,
        msg_ref: Option<String>,
        payload: Queued,
    ) -> Result<Flow, Crash> {
        let request = match serde_json::from_str::<ProgressRequest>(payload.get()) {
            Ok(request) => request,
            Err(error) => {
                tracing::warn!(target: "liveview::rejection", error = %Untrusted(&error.to_string()), "malformed progress");
                return self
                    .reject_upload(msg_ref.as_deref(), "malformed progress")
                    .await;
            }
        };
        drop(payload);
        if let Some(mut owner) = self.upload_owner(&request.upload_ref) {
            if let Some(config) = self.owned(&mut owner).by_ref_mut(&request.upload_ref) {
                if let Err(error) = config.apply_progress(&request.entry_ref, &request.progress) {
                    tracing::debug!(error = %Untrusted(&error.to_string()), "progress for an unknown entry");
                }
            }
            self.release(owner, true)?;
        }
        self.progressed(&request.upload_ref, &request.entry_ref)
            .await?;
        self.finish_turn(msg_ref, None).await
    }

    pub(super) fn on_register_upload(
        &mut self,
        config_ref: String,
        entry_ref: String,
        reply: oneshot::Sender<Registration>,
    ) -> Result<Flow, Crash> {
        let shared = self.shared.clone();
        let storage = Some(&shared.upload_storage);
        let mut owner = self.upload_owner(&config_ref);
        let registered = match &mut owner {
            Some(owner) => match self.owned(owner).by_ref_mut(&config_ref) {
                Some(config) => config.register_upload(&entry_ref, storage),
                None => Err(UploadError::Disallowed(entry_ref.clone())),
            },
            None => Err(UploadError::Disallowed(entry_ref.clone())),
        };
        if let Some(owner) = owner {
            self.release(owner, false)?;
        }
        let result = registered.map(|target| {
            let slot = UploadSlot::new(target);
            self.upload_slots.insert(entry_ref.clone(), slot.clone());
            slot
        });
        let _ = reply.send(result);
        Ok(Flow::Continue)
    }

    pub(super) async fn on_upload_done(
        &mut self,
        config_ref: String,
        entry_ref: String,
        stored: Stored,
    ) -> Result<Flow, Crash> {
        self.upload_slots.remove(&entry_ref);
        if let Some(mut owner) = self.upload_owner(&config_ref) {
            // A cancelled entry's upload is dropped (a file deleted) by `attach`'s error path.
            let attached = self
                .owned(&mut owner)
                .by_ref_mut(&config_ref)
                .is_some_and(|config| config.attach(&entry_ref, stored).is_ok());
            self.release(owner, attached)?;
        }
        self.progressed(&config_ref, &entry_ref).await?;
        self.finish_turn(None, None).await
    }

    pub(super) async fn on_upload_failed(
        &mut self,
        config_ref: String,
        entry_ref: String,
        error: EntryError,
    ) -> Result<Flow, Crash> {
        self.upload_slots.remove(&entry_ref);
        if let Some(mut owner) = self.upload_owner(&config_ref) {
            let marked = self
                .owned(&mut owner)
                .by_ref_mut(&config_ref)
                .is_some_and(|config| config.put_entry_error(&entry_ref, error).is_ok());
            self.release(owner, marked)?;
        }
        self.finish_turn(None, None).await
    }

    /// Runs the view's `handle_progress` for an entry that progressed or was stored.
    async fn progressed(&mut self, config_ref: &str, entry_ref: &str) -> Result<(), Crash> {
        let Some(config) = self.socket.uploads_mut().by_ref_mut(config_ref) else {
            return self.component_progressed(config_ref, entry_ref).await;
        };
        let Some(entry) = config.entry(entry_ref).cloned() else {
            return Ok(());
        };
        let name = config.name().to_owned();
        callback(self.view.handle_progress(&mut self.socket, &name, &entry))
            .await
            .map_err(|message| Crash(format!("handle_progress({name}): {message}")))
    }

    /// Runs the owning component's `handle_progress` (then re-renders it if it changed).
    async fn component_progressed(
        &mut self,
        config_ref: &str,
        entry_ref: &str,
    ) -> Result<(), Crash> {
        let Some(Owner::Component(cid, mut instance)) = self.upload_owner(config_ref) else {
            return Ok(());
        };
        let found = instance
            .uploads_mut()
            .by_ref_mut(config_ref)
            .and_then(|config| {
                let entry = config.entry(entry_ref).cloned()?;
                Some((config.name().to_owned(), entry))
            });
        let outcome = match &found {
            Some((name, entry)) => catch(instance.handle_progress(name, entry)).await,
            None => Ok(Ok(())),
        };
        let changed = instance.changed();
        self.release(Owner::Component(cid, instance), changed)?;
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(Crash(format!("component {cid} handle_progress: {error}"))),
            Err(panic) => Err(Crash(format!("component {cid} handle_progress: {panic}"))),
        }
    }

    /// Stops the upload channels of entries cancelled in the last callback: the storage
    /// drops their partial uploads before this turn's reply, not when the channel goes.
    pub(super) async fn stop_cancelled_uploads(&mut self) {
        let mut cancelled = self.socket.take_cancelled_uploads();
        {
            let mut registry = self.components.borrow_mut();
            let cids: Vec<Cid> = registry.entries.keys().copied().collect();
            for cid in cids {
                if let Some(mut instance) = registry.take_instance(cid) {
                    cancelled.append(&mut instance.uploads_mut().cancelled);
                    registry.put_instance(cid, instance);
                }
            }
        }
        for entry_ref in cancelled {
            if let Some(slot) = self.upload_slots.remove(&entry_ref) {
                slot.cancel().await;
            }
        }
    }

    /// Stops every upload still in flight (the view ends), on tasks of their own.
    pub(super) fn cancel_uploads(&mut self) {
        for (_, slot) in self.upload_slots.drain() {
            slot.cancel_soon();
        }
    }
}

/// Who owns an upload config: the view, or a component (out of the registry meanwhile).
enum Owner {
    View,
    Component(Cid, Box<dyn ErasedComponent>),
}

/// Puts the entries an event lists (`uploads` in its payload) into `uploads`; returns
/// whether any config took them. Entries replaced (a single-entry config) are cancelled.
pub(super) fn put_entries(uploads: &mut Uploads, event: &ClientEvent) -> bool {
    let mut changed = false;
    for (upload_ref, entries) in &event.uploads {
        if let Some(config) = uploads.by_ref_mut(upload_ref) {
            let replaced = config.put_entries(entries);
            uploads
                .cancelled
                .extend(replaced.into_iter().map(|entry| entry.entry_ref));
            changed = true;
        }
    }
    changed
}
