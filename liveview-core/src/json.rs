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
