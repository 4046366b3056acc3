//! The payloads of a view's frames: the members of a turn (the tree or its diff, the
//! components, the title, pushed events), the join reply, event replies, diff pushes,
//! navigation and the other replies of a view channel.

use liveview_diff::{wire, Rendered};
use serde::Serialize;

use super::{ChannelRef, LIVEVIEW_VERSION};
use crate::component::Registry;
use crate::json::{write_json_str, write_value};

/// What one turn of a view sends: the tree against the one the client holds, the
/// components, the title and the pushed events.
pub(crate) struct Turn<'a> {
    /// The tree the client holds (`None` before the join reply).
    pub(crate) last: Option<&'a Rendered>,
    /// The tree rendered this turn, if the state changed.
    pub(crate) new: Option<&'a Rendered>,
    /// The view's components (their fresh trees are sent and become the held ones).
    pub(crate) components: &'a mut Registry,
    /// A changed title (`""` clears it).
    pub(crate) title: Option<&'a str>,
    /// Events pushed by the view, as comma-separated JSON arrays.
    pub(crate) events: &'a [u8],
}

impl Turn<'_> {
    /// Writes the turn's members (`"0": …, "c": {…}, "t": …, "e": [...]`, no braces) into
    /// `out`; returns whether it wrote anything.
    fn write_members(self, out: &mut Vec<u8>) -> bool {
        let mut any = false;
        let mut resend_components = false;
        if let Some(new) = self.new {
            any = match self.last {
                Some(last) => {
                    // New root statics make the client forget every component: resend them.
                    resend_components = last.template() != new.template();
                    wire::write_diff_members(last, new, out)
                }
                None => {
                    resend_components = true;
                    wire::write_full_members(new, out);
                    true
                }
            };
        }
        any |= write_components(self.components, resend_components, any, out);
        if let Some(title) = self.title {
            if any {
                out.push(b',');
            }
            out.extend_from_slice(b"\"t\":");
            write_json_str(title, out);
            any = true;
        }
        let component_events = std::mem::take(&mut self.components.events);
        if !self.events.is_empty() || !component_events.is_empty() {
            if any {
                out.push(b',');
            }
            out.extend_from_slice(b"\"e\":[");
            out.extend_from_slice(self.events);
            if !self.events.is_empty() && !component_events.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(&component_events);
            out.push(b']');
            any = true;
        }
        any
    }
}

/// The join reply: `{"rendered": {…}, "liveview_version": …, "live_patch"?: {…}}`.
pub(crate) fn join_reply(
    channel: ChannelRef<'_>,
    msg_ref: Option<&str>,
    turn: Turn<'_>,
    live_patch: Option<&str>,
) -> String {
    channel.reply(msg_ref, true, |out| {
        out.extend_from_slice(b"{\"rendered\":{");
        turn.write_members(out);
        out.extend_from_slice(b"},\"liveview_version\":\"");
        out.extend_from_slice(LIVEVIEW_VERSION.as_bytes());
        out.push(b'"');
        if let Some(patch) = live_patch {
            out.extend_from_slice(b",\"live_patch\":");
            out.extend_from_slice(patch.as_bytes());
        }
        out.push(b'}');
    })
}

/// The reply to a client message after its turn: `{extra…, "diff": {…}}`, `{extra…}` or `{}`
/// when nothing changed. `extra` holds JSON members (an `allow_upload` preflight).
pub(crate) fn turn_reply(
    channel: ChannelRef<'_>,
    msg_ref: &str,
    extra: Option<&[u8]>,
    turn: Turn<'_>,
) -> String {
    channel.reply(Some(msg_ref), true, |out| {
        out.push(b'{');
        if let Some(extra) = extra {
            out.extend_from_slice(extra);
            out.push(b',');
        }
        let mark = out.len();
        out.extend_from_slice(b"\"diff\":{");
        if turn.write_members(out) {
            out.push(b'}');
        } else {
            // Nothing changed: `{}` (or just the extra members).
            out.truncate(if extra.is_some() { mark - 1 } else { mark });
        }
        out.push(b'}');
    })
}

