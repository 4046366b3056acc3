//! Changesets: a form's raw params, its typed data, per-field errors and which inputs the user
//! has used (Phoenix's `to_form`, `used_input?`, Ecto's changeset errors).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::nested::apply_sort_drop;

/// The raw params of a form event (`phx-change`/`phx-submit`): the decoded body as nested
/// strings, with the client's `_unused_` markers and `_target`. Use it as the content of an
/// event variant and hand it to [`Form::change`] or [`Form::submit`].
///
/// ```
/// use liveview_core::{form::FormParams, ClientEvent};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// #[serde(rename_all = "snake_case")]
/// enum Event { Validate(FormParams) }
///
/// let event = ClientEvent::form("validate", "user%5Bname%5D=Ada&user%5B_unused_email%5D=&user%5Bemail%5D=").unwrap();
/// let Event::Validate(params) = event.decode::<Event>().unwrap();
/// assert_eq!(params.get("user").unwrap()["name"], "Ada");
/// ```
///
/// As the content of a variant (`Validate(FormParams)`), it is exactly the event's decoded
/// value ([`ClientEvent::value`](crate::ClientEvent::value)).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormParams(pub Value);

impl<'de> Deserialize<'de> for FormParams {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ParamsVisitor;
        impl<'de> serde::de::Visitor<'de> for ParamsVisitor {
            type Value = FormParams;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("form params")
            }
            fn visit_newtype_struct<D: serde::Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<FormParams, D::Error> {
                Value::deserialize(deserializer).map(FormParams)
            }
        }
        deserializer.deserialize_newtype_struct(crate::event::FORM_PARAMS, ParamsVisitor)
    }
}

impl FormParams {
    /// The params under a top-level key (the form's name).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The path of the input that changed (`_target`), if the client sent one.
    pub fn target(&self) -> Option<Vec<&str>> {
        let list = self.0.get("_target")?.as_array()?;
        Some(list.iter().filter_map(Value::as_str).collect())
    }
}

/// Per-field error messages, keyed by the field's dotted path (`name`, `address.city`,
/// `items.0.name`).
///
/// ```
/// let mut errors = liveview_core::form::Errors::default();
/// errors.add("phone", "must have 10 digits");
/// assert_eq!(errors.get("phone"), ["must have 10 digits"]);
/// assert!(errors.get("name").is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors(BTreeMap<String, Vec<String>>);

impl Errors {
    /// Adds a message for a field. Bracketed paths (`items[0].name`) are stored dotted.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(dotted(field))
            .or_default()
            .push(message.into());
    }

    /// A field's messages (empty when it has none).
    pub fn get(&self, field: &str) -> &[String] {
        self.0.get(field).map_or(&[], Vec::as_slice)
    }

    /// The messages of `field` and of its list items (`tags.0`).
    fn shown_for(&self, field: &str) -> Vec<&str> {
        let items = format!("{field}.");
        self.0
            .iter()
            .filter(|(key, _)| {
                key.as_str() == field
                    || key
                        .strip_prefix(&items)
                        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
            })
            .flat_map(|(_, messages)| messages.iter().map(String::as_str))
            .collect()
    }

    /// Whether there is no error at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every field with its messages, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

/// Validation of a form's typed data (Ecto's `validate_*` in a changeset function): add a
/// message per invalid field. For [garde](https://docs.rs/garde)'s derive, implement it with
/// [`garde_errors`].
///
/// ```
/// use liveview_core::form::{Errors, Validate};
///
/// struct Signup { phone: String }
///
/// impl Validate for Signup {
///     fn validate(&self, errors: &mut Errors) {
///         if self.phone.chars().filter(char::is_ascii_digit).count() != 10 {
///             errors.add("phone", "must have 10 digits");
///         }
///     }
/// }
/// ```
pub trait Validate {
    /// Adds the errors of `self` to `errors`.
    fn validate(&self, errors: &mut Errors);
}

/// Untyped forms (the params as JSON) have no rules.
impl Validate for Value {
    fn validate(&self, _errors: &mut Errors) {}
}

