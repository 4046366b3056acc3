//! Encoding server frames: every reply and push goes through a [`ChannelRef`].

use crate::json::{write_json_str, write_opt_str};

/// Which channel a frame belongs to: its join ref (`None` on the `phoenix` topic and for
/// frames answering a channel that does not exist) and its topic. Every server frame is
/// written through one, so no call site spells out `[join_ref, ref, topic, …]`.
///
/// ```
/// use liveview_core::protocol::ChannelRef;
/// let channel = ChannelRef::new(Some("4"), "lv:phx-1");
/// assert_eq!(
///     channel.error(Some("7"), "unknown event"),
///     r#"["4","7","lv:phx-1","phx_reply",{"status":"error","response":{"reason":"unknown event"}}]"#
/// );
/// assert_eq!(channel.push("diff", |out| out.extend_from_slice(b"{}")), r#"["4",null,"lv:phx-1","diff",{}]"#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ChannelRef<'a> {
    join_ref: Option<&'a str>,
    topic: &'a str,
}

impl<'a> ChannelRef<'a> {
    /// The channel `topic` joined as `join_ref`.
    pub fn new(join_ref: Option<&'a str>, topic: &'a str) -> Self {
        Self { join_ref, topic }
    }

    /// The topic.
    pub fn topic(&self) -> &'a str {
        self.topic
    }

    /// A reply to `msg_ref`: `[join_ref, ref, topic, "phx_reply", {"status": …, "response": …}]`;
    /// `response` writes the response object.
    pub fn reply(
        &self,
        msg_ref: Option<&str>,
        ok: bool,
        response: impl FnOnce(&mut Vec<u8>),
    ) -> String {
        let mut out = Vec::with_capacity(96);
        self.head(&mut out, msg_ref, "phx_reply");
        out.extend_from_slice(if ok {
            b"{\"status\":\"ok\",\"response\":"
        } else {
            b"{\"status\":\"error\",\"response\":"
        });
        response(&mut out);
        out.extend_from_slice(b"}]");
        into_string(out)
    }

    /// An ok reply with an empty response.
    pub fn ok(&self, msg_ref: Option<&str>) -> String {
        self.reply(msg_ref, true, |out| out.extend_from_slice(b"{}"))
    }

    /// An error reply whose response is `{"reason": reason}` (counted in
    /// [`telemetry::REFUSALS`](crate::telemetry::REFUSALS) by reason).
    pub fn error(&self, msg_ref: Option<&str>, reason: &'static str) -> String {
        crate::telemetry::refused(reason);
        self.reply(msg_ref, false, |out| {
            out.extend_from_slice(b"{\"reason\":");
            write_json_str(reason, out);
            out.push(b'}');
        })
    }

    /// An error reply `{"reason": reason, "message": message}`: a refusal with a message for
    /// the developer (an event value that does not decode names its field); counted like
    /// [`ChannelRef::error`].
    ///
    /// ```
    /// use liveview_core::protocol::ChannelRef;
    /// let channel = ChannelRef::new(Some("4"), "lv:phx-1");
    /// assert_eq!(
    ///     channel.error_with_message(Some("7"), "invalid value", "invalid value for `age`: \"x\""),
    ///     r#"["4","7","lv:phx-1","phx_reply",{"status":"error","response":{"reason":"invalid value","message":"invalid value for `age`: \"x\""}}]"#
    /// );
    /// ```
    pub fn error_with_message(
        &self,
        msg_ref: Option<&str>,
        reason: &'static str,
        message: &str,
    ) -> String {
        crate::telemetry::refused(reason);
        self.reply(msg_ref, false, |out| {
            out.extend_from_slice(b"{\"reason\":");
            write_json_str(reason, out);
            out.extend_from_slice(b",\"message\":");
            write_json_str(message, out);
            out.push(b'}');
        })
    }

    /// A server push: `[join_ref, null, topic, event, payload]`.
    pub fn push(&self, event: &str, payload: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::with_capacity(64);
        self.head(&mut out, None, event);
        payload(&mut out);
        out.push(b']');
        into_string(out)
    }

    /// The `phx_error` push that ends a crashed channel:
    /// `[join_ref, join_ref, topic, "phx_error", {"reason": "channel_crash"}]` (its ref is the
    /// join ref, as Phoenix sends it).
    pub fn crashed(&self) -> String {
        let mut out = Vec::with_capacity(96);
        self.head(&mut out, self.join_ref, "phx_error");
        out.extend_from_slice(b"{\"reason\":\"channel_crash\"}]");
        into_string(out)
    }

    /// The `phx_close` push of a channel that stopped normally:
    /// `[join_ref, join_ref, topic, "phx_close", {}]`.
    pub fn closed(&self) -> String {
        let mut out = Vec::with_capacity(64);
        self.head(&mut out, self.join_ref, "phx_close");
        out.extend_from_slice(b"{}]");
        into_string(out)
    }

    /// Writes `[join_ref, ref, topic, event, ` (every frame's start).
    fn head(&self, out: &mut Vec<u8>, msg_ref: Option<&str>, event: &str) {
        out.push(b'[');
        write_opt_str(self.join_ref, out);
        out.push(b',');
        write_opt_str(msg_ref, out);
        out.push(b',');
        write_json_str(self.topic, out);
        out.push(b',');
        write_json_str(event, out);
        out.push(b',');
    }
}

fn into_string(bytes: Vec<u8>) -> String {
    // Every writer above only appends UTF-8 (JSON produced from `&str`s and ASCII).
    String::from_utf8(bytes).expect("frame encoders write UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crashed_carries_the_join_ref_whatever_it_contains() {
        assert_eq!(
            ChannelRef::new(Some("4"), "lv:x").crashed(),
            r#"["4","4","lv:x","phx_error",{"reason":"channel_crash"}]"#
        );
        assert_eq!(
            ChannelRef::new(Some("1,null,2"), "lv:x").crashed(),
            r#"["1,null,2","1,null,2","lv:x","phx_error",{"reason":"channel_crash"}]"#
        );
    }

    #[test]
    fn encodes_replies_and_closes() {
        assert_eq!(
            ChannelRef::new(None, "phoenix").ok(Some("9")),
            r#"[null,"9","phoenix","phx_reply",{"status":"ok","response":{}}]"#
        );
        assert_eq!(
            ChannelRef::new(Some("4"), "lv:x").error(Some("4"), "stale"),
            r#"["4","4","lv:x","phx_reply",{"status":"error","response":{"reason":"stale"}}]"#
        );
        assert_eq!(
            ChannelRef::new(Some("4"), "lvu:0").closed(),
            r#"["4","4","lvu:0","phx_close",{}]"#
        );
    }
}
