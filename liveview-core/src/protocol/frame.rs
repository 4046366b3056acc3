//! Decoding client frames (the V2 serializer: JSON text frames and binary upload pushes).

use bytes::Bytes;
use serde_json::value::RawValue;

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
}
