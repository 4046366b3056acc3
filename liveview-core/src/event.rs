//! Client events (`phx-click`, `phx-change`, hooks…) and their typed decoding through serde.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, VariantAccess, Visitor,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::form::{decode_form, field_path, key_path, qs_config};

mod form_value;

pub(crate) use form_value::FORM_PARAMS;

/// The kind of DOM interaction that produced an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// `phx-click` and friends.
    Click,
    /// `phx-change` / `phx-submit`: the value is the decoded form.
    Form,
    /// `phx-keydown` / `phx-window-keydown`.
    KeyDown,
    /// `phx-keyup` / `phx-window-keyup`.
    KeyUp,
    /// `phx-focus`.
    Focus,
    /// `phx-blur`.
    Blur,
    /// `this.pushEvent` from a client hook.
    Hook,
    /// Any other or no type (e.g. `JS.push` from `phx-mounted`).
    Other(String),
}

/// A client event as it arrives: its name and value, before typed decoding.
///
/// Use it as `LiveView::Event` to receive events untyped; otherwise, events decode into your
/// own `enum` with serde, the event name selecting the variant and the value filling its fields:
///
/// ```
/// use serde::Deserialize;
/// use liveview_core::ClientEvent;
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// #[serde(rename_all = "kebab-case")]
/// enum Event {
///     Inc,
///     Bump { id: String },
///     SetName(serde_json::Value),
/// }
///
/// let event = ClientEvent::new("bump", serde_json::json!({"id": "5", "value": ""}));
/// assert_eq!(event.decode::<Event>().unwrap(), Event::Bump { id: "5".into() });
/// let event = ClientEvent::new("inc", serde_json::json!({}));
/// assert_eq!(event.decode::<Event>().unwrap(), Event::Inc);
/// assert!(ClientEvent::new("nope", serde_json::json!({})).decode::<Event>().is_err());
/// ```
///
/// A click's `phx-value-*` values are text; when every value is text, they decode with the
/// form rules too, so `phx-value-id="5"` fills an `id: u64` (a hook's JSON payload with
/// numbers decodes as JSON).
///
/// A form event (`phx-change`, `phx-submit`) decodes its URL-encoded body with
/// [`decode_form_as`](crate::decode_form_as)'s rules, so fields are typed (numbers, booleans,
/// `Option`, `Vec`, nested structs), and the changed field's path arrives as `_target`:
///
/// ```
/// use serde::Deserialize;
/// use liveview_core::ClientEvent;
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Person { name: String, age: u32, tags: Vec<String> }
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// #[serde(rename_all = "snake_case")]
/// enum Event {
///     Validate { person: Person, #[serde(rename = "_target")] target: Vec<String> },
/// }
///
/// let event = ClientEvent::form("validate", "person%5Bname%5D=Ada&person%5Bage%5D=36&person%5Btags%5D%5B%5D=x")
///     .unwrap()
///     .with_target("person[age]");
/// let Event::Validate { person, target } = event.decode::<Event>().unwrap();
/// assert_eq!(person, Person { name: "Ada".into(), age: 36, tags: vec!["x".into()] });
/// assert_eq!(target, ["person", "age"]);
///
/// let bad = ClientEvent::form("validate", "person%5Bname%5D=Ada&person%5Bage%5D=old").unwrap();
/// let error = bad.decode::<Event>().unwrap_err();
/// assert_eq!(error.field(), Some("person.age"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClientEvent {
    /// The event name (the binding's value, e.g. `inc` for `phx-click="inc"`).
    pub name: String,
    /// The event value: `phx-value-*` attributes, the decoded form, or the hook's payload.
    pub value: Value,
    /// What produced the event.
    pub kind: EventKind,
    /// For form change events: the path of the field that changed (`user[name]` → `["user","name"]`).
    pub target: Option<Vec<String>>,
    /// The component id, when the event targets a live component.
    pub cid: Option<u64>,
    /// Files selected in live file inputs (form change events): upload ref → entries.
    pub uploads: std::collections::BTreeMap<String, Vec<liveview_upload::ClientEntry>>,
    /// For form events: the URL-encoded body plus the meta (`_target` as a path), which typed
    /// decoding reads through `serde_qs`.
    form: Option<String>,
}