/// The adapter from garde: runs `value`'s garde rules and adds each error at its path.
///
/// garde was chosen over `validator`: its report is a flat list of (path, message) pairs
/// (`items[0].name`), which maps one to one onto form fields, nested and list fields included;
/// it needs no regex or URL crates unless their rules are enabled; and it validates `Option`
/// and nested structs with `dive` rather than separate derive attributes.
///
/// ```
/// use liveview_core::form::{garde_errors, Errors, Validate};
///
/// #[derive(garde::Validate)]
/// struct Signup {
///     #[garde(length(min = 2))]
///     name: String,
/// }
///
/// impl Validate for Signup {
///     fn validate(&self, errors: &mut Errors) {
///         garde_errors(self, errors);
///     }
/// }
///
/// let mut errors = Errors::default();
/// Validate::validate(&Signup { name: "A".into() }, &mut errors);
/// assert_eq!(errors.get("name").len(), 1);
/// ```
pub fn garde_errors<T>(value: &T, errors: &mut Errors)
where
    T: garde::Validate + ?Sized,
    T::Context: Default,
{
    if let Err(report) = value.validate() {
        for (path, error) in report.iter() {
            errors.add(&path.to_string(), error.message().to_string());
        }
    }
}

/// A form: its raw params (what the inputs show), the typed data when the params decode,
/// per-field errors, and which inputs have been used (Phoenix's `to_form` on a changeset).
///
/// Errors of a field are shown ([`Field::errors`]) once the user has used it (the client's
/// `_unused_` markers, Phoenix's `used_input?`) or the form was submitted; then all are shown.
///
/// ```
/// use liveview_core::form::{Errors, Form, Validate};
/// use liveview_core::ClientEvent;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, Debug)]
/// struct Signup { name: String, age: u32 }
///
/// impl Validate for Signup {
///     fn validate(&self, errors: &mut Errors) {
///         if self.name.is_empty() { errors.add("name", "can't be blank"); }
///         if self.age < 18 { errors.add("age", "must be 18 or more"); }
///     }
/// }
///
/// // The user typed in "age" only: "name" is unused, its error hidden.
/// let event = ClientEvent::form("validate", "signup%5B_unused_name%5D=&signup%5Bname%5D=&signup%5Bage%5D=12").unwrap();
/// let form: Form<Signup> = Form::change("signup", &liveview_core::form::FormParams(event.value));
/// assert_eq!(form.field("age").errors(), ["must be 18 or more"]);
/// assert!(form.field("name").errors().is_empty());
/// assert_eq!(form.field("age").name(), "signup[age]");
/// assert_eq!(form.field("age").id(), "signup_age");
/// assert_eq!(form.field("age").value(), "12");
///
/// // Submitted: every error shows.
/// let event = ClientEvent::form("save", "signup%5Bname%5D=&signup%5Bage%5D=12").unwrap();
/// let form: Form<Signup> = Form::submit("signup", &liveview_core::form::FormParams(event.value));
/// assert_eq!(form.field("name").errors(), ["can't be blank"]);
/// assert!(form.into_valid().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Form<T> {
    name: String,
    params: Map<String, Value>,
    data: Option<T>,
    errors: Errors,
    submitted: bool,
}

impl<T> Form<T> {
    /// An empty form: no params, no data, no errors (a `new` page).
    pub fn empty(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            params: Map::new(),
            data: None,
            errors: Errors::default(),
            submitted: false,
        }
    }

    /// The form's name: the params key (`user` for `user[name]`) and the id prefix.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw params under the form's name.
    pub fn params(&self) -> &Map<String, Value> {
        &self.params
    }

    /// The typed data, when the params decoded (it may still have validation errors).
    pub fn data(&self) -> Option<&T> {
        self.data.as_ref()
    }

    /// Every error, shown or not.
    pub fn errors(&self) -> &Errors {
        &self.errors
    }

    /// Whether the form was submitted (all errors are shown).
    pub fn submitted(&self) -> bool {
        self.submitted
    }

    /// Whether the params decoded and validated without error.
    pub fn is_valid(&self) -> bool {
        self.data.is_some() && self.errors.is_empty()
    }

    /// The valid data, or the form with its errors.
    ///
    /// # Errors
    ///
    /// The form itself when it is not valid, to render it again with its errors.
    pub fn into_valid(self) -> Result<T, Self> {
        if self.is_valid() {
            Ok(self.data.expect("a valid form has data"))
        } else {
            Err(self)
        }
    }

    /// The fields at the form's root (what [`Form::field`] and [`Form::inputs_for`] use).
    pub fn fields(&self) -> Fields<'_> {
        Fields {
            name: self.name.clone(),
            id: self.name.clone(),
            path: String::new(),
            params: Some(&self.params),
            errors: &self.errors,
            submitted: self.submitted,
            index: None,
        }
    }

    /// One field (`"name"`, `"address.city"`): its input name, id, value and shown errors.
    pub fn field(&self, path: &str) -> Field<'_> {
        self.fields().field(path)
    }

    /// The rows of a nested list field (Phoenix's `inputs_for`), in order.
    pub fn inputs_for(&self, path: &str) -> Vec<Fields<'_>> {
        self.fields().inputs_for(path)
    }
}