/// A `diff` push after a turn no client message asked for (an info, an upload), or `None`
/// when it has nothing to send.
pub(crate) fn diff_push(channel: ChannelRef<'_>, turn: Turn<'_>) -> Option<String> {
    let mut any = false;
    let frame = channel.push("diff", |out| {
        out.push(b'{');
        any = turn.write_members(out);
        out.push(b'}');
    });
    any.then_some(frame)
}

/// Where a view sends the client: `live_patch` (same view), `live_redirect` (another view on
/// the same socket), `redirect` (a full page load).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NavigationKind {
    LivePatch,
    LiveRedirect,
    Redirect,
}

impl NavigationKind {
    fn key(self) -> &'static str {
        match self {
            NavigationKind::LivePatch => "live_patch",
            NavigationKind::LiveRedirect => "live_redirect",
            NavigationKind::Redirect => "redirect",
        }
    }
}

/// A navigation payload: `{"to": …, "kind"?: "push"|"replace", "flash"?: …}`.
#[derive(Debug, Clone)]
pub(crate) struct Navigation {
    pub(crate) kind: NavigationKind,
    json: String,
}

impl Navigation {
    /// `replace` is `None` for a full-page `redirect`, which has no kind.
    pub(crate) fn new(
        kind: NavigationKind,
        to: &str,
        replace: Option<bool>,
        flash: Option<&str>,
    ) -> Self {
        let mut out = Vec::with_capacity(to.len() + 32);
        out.extend_from_slice(b"{\"to\":");
        write_json_str(to, &mut out);
        if let Some(replace) = replace {
            out.extend_from_slice(if replace {
                b",\"kind\":\"replace\""
            } else {
                b",\"kind\":\"push\""
            });
        }
        if let Some(flash) = flash {
            out.extend_from_slice(b",\"flash\":");
            write_json_str(flash, &mut out);
        }
        out.push(b'}');
        Self {
            kind,
            json: String::from_utf8(out).expect("JSON is UTF-8"),
        }
    }

    /// The payload, as JSON.
    pub(crate) fn json(&self) -> &str {
        &self.json
    }

    /// The reply to `msg_ref` (a join or an event) that sends the client there:
    /// `{"live_redirect": {…}}`.
    pub(crate) fn reply(&self, channel: ChannelRef<'_>, msg_ref: Option<&str>, ok: bool) -> String {
        channel.reply(msg_ref, ok, |out| {
            out.push(b'{');
            write_json_str(self.kind.key(), out);
            out.push(b':');
            out.extend_from_slice(self.json.as_bytes());
            out.push(b'}');
        })
    }

    /// The push that sends the client there when no message asked.
    pub(crate) fn push(&self, channel: ChannelRef<'_>) -> String {
        channel.push(self.kind.key(), |out| {
            out.extend_from_slice(self.json.as_bytes())
        })
    }
}

/// The reply to a `live_patch` for a URL the view cannot patch to: the client navigates
/// there instead (a new join, or a page load).
/// The error reply to an event that does not decode: `{"reason": "unknown event"}`, or
/// `{"reason": "invalid value", "message": …}` naming the field (the message quotes client
/// input, so it is cut and escaped as a log line is).
pub(crate) fn event_refusal(
    channel: ChannelRef<'_>,
    msg_ref: Option<&str>,
    error: &crate::event::EventError,
) -> String {
    match error {
        crate::event::EventError::Unknown { .. } => channel.error(msg_ref, error.reason()),
        _ => channel.error_with_message(
            msg_ref,
            error.reason(),
            &crate::Untrusted(&error.to_string()).to_string(),
        ),
    }
}

pub(crate) fn link_redirect_reply(channel: ChannelRef<'_>, msg_ref: Option<&str>) -> String {
    channel.reply(msg_ref, true, |out| {
        out.extend_from_slice(b"{\"link_redirect\":true}")
    })
}

/// The reply to `cids_destroyed`: `{"cids": [...]}`, the components removed.
pub(crate) fn cids_reply(channel: ChannelRef<'_>, msg_ref: Option<&str>, cids: &[u32]) -> String {
    channel.reply(msg_ref, true, |out| {
        out.extend_from_slice(b"{\"cids\":");
        write_value(&cids, out);
        out.push(b'}');
    })
}