/// Why a client event did not decode into a view's typed event.
///
/// The runtime logs it (target `liveview::rejection`) and names it in the reply, so a typo in
/// an event name and a field that does not parse are told apart.
///
/// ```
/// use liveview_core::{ClientEvent, EventError};
/// use serde::Deserialize;
///
/// #[derive(Deserialize, Debug)]
/// #[serde(rename_all = "snake_case")]
/// enum Event { Save { age: u8 } }
///
/// let typo = ClientEvent::new("sav", serde_json::json!({})).decode::<Event>().unwrap_err();
/// assert_eq!(typo, EventError::Unknown { name: "sav".into() });
/// assert_eq!(typo.reason(), "unknown event");
/// let bad = ClientEvent::form("save", "age=300").unwrap().decode::<Event>().unwrap_err();
/// assert_eq!((bad.reason(), bad.field()), ("invalid value", Some("age")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// No variant of the event type has this name.
    #[error("unknown event `{name}`")]
    Unknown {
        /// The event name the client sent.
        name: String,
    },
    /// The event's value does not fit the variant.
    #[error("invalid value{}: {message}", crate::form::for_field(field))]
    Invalid {
        /// The path of the failing field (`user.age`, `items[0].name`); empty when the value
        /// as a whole does not fit.
        field: String,
        /// Why, in serde's words.
        message: String,
    },
}

impl EventError {
    /// The short reason sent to the client (`unknown event`, `invalid value`), also the
    /// telemetry label of the refusal.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unknown { .. } => "unknown event",
            Self::Invalid { .. } => "invalid value",
        }
    }

    /// The failing field's path, for [`EventError::Invalid`].
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            Self::Unknown { .. } => None,
        }
    }
}

impl de::Error for EventError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Self::Invalid {
            field: String::new(),
            message: message.to_string(),
        }
    }

    fn unknown_variant(variant: &str, _expected: &'static [&'static str]) -> Self {
        Self::Unknown {
            name: variant.to_owned(),
        }
    }
}

impl ClientEvent {
    /// Creates a click-like event (used in tests).
    pub fn new(name: impl Into<String>, value: Value) -> Self {
        Self {
            name: name.into(),
            value,
            kind: EventKind::Click,
            target: None,
            cid: None,
            uploads: Default::default(),
            form: None,
        }
    }

    /// Creates a form event from its URL-encoded body, as the client sends for `phx-change`
    /// and `phx-submit` (used in tests; see the type's docs).
    ///
    /// # Errors
    ///
    /// [`FormError::TooDeep`](crate::FormError::TooDeep) for keys nested too deep.
    pub fn form(name: impl Into<String>, body: &str) -> Result<Self, crate::FormError> {
        Ok(Self {
            name: name.into(),
            value: decode_form(body)?,
            kind: EventKind::Form,
            target: None,
            cid: None,
            uploads: Default::default(),
            form: Some(body.to_owned()),
        })
    }

    /// Sets the changed field of a form event from the input's name (`user[name]`), as the
    /// client's `_target`: `target` becomes its path, and the value's `_target` too.
    pub fn with_target(mut self, name: &str) -> Self {
        let path = key_path(name);
        if let Some(form) = &mut self.form {
            append_target(form, &path);
        }
        if let Value::Object(map) = &mut self.value {
            map.insert(
                "_target".to_owned(),
                Value::Array(path.iter().cloned().map(Value::String).collect()),
            );
        }
        self.target = Some(path);
        self
    }

    /// Decodes the event into a typed event (see the type's docs).
    ///
    /// # Errors
    ///
    /// [`EventError::Unknown`] when no variant has the event's name, [`EventError::Invalid`]
    /// naming the field that does not decode.
    pub fn decode<E: for<'de> Deserialize<'de>>(&self) -> Result<E, EventError> {
        // Values that are all text (`phx-value-*`) decode with the form rules too, so
        // `phx-value-id="5"` fills an `id: u64`.
        let generated;
        let form = match &self.form {
            Some(body) => Some(body.as_str()),
            None => {
                generated = text_values_body(&self.value);
                generated.as_deref()
            }
        };
        E::deserialize(EventDeserializer { event: self, form })
    }

