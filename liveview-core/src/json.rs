//! Small JSON writing helpers shared by the frame encoders.

pub(crate) use liveview_diff::wire::write_json_str;

/// Writes a JSON string or `null`.
pub(crate) fn write_opt_str(value: Option<&str>, out: &mut Vec<u8>) {
    match value {
        Some(value) => write_json_str(value, out),
        None => out.extend_from_slice(b"null"),
    }
}

/// Writes a serializable value as JSON (falls back to `null` if it cannot be serialized).
pub(crate) fn write_value<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    let mark = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(mark);
        out.extend_from_slice(b"null");
    }
}

/// Appends a pushed event `[name, payload]` to a comma-separated list of them (the `"e"`
/// member of a turn), for views and components alike.
pub(crate) fn push_event<T: serde::Serialize + ?Sized>(
    events: &mut Vec<u8>,
    name: &str,
    payload: &T,
) {
    if !events.is_empty() {
        events.push(b',');
    }
    events.push(b'[');
    write_json_str(name, events);
    events.push(b',');
    write_value(payload, events);
    events.push(b']');
}