/// An error reply whose response is a serialized value (an upload error:
/// `{"reason": …, "limit"?: …}`).
pub(crate) fn error_value_reply(
    channel: ChannelRef<'_>,
    msg_ref: Option<&str>,
    response: &impl Serialize,
) -> String {
    channel.reply(msg_ref, false, |out| write_value(response, out))
}

/// Serializes `value` (an object) and strips its braces: members to put next to `"diff"`.
pub(crate) fn members_of(value: &impl Serialize) -> Vec<u8> {
    let mut members = Vec::with_capacity(256);
    write_value(value, &mut members);
    if members.first() == Some(&b'{') && members.last() == Some(&b'}') {
        members.pop();
        members.remove(0);
    }
    members
}

/// Writes the `"c"` member with the components rendered in this turn (diffed against what the
/// client holds, or in full) — and with `resend`, every component the client held, in full.
/// `comma` says whether a member precedes it. Returns whether it wrote anything.
fn write_components(registry: &mut Registry, resend: bool, comma: bool, out: &mut Vec<u8>) -> bool {
    let mark = out.len();
    if comma {
        out.push(b',');
    }
    out.extend_from_slice(b"\"c\":{");
    let open = out.len();
    let mut first = true;
    let mut buf = itoa::Buffer::new();
    for (cid, entry) in registry.entries.iter_mut() {
        let fresh = entry.fresh.take();
        let entry_mark = out.len();
        if !first {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(buf.format(*cid).as_bytes());
        out.extend_from_slice(b"\":");
        let wrote = match (&fresh, &entry.sent) {
            (Some(fresh), Some(sent)) if !resend => wire::write_component_diff(sent, fresh, out),
            (Some(fresh), _) => {
                wire::write_component_full(fresh, out);
                true
            }
            (None, Some(sent)) if resend => {
                wire::write_component_full(sent, out);
                true
            }
            (None, _) => false,
        };
        if wrote {
            first = false;
        } else {
            out.truncate(entry_mark);
        }
        if let Some(fresh) = fresh {
            entry.sent = Some(fresh);
        }
    }
    if out.len() == open {
        out.truncate(mark);
        return false;
    }
    out.push(b'}');
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn navigation_payloads() {
        let channel = ChannelRef::new(Some("4"), "lv:x");
        let patch = Navigation::new(NavigationKind::LivePatch, "/a?b=1", Some(false), None);
        assert_eq!(patch.json(), r#"{"to":"/a?b=1","kind":"push"}"#);
        assert_eq!(
            patch.push(channel),
            r#"["4",null,"lv:x","live_patch",{"to":"/a?b=1","kind":"push"}]"#
        );
        let redirect = Navigation::new(NavigationKind::Redirect, "/r", None, Some("F"));
        assert_eq!(
            redirect.reply(channel, Some("7"), true),
            r#"["4","7","lv:x","phx_reply",{"status":"ok","response":{"redirect":{"to":"/r","flash":"F"}}}]"#
        );
    }

    #[test]
    fn empty_turns_reply_with_an_empty_object() {
        let channel = ChannelRef::new(Some("4"), "lv:x");
        let mut registry = Registry::detached();
        let reply = turn_reply(
            channel,
            "5",
            None,
            Turn {
                last: None,
                new: None,
                components: &mut registry,
                title: None,
                events: b"",
            },
        );
        assert_eq!(
            reply,
            r#"["4","5","lv:x","phx_reply",{"status":"ok","response":{}}]"#
        );
        let reply = turn_reply(
            channel,
            "6",
            Some(br#""ref":"r""#),
            Turn {
                last: None,
                new: None,
                components: &mut registry,
                title: Some("T"),
                events: br#"["e",{}]"#,
            },
        );
        assert_eq!(
            reply,
            r#"["4","6","lv:x","phx_reply",{"status":"ok","response":{"ref":"r","diff":{"t":"T","e":[["e",{}]]}}}]"#
        );
        assert!(diff_push(
            channel,
            Turn {
                last: None,
                new: None,
                components: &mut registry,
                title: None,
                events: b"",
            }
        )
        .is_none());
    }
}
