//! What a connection sends a view's task: the client's messages (classified once, by the
//! connection), the upload channels' messages, and shutdown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use liveview_upload::{EntryError, Stored};
use serde_json::value::RawValue;
use tokio::sync::oneshot;

use super::upload_channel::Registration;
use crate::view::{Params, Session};

/// A joined view, as the connection and the upload channels reach it: push a message, then
/// [`run`](super::cell::run) it.
pub(crate) type Mailbox = Arc<super::cell::ViewCell>;

/// The client messages a view handles, by event name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientKind {
    /// `event`: a user event (click, form, key, hook…).
    Event,
    /// `live_patch`: the client followed a patch link.
    LivePatch,
    /// `allow_upload`: the preflight of upload entries.
    AllowUpload,
    /// `progress`: an upload entry's progress.
    Progress,
    /// `cids_will_destroy`: components about to leave the DOM.
    CidsWillDestroy,
    /// `cids_destroyed`: components gone from the DOM.
    CidsDestroyed,
}

impl ClientKind {
    /// The event name, for telemetry.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ClientKind::Event => "event",
            ClientKind::LivePatch => "live_patch",
            ClientKind::AllowUpload => "allow_upload",
            ClientKind::Progress => "progress",
            ClientKind::CidsWillDestroy => "cids_will_destroy",
            ClientKind::CidsDestroyed => "cids_destroyed",
        }
    }

    /// The kind of a client event name; `None` for `phx_leave` and unknown events.
    pub(crate) fn of(event: &str) -> Option<Self> {
        Some(match event {
            "event" => ClientKind::Event,
            "live_patch" => ClientKind::LivePatch,
            "allow_upload" => ClientKind::AllowUpload,
            "progress" => ClientKind::Progress,
            "cids_will_destroy" => ClientKind::CidsWillDestroy,
            "cids_destroyed" => ClientKind::CidsDestroyed,
            _ => return None,
        })
    }
}

/// Messages from the connection to a view task.
pub(crate) enum ChannelMsg {
    /// The join: mount, then the join reply (always a view's first message).
    Mount {
        msg_ref: Option<String>,
        params: Params,
        session: Session,
    },
    /// A client message, to be answered with exactly one reply.
    Client {
        kind: ClientKind,
        msg_ref: Option<String>,
        payload: Queued,
    },
    /// `phx_leave`: reply, then end the view.
    Leave { msg_ref: Option<String> },
    /// An `lvu:` channel joined for one of this view's entries: hand it the entry's upload
    /// (where it goes; the channel opens the storage itself).
    RegisterUpload {
        config_ref: String,
        entry_ref: String,
        reply: oneshot::Sender<Registration>,
    },
    /// An entry's last chunk was stored: what the storage made of it.
    UploadDone {
        config_ref: String,
        entry_ref: String,
        stored: Stored,
    },
    /// An entry's upload was stopped: no chunk within its `chunk_timeout`
    /// ([`EntryError::ChunkTimeout`]), or its storage failed ([`EntryError::WriterFailure`]).
    UploadFailed {
        config_ref: String,
        entry_ref: String,
        error: EntryError,
    },
    /// The socket closed, or the channel was joined again.
    Shutdown,
}

impl ChannelMsg {
    /// What kind of turn this is, for telemetry.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            ChannelMsg::Mount { .. } => "mount",
            ChannelMsg::Client { kind, .. } => kind.name(),
            ChannelMsg::Leave { .. } => "leave",
            ChannelMsg::Shutdown => "shutdown",
            _ => "upload",
        }
    }

    /// The ref of the client message this is, if any (to answer it when the view is gone).
    pub(crate) fn msg_ref(&self) -> Option<&str> {
        match self {
            ChannelMsg::Client { msg_ref, .. } | ChannelMsg::Leave { msg_ref } => {
                msg_ref.as_deref()
            }
            _ => None,
        }
    }
}

/// A client message's payload on its way to a view, counted against the socket's budget of
/// queued bytes ([`Config::max_queued_bytes`](crate::Config)) until the view is done with it.
pub(crate) struct Queued {
    raw: Box<RawValue>,
    queued: Arc<AtomicUsize>,
}

impl Queued {
    /// Charges `raw` to `queued`, unless that would pass `budget`.
    pub(crate) fn charge(
        raw: Box<RawValue>,
        queued: &Arc<AtomicUsize>,
        budget: usize,
    ) -> Option<Self> {
        let size = raw.get().len();
        queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |total| {
                let total = total.checked_add(size)?;
                (total <= budget).then_some(total)
            })
            .ok()?;
        Some(Self {
            raw,
            queued: queued.clone(),
        })
    }

    /// The payload's JSON text.
    pub(crate) fn get(&self) -> &str {
        self.raw.get()
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.queued
            .fetch_sub(self.raw.get().len(), Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_bytes_are_charged_until_dropped() {
        let queued = Arc::new(AtomicUsize::new(0));
        let raw = || RawValue::from_string("{\"a\":1}".to_owned()).unwrap();
        let first = Queued::charge(raw(), &queued, 14).unwrap();
        let second = Queued::charge(raw(), &queued, 14).unwrap();
        assert_eq!(queued.load(Ordering::Acquire), 14);
        assert!(
            Queued::charge(raw(), &queued, 14).is_none(),
            "over the budget"
        );
        drop(first);
        assert!(Queued::charge(raw(), &queued, 14).is_some());
        drop(second);
    }
}