    /// Parses the payload of an `event` message (`{type, event, value, cid?, meta?}`).
    pub(crate) fn from_payload(payload: &str) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(rename = "type")]
            kind: Option<String>,
            event: String,
            #[serde(default)]
            value: Value,
            #[serde(default)]
            cid: Option<u64>,
            #[serde(default)]
            meta: Option<Map<String, Value>>,
            #[serde(default)]
            uploads: std::collections::BTreeMap<String, Vec<liveview_upload::ClientEntry>>,
        }
        let wire: Wire = serde_json::from_str(payload)?;
        let kind = match wire.kind.as_deref() {
            Some("click") => EventKind::Click,
            Some("form") => EventKind::Form,
            Some("keydown") => EventKind::KeyDown,
            Some("keyup") => EventKind::KeyUp,
            Some("focus") => EventKind::Focus,
            Some("blur") => EventKind::Blur,
            Some("hook") => EventKind::Hook,
            other => EventKind::Other(other.unwrap_or_default().to_owned()),
        };
        let mut target = None;
        let mut body = None;
        let value = if kind == EventKind::Form {
            let mut form = match &wire.value {
                Value::String(text) => {
                    let decoded = decode_form(text)
                        .map_err(<serde_json::Error as serde::de::Error>::custom)?;
                    body = Some(text.clone());
                    decoded
                }
                Value::Object(_) => wire.value.clone(),
                _ => Value::Object(Map::new()),
            };
            if let (Value::Object(form), Some(meta)) = (&mut form, wire.meta) {
                for (key, value) in meta {
                    if key == "_target" {
                        // The client sends "undefined" when no input triggered the change.
                        if let Value::String(name) = &value {
                            if name != "undefined" {
                                let path = key_path(name);
                                if let Some(body) = &mut body {
                                    append_target(body, &path);
                                }
                                form.insert(
                                    key,
                                    Value::Array(path.iter().cloned().map(Value::String).collect()),
                                );
                                target = Some(path);
                            }
                        }
                        continue;
                    }
                    if let Some(body) = &mut body {
                        append_pair(body, &key, &value);
                    }
                    form.insert(key, value);
                }
            }
            form
        } else {
            wire.value
        };
        Ok(Self {
            name: wire.event,
            value,
            kind,
            target,
            cid: wire.cid,
            uploads: wire.uploads,
            form: body,
        })
    }
}

/// Deserializes an event: enums take the event name as the variant and the value as content;
/// anything else sees `{"event": name, "value": value}`.
struct EventDeserializer<'a> {
    event: &'a ClientEvent,
    /// The URL-encoded body the variant's content decodes from, if any.
    form: Option<&'a str>,
}

impl<'de> Deserializer<'de> for EventDeserializer<'de> {
    type Error = EventError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let mut map = Map::new();
        map.insert("event".into(), Value::String(self.event.name.clone()));
        map.insert("value".into(), self.event.value.clone());
        with_json(Value::Object(map), |de| de.deserialize_any(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

impl<'de> EnumAccess<'de> for EventDeserializer<'de> {
    type Error = EventError;
    type Variant = EventValue<'de>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), Self::Error> {
        let name: de::value::StrDeserializer<'_, EventError> =
            self.event.name.as_str().into_deserializer();
        let variant = seed.deserialize(name)?;
        Ok((
            variant,
            EventValue {
                value: &self.event.value,
                form: self.form,
            },
        ))
    }
}

/// A variant's content: the JSON value, or for form events the URL-encoded body.
struct EventValue<'a> {
    value: &'a Value,
    form: Option<&'a str>,
}

