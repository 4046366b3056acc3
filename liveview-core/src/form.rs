//! Forms: decoding of URL-encoded form data (`user[name]=x&tags[]=a`) into nested JSON objects
//! and typed structs, changesets ([`Form`]), validation and the input helpers.
//!
//! Client input is decoded iteratively and its nesting is capped ([`MAX_FORM_DEPTH`]), so no
//! query string or form body can exhaust the stack (a recursive decoder, or the recursive drop
//! of a deeply nested `Value`, would overflow it and take the whole process down).
//!
//! A whole form, as Phoenix's `<.form for={@form}>` with core components: the view keeps a
//! [`Form`] in its state, rebuilds it from each `phx-change` ([`Form::change`]) and
//! `phx-submit` ([`Form::submit`]), and renders it with the helpers, or by hand: a
//! [`Field`] gives the name, id and value, and `html!` omits `None`/`false` attributes, so no
//! `Raw` is needed.
//!
//! ```
//! use liveview_core::form::{self, Errors, Form, Validate};
//! use liveview_core::{html, ClientEvent};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Profile { nickname: String, newsletter: bool }
//!
//! impl Validate for Profile {
//!     fn validate(&self, errors: &mut Errors) {
//!         if self.nickname.len() < 3 { errors.add("nickname", "at least 3 letters"); }
//!     }
//! }
//!
//! let event = ClientEvent::form("validate", "profile%5Bnickname%5D=al&profile%5Bnewsletter%5D=false").unwrap();
//! let profile: Form<Profile> = Form::change("profile", &form::FormParams(event.value));
//! let (nickname, newsletter) = (profile.field("nickname"), profile.field("newsletter"));
//! let hint: Option<&str> = nickname.errors().first().copied();
//! let page = html! {
//!     form #profile phx-change="validate" phx-submit="save" {
//!         label for=(nickname.id()) { "Nickname" }
//!         input type="text" name=(nickname.name()) id=(nickname.id()) value=(nickname.value())
//!             aria-invalid=(hint.is_some().then_some("true")) title=(hint) required=(true);
//!         (form::checkbox(&newsletter, &[]))
//!         (form::submit_button("Save", "Saving...", &[]))
//!     }
//! };
//! assert!(page.to_html().contains(
//!     r#"<input type="text" name="profile[nickname]" id="profile_nickname" value="al" aria-invalid="true" title="at least 3 letters" required>"#
//! ));
//! ```

mod changeset;
mod fields;
mod inputs;
mod nested;

pub use changeset::{garde_errors, Errors, Form, FormParams, Validate};
pub use fields::{Field, Fields};
pub use inputs::{
    add_row_button, checkbox, drop_row_button, email_input, error_tag, form_tag, hidden_input,
    label, multi_select, number_input, password_input, radio, select, sort_input, submit_button,
    tel_input, text_input, textarea, Attrs,
};
pub use nested::apply_sort_drop;

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
    /// A value does not decode into the requested type ([`decode_form_as`]).
    #[error("invalid value{}: {message}", for_field(field))]
    Invalid {
        /// The path of the field, as serde names it (`user.address.city`, `items[0].name`);
        /// empty when the input as a whole does not fit the type.
        field: String,
        /// Why, in serde's words (`invalid digit found in string`, `missing field `name``).
        message: String,
    },
}

/// Decodes a URL-encoded form body or query string into `T` with [`serde_qs`], the way the
/// Phoenix client encodes forms: numbers and booleans parse from their text, `Option` fields
/// are `None` when absent, `tags[]=a&tags[]=b` fills a `Vec`, `user[address][city]` a nested
/// struct, `items[0][name]` a `Vec` of structs, and a repeated key takes its last value for a
/// single field (so the hidden `false` input before a checkbox works). Unknown keys (the
/// client's `_unused_` markers among them) are ignored unless `T` denies them.
///
/// This is `Plug.Conn.Query.decode` followed by a typed cast. Keys deeper than
/// [`MAX_FORM_DEPTH`] are refused before anything is decoded.
///
/// ```
/// use serde::Deserialize;
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Address { city: String }
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct User { age: u32, admin: bool, tags: Vec<String>, address: Address, nick: Option<String> }
///
/// let body = "age=42&admin=false&admin=true&tags%5B%5D=a&tags%5B%5D=b&address%5Bcity%5D=Oslo";
/// let user: User = liveview_core::decode_form_as(body).unwrap();
/// assert_eq!(user, User {
///     age: 42, admin: true, tags: vec!["a".into(), "b".into()],
///     address: Address { city: "Oslo".into() }, nick: None,
/// });
///
/// let error = liveview_core::decode_form_as::<User>("age=old").unwrap_err();
/// assert!(error.to_string().starts_with("invalid value for `age`"), "{error}");
/// ```
///
/// # Errors
///
/// [`FormError::TooDeep`] for a key past [`MAX_FORM_DEPTH`], [`FormError::Invalid`] naming
/// the field that does not decode.
pub fn decode_form_as<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, FormError> {
    check_depth(body)?;
    let deserializer =
        serde_qs::Deserializer::with_config(qs_config(), body.as_bytes()).map_err(|error| {
            FormError::Invalid {
                field: String::new(),
                message: error.to_string(),
            }
        })?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| FormError::Invalid {
        field: field_path(error.path()),
        message: error.inner().to_string(),
    })
}