impl<T: DeserializeOwned + Validate> Form<T> {
    /// A form from a `phx-change` event: decoded and validated; errors show for used inputs.
    pub fn change(name: impl Into<String>, params: &FormParams) -> Self {
        Self::cast(name.into(), params, false)
    }

    /// A form from a `phx-submit` event: decoded and validated; every error shows.
    pub fn submit(name: impl Into<String>, params: &FormParams) -> Self {
        Self::cast(name.into(), params, true)
    }

    fn cast(name: String, params: &FormParams, submitted: bool) -> Self {
        let mut map = match params.get(&name) {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        apply_sort_drop(&mut map);
        let mut errors = Errors::default();
        let data = match decode_params::<T>(&map) {
            Ok(data) => {
                data.validate(&mut errors);
                Some(data)
            }
            Err(crate::FormError::Invalid { field, message }) => {
                match missing_field(&message) {
                    Some(missing) if field.is_empty() => errors.add(missing, "can't be blank"),
                    Some(missing) => errors.add(&format!("{field}.{missing}"), "can't be blank"),
                    None => errors.add(&field, "is invalid"),
                }
                None
            }
            Err(other) => {
                errors.add("", other.to_string());
                None
            }
        };
        Self {
            name,
            params: map,
            data,
            errors,
            submitted,
        }
    }
}

impl<T: Serialize> Form<T> {
    /// A form showing existing data (an edit page), with no errors.
    pub fn from_data(name: impl Into<String>, data: T) -> Self {
        let params = match serde_json::to_value(&data) {
            Ok(Value::Object(map)) => map
                .into_iter()
                .filter_map(|(k, v)| stringify(v).map(|v| (k, v)))
                .collect(),
            _ => Map::new(),
        };
        Self {
            name: name.into(),
            params,
            data: Some(data),
            errors: Errors::default(),
            submitted: false,
        }
    }
}

/// A group of fields: the form's root, or one row of [`Form::inputs_for`].
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    name: String,
    id: String,
    path: String,
    params: Option<&'a Map<String, Value>>,
    errors: &'a Errors,
    submitted: bool,
    index: Option<usize>,
}

impl<'a> Fields<'a> {
    /// A field of this group (`"name"`, `"address.city"`).
    pub fn field(&self, path: &str) -> Field<'a> {
        let segments: Vec<&str> = path.split('.').collect();
        let (last, parents) = segments.split_last().expect("split yields one item");
        let mut name = self.name.clone();
        let mut id = self.id.clone();
        let mut map = self.params;
        for segment in parents {
            name.push_str(&format!("[{segment}]"));
            id.push_str(&format!("_{segment}"));
            map = map
                .and_then(|map| map.get(*segment))
                .and_then(Value::as_object);
        }
        name.push_str(&format!("[{last}]"));
        id.push_str(&format!("_{last}"));
        let value = map.and_then(|map| map.get(*last));
        let used =
            value.is_some() && !map.is_some_and(|map| map.contains_key(&format!("_unused_{last}")));
        let full = if self.path.is_empty() {
            path.to_owned()
        } else {
            format!("{}.{path}", self.path)
        };
        let errors = if used || self.submitted {
            self.errors.shown_for(&full)
        } else {
            Vec::new()
        };
        Field {
            name,
            id,
            value,
            errors,
            used,
        }
    }

    /// The rows of a nested list field, each a group of its own (`items[0][name]`).
    pub fn inputs_for(&self, path: &str) -> Vec<Fields<'a>> {
        let field = self.field(path);
        let rows: Vec<(usize, &'a Map<String, Value>)> = match field.value {
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .filter_map(|(i, row)| row.as_object().map(|row| (i, row)))
                .collect(),
            Some(Value::Object(map)) => {
                let mut rows: Vec<(usize, &Map<String, Value>)> = map
                    .iter()
                    .filter_map(|(k, row)| Some((k.parse().ok()?, row.as_object()?)))
                    .collect();
                rows.sort_by_key(|(i, _)| *i);
                rows
            }
            _ => Vec::new(),
        };
        let base = if self.path.is_empty() {
            path.to_owned()
        } else {
            format!("{}.{path}", self.path)
        };
        rows.into_iter()
            .map(|(index, row)| Fields {
                name: format!("{}[{index}]", field.name),
                id: format!("{}_{index}", field.id),
                path: format!("{base}.{index}"),
                params: Some(row),
                errors: self.errors,
                submitted: self.submitted,
                index: Some(index),
            })
            .collect()
    }

    /// The input name of this group (`user`, `user[items][0]`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The row's index, for rows of [`Form::inputs_for`].
    pub fn index(&self) -> Option<usize> {
        self.index
    }
}

