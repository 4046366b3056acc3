//! The Phoenix channel protocol, V2 serializer: decoding client frames, encoding replies and pushes.

use bytes::Bytes;
use serde_json::value::RawValue;

use crate::json::{write_json_str, write_opt_str};

/// The LiveView client version we speak; sent in join replies.
pub const LIVEVIEW_VERSION: &str = "1.2.12";

/// One decoded client frame.
#[derive(Debug)]
pub struct Frame {
    /// The join ref of the channel instance (null on the `phoenix` topic).
    pub join_ref: Option<String>,
    /// The message ref, echoed by the reply.
    pub msg_ref: Option<String>,
    /// The topic, e.g. `lv:phx-…`, `phoenix` or `lvu:0`.
    pub topic: String,
    /// The event, e.g. `phx_join`, `event`, `heartbeat`.
    pub event: String,
    /// The payload.
    pub payload: Payload,
}

/// A frame's payload.
#[derive(Debug)]
pub enum Payload {
    /// A JSON object (text frames).
    Json(Box<RawValue>),
    /// Raw bytes (binary frames: upload chunks).
    Binary(Bytes),
}

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The text frame is not a JSON array of five elements of the right types.
    #[error("malformed text frame: {0}")]
    Malformed(String),
    /// The payload is not a JSON object.
    #[error("frame payload is not a JSON object")]
    PayloadNotObject,
    /// The binary frame is truncated or has an unknown kind.
    #[error("malformed binary frame")]
    MalformedBinary,
}

impl Frame {
    /// Decodes a text frame `[join_ref, ref, topic, event, payload]`.
    pub fn decode_text(text: &str) -> Result<Frame, FrameError> {
        let (join_ref, msg_ref, topic, event, payload): (
            Option<String>,
            Option<String>,
            String,
            String,
            Box<RawValue>,
        ) = serde_json::from_str(text).map_err(|err| FrameError::Malformed(err.to_string()))?;
        if !payload.get().starts_with('{') {
            return Err(FrameError::PayloadNotObject);
        }
        Ok(Frame {
            join_ref,
            msg_ref,
            topic,
            event,
            payload: Payload::Json(payload),
        })
    }

    /// Decodes a binary client push (kind 0): a 5-byte header with the lengths of join ref, ref,
    /// topic and event, then those strings, then the payload bytes.
    pub fn decode_binary(bytes: Bytes) -> Result<Frame, FrameError> {
        if bytes.len() < 5 || bytes[0] != 0 {
            return Err(FrameError::MalformedBinary);
        }
        let lens = [
            bytes[1] as usize,
            bytes[2] as usize,
            bytes[3] as usize,
            bytes[4] as usize,
        ];
        let mut offset = 5;
        let mut fields: [String; 4] = Default::default();
        for (field, len) in fields.iter_mut().zip(lens) {
            let end = offset + len;
            let slice = bytes.get(offset..end).ok_or(FrameError::MalformedBinary)?;
            *field = std::str::from_utf8(slice)
                .map_err(|_| FrameError::MalformedBinary)?
                .to_owned();
            offset = end;
        }
        let [join_ref, msg_ref, topic, event] = fields;
        Ok(Frame {
            join_ref: Some(join_ref).filter(|s| !s.is_empty()),
            msg_ref: Some(msg_ref).filter(|s| !s.is_empty()),
            topic,
            event,
            payload: Payload::Binary(bytes.slice(offset..)),
        })
    }
}

/// Writes `[join_ref, ref, topic, event, ` (every frame's start).
fn write_head(
    out: &mut Vec<u8>,
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    event: &str,
) {
    out.push(b'[');
    write_opt_str(join_ref, out);
    out.push(b',');
    write_opt_str(msg_ref, out);
    out.push(b',');
    write_json_str(topic, out);
    out.push(b',');
    write_json_str(event, out);
    out.push(b',');
}

/// Encodes a reply frame: `[join_ref, ref, topic, "phx_reply", {"status": …, "response": …}]`.
/// `response` writes the response object.
pub fn encode_reply(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    ok: bool,
    response: impl FnOnce(&mut Vec<u8>),
) -> String {
    let mut out = Vec::with_capacity(96);
    write_head(&mut out, join_ref, msg_ref, topic, "phx_reply");
    out.extend_from_slice(if ok {
        b"{\"status\":\"ok\",\"response\":"
    } else {
        b"{\"status\":\"error\",\"response\":"
    });
    response(&mut out);
    out.extend_from_slice(b"}]");
    into_string(out)
}

