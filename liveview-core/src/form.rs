//! Decoding of URL-encoded form data (`user[name]=x&tags[]=a`) into nested JSON objects.
//!
//! Client input is decoded iteratively and its nesting is capped ([`MAX_FORM_DEPTH`]), so no
//! query string or form body can exhaust the stack (a recursive decoder, or the recursive drop
//! of a deeply nested `Value`, would overflow it and take the whole process down).

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// The deepest key a form or query string may use: `a[b][c]` has depth 3. Deeper keys make
/// the whole input invalid ([`FormError::TooDeep`]): a page request answers `400`, a form
/// event is refused. Rack (Ruby) uses the same limit for the same reason.
pub const MAX_FORM_DEPTH: usize = 32;

/// Why a form body or query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// A key nests deeper than [`MAX_FORM_DEPTH`].
    #[error("a form key nests {depth} levels deep (at most {max} are allowed)", max = MAX_FORM_DEPTH)]
    TooDeep {
        /// How deep the key nests (counted up to one past the limit).
        depth: usize,
    },
}

/// Decodes a URL-encoded form body, as the client sends for `phx-change`/`phx-submit` events,
/// into a JSON object. Bracketed keys nest (`user[name]=ali` → `{"user":{"name":"ali"}}`), and
/// `[]` appends to a list (`tags[]=a&tags[]=b` → `{"tags":["a","b"]}`). Later values win.
///
/// ```
/// let value = liveview_core::decode_form("user%5Bname%5D=ali+b&tags[]=a&tags[]=b&q=").unwrap();
/// assert_eq!(value, serde_json::json!({"user": {"name": "ali b"}, "tags": ["a", "b"], "q": ""}));
/// ```
///
/// # Errors
///
/// [`FormError::TooDeep`] when a key nests deeper than [`MAX_FORM_DEPTH`]:
///
/// ```
/// let key = format!("a{}", "[b]".repeat(40));
/// assert!(liveview_core::decode_form(&format!("{key}=1")).is_err());
/// ```
pub fn decode_form(body: &str) -> Result<Value, FormError> {
    let mut root = Map::new();
    for pair in body.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode_component(key);
        let path = try_key_path(&key)?;
        if path.is_empty() {
            continue;
        }
        insert(&mut root, &path, Value::String(decode_component(value)));
    }
    Ok(Value::Object(root))
}

/// Splits `user[address][city]` into `["user", "address", "city"]`; `tags[]` ends in `""`.
///
/// A key deeper than [`MAX_FORM_DEPTH`] is cut there (the rest stays in the last segment); use
/// [`decode_form`] to refuse such input instead.
pub fn key_path(key: &str) -> Vec<String> {
    let (head, mut rest) = match key.find('[') {
        Some(index) if key.ends_with(']') => (&key[..index], &key[index..]),
        _ => return vec![key.to_owned()],
    };
    let mut path = vec![head.to_owned()];
    while let Some(stripped) = rest.strip_prefix('[') {
        if path.len() == MAX_FORM_DEPTH {
            let last = path.last_mut().expect("the path has its head");
            last.push_str(rest);
            break;
        }
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

/// [`key_path`], refusing keys deeper than [`MAX_FORM_DEPTH`].
fn try_key_path(key: &str) -> Result<Vec<String>, FormError> {
    // Counting brackets first keeps a hostile key from allocating its segments at all.
    let depth = 1 + key.bytes().filter(|&byte| byte == b'[').count();
    if depth > MAX_FORM_DEPTH && key.ends_with(']') {
        return Err(FormError::TooDeep {
            depth: MAX_FORM_DEPTH + 1,
        });
    }
    Ok(key_path(key))
}

fn decode_component(text: &str) -> String {
    let text = text.replace('+', " ");
    percent_decode_str(&text).decode_utf8_lossy().into_owned()
}

/// Puts `value` at `path` (not empty), creating objects on the way; iterative, so the depth of
/// a path costs no stack.
fn insert(root: &mut Map<String, Value>, path: &[String], value: Value) {
    let (last, parents) = path.split_last().expect("path is not empty");
    let mut map = root;
    for (index, key) in parents.iter().enumerate() {
        if path[index + 1].is_empty() {
            // `key[]`: a list of values (deeper nesting under `[]` is flattened to the value).
            let entry = map
                .entry(key.clone())
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
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        map = match entry {
            Value::Object(inner) => inner,
            _ => unreachable!("the entry was just made an object"),
        };
    }
    map.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_and_unused_markers() {
        let value =
            decode_form("user%5Bname%5D=ali&user%5B_unused_email%5D=&user%5Bemail%5D=").unwrap();
        assert_eq!(
            value,
            json!({"user": {"name": "ali", "_unused_email": "", "email": ""}})
        );
    }

    #[test]
    fn lists_and_nesting_under_lists() {
        let value = decode_form("tags[]=a&tags[]=b&a[][b]=1&x[y][z]=2").unwrap();
        assert_eq!(
            value,
            json!({"tags": ["a", "b"], "a": ["1"], "x": {"y": {"z": "2"}}})
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
    fn keys_at_the_limit_decode_and_deeper_ones_are_refused() {
        let at_limit = format!("a{}=1", "[b]".repeat(MAX_FORM_DEPTH - 1));
        let mut value = &decode_form(&at_limit).unwrap();
        let mut depth = 0;
        while let Value::Object(map) = value {
            value = map.values().next().unwrap();
            depth += 1;
        }
        assert_eq!((depth, value), (MAX_FORM_DEPTH, &json!("1")));
        let too_deep = format!("a{}=1", "[b]".repeat(MAX_FORM_DEPTH));
        assert_eq!(
            decode_form(&too_deep),
            Err(FormError::TooDeep {
                depth: MAX_FORM_DEPTH + 1
            })
        );
        assert_eq!(
            key_path(&too_deep[..too_deep.len() - 2]).len(),
            MAX_FORM_DEPTH
        );
    }

    #[test]
    fn ten_thousand_nested_keys_are_refused_without_recursion() {
        // Ran on a small thread stack: a recursive decoder would overflow it.
        let body = format!("a{}=1", "[b]".repeat(10_000));
        let result = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || decode_form(&body).is_err() && key_path(&body).len() <= MAX_FORM_DEPTH)
            .unwrap()
            .join()
            .unwrap();
        assert!(result);
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
