//! Changesets: a form's raw params, its typed data, per-field errors and which inputs the user
//! has used (Phoenix's `to_form`, `used_input?`, Ecto's changeset errors).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::fields::{Field, Fields};
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
    pub(super) fn shown_for(&self, field: &str) -> Vec<&str> {
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
        // A field that does not decode gets its error and is left out, and the rest is
        // decoded again (a field with a default then takes it), so every bad field is named
        // at once; validation runs on what decoded.
        let mut cast_errors = Errors::default();
        let mut remaining = match index_rows(Value::Object(map.clone())) {
            Value::Object(rows) => rows,
            _ => Map::new(),
        };
        let mut data = None;
        for _ in 0..MAX_CAST_ERRORS {
            match decode_params::<T>(&remaining) {
                Ok(decoded) => {
                    data = Some(decoded);
                    break;
                }
                Err(crate::FormError::Invalid { field, message }) => {
                    let (path, text) = match missing_field(&message) {
                        Some(missing) if field.is_empty() => (missing.to_owned(), "can't be blank"),
                        Some(missing) => (format!("{field}.{missing}"), "can't be blank"),
                        None => (field, "is invalid"),
                    };
                    let path = dotted(&path);
                    cast_errors.add(&path, text);
                    if text == "can't be blank"
                        || path.is_empty()
                        || !remove_path(&mut remaining, &path)
                    {
                        break;
                    }
                }
                Err(other) => {
                    cast_errors.add("", other.to_string());
                    break;
                }
            }
        }
        if let Some(decoded) = &data {
            let mut rules = Errors::default();
            decoded.validate(&mut rules);
            for (field, messages) in rules.iter() {
                if cast_errors.get(field).is_empty() {
                    for message in messages {
                        errors.add(field, message.clone());
                    }
                }
            }
        }
        for (field, messages) in cast_errors.iter() {
            for message in messages {
                errors.add(field, message.clone());
            }
        }
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

/// How many fields that do not decode a form names at once.
const MAX_CAST_ERRORS: usize = 16;

/// Removes the value at a dotted path (`items.0.qty`) of params whose rows are index maps
/// ([`index_rows`]); whether there was one.
fn remove_path(map: &mut Map<String, Value>, path: &str) -> bool {
    let mut segments: Vec<&str> = path.split('.').collect();
    let Some(last) = segments.pop() else {
        return false;
    };
    let mut current = map;
    for segment in segments {
        current = match current.get_mut(segment) {
            Some(Value::Object(inner)) => inner,
            _ => return false,
        };
    }
    current.remove(last).is_some()
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

    #[derive(Debug, Deserialize, Default)]
    #[allow(dead_code)]
    struct Sizes {
        #[serde(default)]
        width: u32,
        #[serde(default)]
        height: u32,
        #[serde(default)]
        label: String,
    }

    impl Validate for Sizes {
        fn validate(&self, errors: &mut Errors) {
            if self.width == 0 {
                errors.add("width", "must be more than 0");
            }
            if self.label.is_empty() {
                errors.add("label", "can't be blank");
            }
        }
    }

    #[test]
    fn every_field_that_does_not_decode_is_named_and_the_rest_validated() {
        let params =
            FormParams(serde_json::json!({"s": {"width": "wide", "height": "tall", "label": ""}}));
        let form: Form<Sizes> = Form::submit("s", &params);
        assert_eq!(
            form.field("width").errors(),
            ["is invalid"],
            "not also the rule's error"
        );
        assert_eq!(form.field("height").errors(), ["is invalid"]);
        assert_eq!(form.field("label").errors(), ["can't be blank"]);
        assert!(!form.is_valid());
        // The raw values stay, to show what the user typed.
        assert_eq!(form.field("width").value(), "wide");
    }
}