/// Encodes a server push: `[join_ref, null, topic, event, payload]`.
pub fn encode_push(
    join_ref: Option<&str>,
    topic: &str,
    event: &str,
    payload: impl FnOnce(&mut Vec<u8>),
) -> String {
    let mut out = Vec::with_capacity(64);
    write_head(&mut out, join_ref, None, topic, event);
    payload(&mut out);
    out.push(b']');
    into_string(out)
}

/// An error reply whose response is `{"reason": reason}`.
pub fn encode_error_reply(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    reason: &str,
) -> String {
    encode_reply(join_ref, msg_ref, topic, false, |out| {
        out.extend_from_slice(b"{\"reason\":");
        write_json_str(reason, out);
        out.push(b'}');
    })
}

/// The `phx_error` push that ends a crashed channel:
/// `[join_ref, join_ref, topic, "phx_error", {"reason": "channel_crash"}]` (its ref is the join
/// ref, as Phoenix sends it).
pub fn encode_phx_error(join_ref: &str, topic: &str) -> String {
    let mut out = Vec::with_capacity(96);
    write_head(&mut out, Some(join_ref), Some(join_ref), topic, "phx_error");
    out.extend_from_slice(b"{\"reason\":\"channel_crash\"}]");
    into_string(out)
}

/// An ok reply with an empty response.
pub fn encode_empty_reply(join_ref: Option<&str>, msg_ref: Option<&str>, topic: &str) -> String {
    encode_reply(join_ref, msg_ref, topic, true, |out| {
        out.extend_from_slice(b"{}")
    })
}

fn into_string(bytes: Vec<u8>) -> String {
    // Every writer above only appends UTF-8 (JSON produced from `&str`s and ASCII).
    String::from_utf8(bytes).expect("frame encoders write UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_join() {
        let frame =
            Frame::decode_text(r#"["4","4","lv:phx-1","phx_join",{"url":"http://x/"}]"#).unwrap();
        assert_eq!(frame.join_ref.as_deref(), Some("4"));
        assert_eq!(frame.topic, "lv:phx-1");
        assert_eq!(frame.event, "phx_join");
    }

    #[test]
    fn heartbeat_has_null_join_ref() {
        let frame = Frame::decode_text(r#"[null,"9","phoenix","heartbeat",{}]"#).unwrap();
        assert_eq!(frame.join_ref, None);
        assert_eq!(frame.msg_ref.as_deref(), Some("9"));
    }

    #[test]
    fn rejects_wrong_arity_and_non_object_payloads() {
        assert!(Frame::decode_text(r#"["4","4","t","e"]"#).is_err());
        assert!(Frame::decode_text(r#"["4","4","t","e",{},1]"#).is_err());
        assert_eq!(
            Frame::decode_text(r#"["4","4","t","e",[]]"#).unwrap_err(),
            FrameError::PayloadNotObject
        );
        assert!(Frame::decode_text("not json").is_err());
    }

    #[test]
    fn decodes_binary_chunks() {
        let mut bytes = vec![0, 2, 2, 5, 5];
        bytes.extend_from_slice(b"2324lvu:0chunkDATA");
        let frame = Frame::decode_binary(Bytes::from(bytes)).unwrap();
        assert_eq!(frame.join_ref.as_deref(), Some("23"));
        assert_eq!(frame.msg_ref.as_deref(), Some("24"));
        assert_eq!(frame.topic, "lvu:0");
        assert_eq!(frame.event, "chunk");
        assert!(matches!(frame.payload, Payload::Binary(ref b) if &b[..] == b"DATA"));
        assert!(Frame::decode_binary(Bytes::from_static(&[0, 9, 0, 0, 0, 1])).is_err());
        assert!(Frame::decode_binary(Bytes::from_static(&[1, 0, 0, 0, 0])).is_err());
    }

    #[test]
    fn phx_error_carries_the_join_ref_whatever_it_contains() {
        assert_eq!(
            encode_phx_error("4", "lv:x"),
            r#"["4","4","lv:x","phx_error",{"reason":"channel_crash"}]"#
        );
        assert_eq!(
            encode_phx_error("1,null,2", "lv:x"),
            r#"["1,null,2","1,null,2","lv:x","phx_error",{"reason":"channel_crash"}]"#
        );
    }

    #[test]
    fn encodes_replies() {
        assert_eq!(
            encode_empty_reply(None, Some("9"), "phoenix"),
            r#"[null,"9","phoenix","phx_reply",{"status":"ok","response":{}}]"#
        );
        assert_eq!(
            encode_error_reply(Some("4"), Some("4"), "lv:x", "stale"),
            r#"["4","4","lv:x","phx_reply",{"status":"error","response":{"reason":"stale"}}]"#
        );
    }
}
