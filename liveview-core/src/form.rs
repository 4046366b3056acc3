//! Decoding of URL-encoded form data (`user[name]=x&tags[]=a`) into nested JSON objects.

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// Decodes a URL-encoded form body, as the client sends for `phx-change`/`phx-submit` events,
/// into a JSON object. Bracketed keys nest (`user[name]=ali` → `{"user":{"name":"ali"}}`), and
/// `[]` appends to a list (`tags[]=a&tags[]=b` → `{"tags":["a","b"]}`). Later values win.
///
/// ```
/// let value = liveview_core::decode_form("user%5Bname%5D=ali+b&tags[]=a&tags[]=b&q=");
/// assert_eq!(value, serde_json::json!({"user": {"name": "ali b"}, "tags": ["a", "b"], "q": ""}));
/// ```
pub fn decode_form(body: &str) -> Value {
    let mut root = Map::new();
    for pair in body.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode_component(key);
        let value = decode_component(value);
        let path = key_path(&key);
        if path.is_empty() {
            continue;
        }
        insert(&mut root, &path, Value::String(value));
    }
    Value::Object(root)
}

/// Splits `user[address][city]` into `["user", "address", "city"]`; `tags[]` ends in `""`.
pub fn key_path(key: &str) -> Vec<String> {
    let (head, mut rest) = match key.find('[') {
        Some(index) if key.ends_with(']') => (&key[..index], &key[index..]),
        _ => return vec![key.to_owned()],
    };
    let mut path = vec![head.to_owned()];
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(end) => {
                path.push(stripped[..end].to_owned());
                rest = &stripped[end + 1..];
            }
            None => break,
        }
    }
    path
}

fn decode_component(text: &str) -> String {
    let text = text.replace('+', " ");
    percent_decode_str(&text).decode_utf8_lossy().into_owned()
}

fn insert(map: &mut Map<String, Value>, path: &[String], value: Value) {
    let (first, rest) = path.split_first().expect("path is not empty");
    if rest.is_empty() {
        map.insert(first.clone(), value);
        return;
    }
    if rest[0].is_empty() {
        // `key[]`: a list of values (deeper nesting under `[]` is flattened to the value).
        let entry = map
            .entry(first.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !entry.is_array() {
            *entry = Value::Array(Vec::new());
        }
        if let Value::Array(list) = entry {
            list.push(value);
        }
        return;
    }
    let entry = map
        .entry(first.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(inner) = entry {
        insert(inner, rest, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_and_unused_markers() {
        let value = decode_form("user%5Bname%5D=ali&user%5B_unused_email%5D=&user%5Bemail%5D=");
        assert_eq!(
            value,
            json!({"user": {"name": "ali", "_unused_email": "", "email": ""}})
        );
    }

    #[test]
    fn key_paths() {
        assert_eq!(key_path("user[name]"), vec!["user", "name"]);
        assert_eq!(key_path("q"), vec!["q"]);
        assert_eq!(key_path("a[b][c]"), vec!["a", "b", "c"]);
        assert_eq!(key_path("weird[x"), vec!["weird[x"]);
    }

    #[test]
    fn malformed_input_does_not_panic() {
        for body in [
            "%",
            "%zz=1",
            "=",
            "&&",
            "a[=1",
            "[]=1",
            "a[][b]=1&a=2",
            "%ff%fe=%80",
        ] {
            let _ = decode_form(body);
        }
    }
}
