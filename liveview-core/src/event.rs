//! Client events (`phx-click`, `phx-change`, hooks…) and their typed decoding through serde.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, VariantAccess, Visitor,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::form::{decode_form, key_path};

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
        }
    }

    /// Decodes the event into a typed event (see the type's docs).
    pub fn decode<E: for<'de> Deserialize<'de>>(&self) -> Result<E, serde_json::Error> {
        E::deserialize(EventDeserializer { event: self })
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
        let value = if kind == EventKind::Form {
            let mut form = match &wire.value {
                Value::String(body) => {
                    decode_form(body).map_err(<serde_json::Error as serde::de::Error>::custom)?
                }
                Value::Object(_) => wire.value.clone(),
                _ => Value::Object(Map::new()),
            };
            if let (Value::Object(form), Some(meta)) = (&mut form, wire.meta) {
                for (key, value) in meta {
                    if key == "_target" {
                        if let Value::String(name) = &value {
                            target = Some(key_path(name));
                        }
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
        })
    }
}

/// Deserializes an event: enums take the event name as the variant and the value as content;
/// anything else sees `{"event": name, "value": value}`.
struct EventDeserializer<'a> {
    event: &'a ClientEvent,
}

impl<'de> Deserializer<'de> for EventDeserializer<'_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let mut map = Map::new();
        map.insert("event".into(), Value::String(self.event.name.clone()));
        map.insert("value".into(), self.event.value.clone());
        Value::Object(map).deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if name == crate::event_serde::WHOLE_EVENT {
            // `ClientEvent` itself as the typed event: hand over every member.
            return crate::event_serde::whole(self.event).deserialize_any(visitor);
        }
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map identifier ignored_any
    }
}

impl<'de, 'a> EnumAccess<'de> for EventDeserializer<'a> {
    type Error = serde_json::Error;
    type Variant = EventValue<'a>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), Self::Error> {
        let name: de::value::StrDeserializer<'_, serde_json::Error> =
            self.event.name.as_str().into_deserializer();
        let variant = seed.deserialize(name)?;
        Ok((
            variant,
            EventValue {
                value: &self.event.value,
            },
        ))
    }
}

struct EventValue<'a> {
    value: &'a Value,
}

impl<'de> VariantAccess<'de> for EventValue<'_> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        // A unit variant ignores whatever value the element sent.
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        seed.deserialize(self.value.clone())
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.value.clone().deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let value = match self.value {
            Value::Null => Value::Object(Map::new()),
            other => other.clone(),
        };
        value.deserialize_struct("", fields, visitor)
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