impl<'de> VariantAccess<'de> for EventValue<'de> {
    type Error = EventError;

    fn unit_variant(self) -> Result<(), Self::Error> {
        // A unit variant ignores whatever value the element sent.
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        match self.form {
            Some(body) => {
                let form = form_value::FormValue {
                    body,
                    value: self.value,
                };
                let mut track = serde_path_to_error::Track::new();
                seed.deserialize(serde_path_to_error::Deserializer::new(form, &mut track))
                    .map_err(|error| EventError::Invalid {
                        field: field_path(&track.path()),
                        message: error.to_string(),
                    })
            }
            None => with_json(self.value.clone(), |de| seed.deserialize(de)),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        with_json(self.value.clone(), |de| de.deserialize_seq(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if let Some(body) = self.form {
            return with_qs(body, |de| de.deserialize_struct("", fields, visitor));
        }
        let value = match self.value {
            Value::Null => Value::Object(Map::new()),
            other => other.clone(),
        };
        with_json(value, |de| de.deserialize_struct("", fields, visitor))
    }
}

type Tracked<'t, D> = serde_path_to_error::Deserializer<'t, 't, D>;

/// Runs `run` on a path-tracking deserializer of a JSON value; an error names the field.
fn with_json<T>(
    value: Value,
    run: impl FnOnce(Tracked<'_, Value>) -> Result<T, serde_json::Error>,
) -> Result<T, EventError> {
    let mut track = serde_path_to_error::Track::new();
    run(serde_path_to_error::Deserializer::new(value, &mut track)).map_err(|error| {
        EventError::Invalid {
            field: field_path(&track.path()),
            message: error.to_string(),
        }
    })
}

/// Runs `run` on a path-tracking `serde_qs` deserializer of a form body.
fn with_qs<'b, T>(
    body: &'b str,
    run: impl FnOnce(Tracked<'_, serde_qs::Deserializer<'b>>) -> Result<T, serde_qs::Error>,
) -> Result<T, EventError> {
    let deserializer =
        serde_qs::Deserializer::with_config(qs_config(), body.as_bytes()).map_err(|error| {
            EventError::Invalid {
                field: String::new(),
                message: error.to_string(),
            }
        })?;
    let mut track = serde_path_to_error::Track::new();
    run(serde_path_to_error::Deserializer::new(
        deserializer,
        &mut track,
    ))
    .map_err(|error| EventError::Invalid {
        field: field_path(&track.path()),
        message: error.to_string(),
    })
}

/// A non-empty flat object of strings (a click's `phx-value-*`) as a URL-encoded body.
fn text_values_body(value: &Value) -> Option<String> {
    let map = value.as_object().filter(|map| !map.is_empty())?;
    let mut body = String::new();
    for (key, value) in map {
        crate::form::append_pair(&mut body, key, value.as_str()?);
    }
    // Keys nested deeper than the form limit decode as JSON (no form rules).
    crate::form::check_depth(&body).ok()?;
    Some(body)
}

/// Appends `_target[]=segment` pairs, so a typed `_target: Vec<String>` gets the path.
fn append_target(body: &mut String, path: &[String]) {
    for segment in path {
        append_pair(body, "_target[]", &Value::String(segment.clone()));
    }
}

/// Appends `key=value` (form-encoded) to a body; objects and arrays are skipped.
fn append_pair(body: &mut String, key: &str, value: &Value) {
    match value {
        Value::String(text) => crate::form::append_pair(body, key, text),
        Value::Number(number) => crate::form::append_pair(body, key, &number.to_string()),
        Value::Bool(flag) => crate::form::append_pair(body, key, &flag.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_events_are_decoded_with_target() {
        let event = ClientEvent::from_payload(
            r#"{"type":"form","event":"validate","value":"user%5Bname%5D=ali&user%5B_unused_email%5D=","meta":{"_target":"user[name]"},"uploads":{}}"#,
        )
        .unwrap();
        assert_eq!(event.kind, EventKind::Form);
        assert_eq!(
            event.target,
            Some(vec!["user".to_owned(), "name".to_owned()])
        );
        assert_eq!(event.value["user"]["name"], json!("ali"));
        assert_eq!(event.value["_target"], json!(["user", "name"]));
    }

    #[test]
    fn an_undefined_target_is_no_target() {
        let event = ClientEvent::from_payload(
            r#"{"type":"form","event":"save","value":"a=1","meta":{"_target":"undefined"}}"#,
        )
        .unwrap();
        assert_eq!(event.target, None);
        assert_eq!(event.value, json!({"a": "1"}));
    }

    #[test]
    fn text_values_of_clicks_decode_into_numbers() {
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(rename_all = "snake_case")]
        enum Event {
            Bump { id: u64, label: String },
        }
        let click = ClientEvent::new("bump", json!({"id": "7", "label": "a&b", "value": ""}));
        assert_eq!(
            click.decode::<Event>().unwrap(),
            Event::Bump {
                id: 7,
                label: "a&b".into()
            }
        );
        let bad = ClientEvent::new("bump", json!({"id": "seven", "label": ""}));
        assert_eq!(bad.decode::<Event>().unwrap_err().field(), Some("id"));
    }

    #[test]
    fn unknown_names_and_bad_fields_are_told_apart() {
        #[derive(Deserialize, Debug)]
        #[serde(rename_all = "snake_case")]
        #[allow(dead_code)]
        enum Event {
            Save { age: u32 },
            Pick { id: u32 },
        }
        let unknown = ClientEvent::new("nope", json!({})).decode::<Event>();
        assert_eq!(
            unknown.unwrap_err(),
            EventError::Unknown {
                name: "nope".into()
            }
        );
        let form = ClientEvent::form("save", "age=x").unwrap();
        let error = form.decode::<Event>().unwrap_err();
        assert_eq!(
            (error.reason(), error.field()),
            ("invalid value", Some("age"))
        );
        let click = ClientEvent::new("pick", json!({"id": "x"}));
        let error = click.decode::<Event>().unwrap_err();
        assert_eq!(error.field(), Some("id"));
    }

    #[test]
    fn untyped_structs_see_event_and_value() {
        #[derive(Deserialize)]
        struct Any {
            event: String,
            value: Value,
        }
        let any: Any = ClientEvent::new("x", json!({"a": 1})).decode().unwrap();
        assert_eq!(any.event, "x");
        assert_eq!(any.value, json!({"a": 1}));
    }
}