/// One field: what its input needs (Phoenix's `%FormField{}`).
#[derive(Debug, Clone)]
pub struct Field<'a> {
    name: String,
    id: String,
    value: Option<&'a Value>,
    errors: Vec<&'a str>,
    used: bool,
}

impl<'a> Field<'a> {
    /// The input's `name` (`user[address][city]`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The input's `id` (`user_address_city`), for `label for=`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The raw value to show (empty when there is none).
    pub fn value(&self) -> &'a str {
        match self.value {
            Some(Value::String(text)) => text,
            Some(Value::Array(list)) => list.last().and_then(Value::as_str).unwrap_or(""),
            _ => "",
        }
    }

    /// Every value of a list field (a multi-select, `tags[]`).
    pub fn values(&self) -> Vec<&'a str> {
        match self.value {
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(text)) => vec![text.as_str()],
            _ => Vec::new(),
        }
    }

    /// The errors to show: the field's errors once it is used or the form submitted (for a
    /// list of values, the errors of its items too).
    pub fn errors(&self) -> &[&'a str] {
        &self.errors
    }

    /// Whether the user has used the input (Phoenix's `used_input?`).
    pub fn used(&self) -> bool {
        self.used
    }
}

/// Decodes a form's params into `T` with the form rules.
fn decode_params<T: DeserializeOwned>(map: &Map<String, Value>) -> Result<T, crate::FormError> {
    // Lists of rows become index maps (`items[0][name]`); lists of values repeat their key,
    // so a repeated single value (the checkbox's hidden `false`) takes its last value.
    let rows = Value::Object(map.clone());
    let body = super::qs_config()
        .array_format(serde_qs::ArrayFormat::Unindexed)
        .serialize_string(&index_rows(rows))
        .map_err(|error| crate::FormError::Invalid {
            field: String::new(),
            message: error.to_string(),
        })?;
    super::decode_form_as(&body)
}

/// Turns lists of objects into maps keyed by index, recursively.
fn index_rows(value: Value) -> Value {
    match value {
        Value::Array(list) if list.iter().any(Value::is_object) => Value::Object(
            list.into_iter()
                .enumerate()
                .map(|(i, row)| (i.to_string(), index_rows(row)))
                .collect(),
        ),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, index_rows(v))).collect())
        }
        other => other,
    }
}

/// `missing field `name`` → `name`.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// `items[0].name` → `items.0.name`.
fn dotted(path: &str) -> String {
    path.replace("][", ".")
        .replace('[', ".")
        .replace(']', "")
        .trim_start_matches('.')
        .to_owned()
}

/// Data as form params: scalars become strings, `null` disappears.
fn stringify(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(_) => Some(value),
        Value::Bool(flag) => Some(Value::String(flag.to_string())),
        Value::Number(number) => Some(Value::String(number.to_string())),
        Value::Array(list) => Some(Value::Array(
            list.into_iter().filter_map(stringify).collect(),
        )),
        Value::Object(map) => Some(Value::Object(
            map.into_iter()
                .filter_map(|(k, v)| stringify(v).map(|v| (k, v)))
                .collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Chapter {
        title: String,
        #[serde(default, deserialize_with = "crate::form::blank_as_none")]
        pages: Option<u32>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Book {
        title: String,
        year: u16,
        available: bool,
        #[serde(default)]
        genres: Vec<String>,
        #[serde(default)]
        chapters: Vec<Chapter>,
    }

    impl Validate for Book {
        fn validate(&self, _: &mut Errors) {}
    }

    #[test]
    fn probe() {
        let body = "book%5Btitle%5D=T&book%5Bauthor%5D=A&book%5Byear%5D=1815&book%5Bavailable%5D=false&book%5Bavailable%5D=true&book%5Bgenres%5D%5B%5D=&book%5Bgenres%5D%5B%5D=fiction&book%5Bgenres%5D%5B%5D=science&book%5Bchapters_sort%5D%5B%5D=0&book%5Bchapters%5D%5B0%5D%5Btitle%5D=Arrakis&book%5Bchapters%5D%5B0%5D%5Bpages%5D=42&book%5Bchapters_drop%5D%5B%5D=";
        let event = crate::ClientEvent::form("save", body).unwrap();
        println!("{}", event.value);
        let form: Form<Book> = Form::submit("book", &FormParams(event.value));
        println!("{:?} {:?}", form.errors, form.data);
    }
}