/// A `deserialize_with` helper for `Option` fields of forms: an empty input (`age=`) is `None`
/// rather than a parse error, as Ecto's `empty_values`; any other text parses with
/// [`FromStr`](std::str::FromStr). Use it with `#[serde(default)]`, so a missing key is `None` too.
///
/// ```
/// use serde::Deserialize;
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Filter {
///     #[serde(default, deserialize_with = "liveview_core::form::blank_as_none")]
///     max_price: Option<u32>,
/// }
///
/// let empty: Filter = liveview_core::decode_form_as("max_price=").unwrap();
/// assert_eq!(empty.max_price, None);
/// let set: Filter = liveview_core::decode_form_as("max_price=30").unwrap();
/// assert_eq!(set.max_price, Some(30));
/// assert!(liveview_core::decode_form_as::<Filter>("max_price=cheap").is_err());
/// ```
///
/// # Errors
///
/// The input's error when the text does not parse as `T`.
pub fn blank_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text: Option<String> = serde::Deserialize::deserialize(deserializer)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// The [`serde_qs`] settings for client input: nesting up to [`MAX_FORM_DEPTH`], form
/// encoding (the client percent-encodes brackets: `user%5Bname%5D`).
pub(crate) fn qs_config() -> serde_qs::Config {
    serde_qs::Config::new()
        .max_depth(MAX_FORM_DEPTH)
        .use_form_encoding(true)
}

/// Refuses a body with a key deeper than [`MAX_FORM_DEPTH`] without decoding anything.
pub(crate) fn check_depth(body: &str) -> Result<(), FormError> {
    for pair in body.split('&') {
        let key = pair.split_once('=').map_or(pair, |(key, _)| key);
        let key = decode_component(key);
        try_key_path(&key)?;
    }
    Ok(())
}

/// ` for `field`` (nothing for the value as a whole), in error messages.
pub(crate) fn for_field(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!(" for `{field}`")
    }
}

/// Appends `key=value`, form-encoded as `URLSearchParams` does, to a body.
pub(crate) fn append_pair(body: &mut String, key: &str, value: &str) {
    if !body.is_empty() {
        body.push('&');
    }
    body.extend(percent_encoding::utf8_percent_encode(key, FORM_ENCODE));
    body.push('=');
    body.extend(percent_encoding::utf8_percent_encode(value, FORM_ENCODE));
}

/// What `URLSearchParams` leaves unescaped: alphanumerics and `*-._`.
const FORM_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// A serde path as users read it: `user.age`, `items[0].name` (`?` segments dropped).
pub(crate) fn field_path(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." {
        String::new()
    } else {
        text
    }
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

#[cfg(test)]
mod typed_tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Item {
        name: String,
        qty: u32,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Order {
        count: u32,
        price: f64,
        gift: bool,
        note: Option<String>,
        #[serde(default, deserialize_with = "blank_as_none")]
        age: Option<u32>,
        #[serde(default)]
        roles: Vec<String>,
        items: Vec<Item>,
    }

    #[test]
    fn numbers_checkboxes_options_lists_and_rows() {
        // As URLSearchParams encodes: brackets escaped, spaces as `+`.
        let body = "_unused_count=&count=3&price=2.5&gift=false&gift=true&note=&age=\
                    &roles%5B%5D=a&roles%5B%5D=b&items%5B0%5D%5Bname%5D=x+y&items%5B0%5D%5Bqty%5D=1\
                    &items%5B1%5D%5B_unused_name%5D=&items%5B1%5D%5Bname%5D=&items%5B1%5D%5Bqty%5D=2";
        let order: Order = decode_form_as(body).unwrap();
        assert_eq!(
            order,
            Order {
                count: 3,
                price: 2.5,
                gift: true,
                note: Some(String::new()),
                age: None,
                roles: vec!["a".into(), "b".into()],
                items: vec![
                    Item {
                        name: "x y".into(),
                        qty: 1
                    },
                    Item {
                        name: String::new(),
                        qty: 2
                    }
                ],
            }
        );
        // Unbracketed keys decode the same, and absent lists and options are empty.
        let order: Order =
            decode_form_as("count=3&price=1&gift=false&age=4&items[0][name]=a&items[0][qty]=2")
                .unwrap();
        assert_eq!(
            (order.age, order.note, order.roles.len()),
            (Some(4), None, 0)
        );
    }

    #[test]
    fn errors_name_the_field() {
        let error = decode_form_as::<Order>(
            "count=3&price=1&gift=false&items%5B0%5D%5Bname%5D=a&items%5B0%5D%5Bqty%5D=many",
        )
        .unwrap_err();
        assert!(
            matches!(&error, FormError::Invalid { field, .. } if field == "items[0].qty"),
            "{error}"
        );
        let error = decode_form_as::<Order>("count=3&price=1&gift=maybe").unwrap_err();
        assert!(
            error.to_string().starts_with("invalid value for `gift`"),
            "{error}"
        );
    }

    #[test]
    fn deep_keys_are_refused_before_decoding_even_on_a_small_stack() {
        let body = format!("a{}=1", "%5Bb%5D".repeat(10_000));
        let refused = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                matches!(
                    decode_form_as::<serde_json::Value>(&body),
                    Err(FormError::TooDeep { .. })
                )
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(refused);
        let params = crate::Params::from_query(&format!("q{}=1", "[x]".repeat(40)));
        // A query with a deep key gives no params at all (the join is refused before this).
        assert_eq!(params, crate::Params::default());
    }
}
