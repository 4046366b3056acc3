//! `Deserialize` for [`ClientEvent`], so it can be a view's or a component's `Event` type (to
//! receive events untyped), and from plain JSON (`{"event": …, "value": …}`).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::event::{ClientEvent, EventKind};

/// The struct name through which [`ClientEvent`]'s `Deserialize` asks the runtime's event
/// deserializer for the whole event (kind, target, cid and uploads included).
pub(crate) const WHOLE_EVENT: &str = "$liveview_core::ClientEvent";

/// The members of an event as `Deserialize` reads them.
#[derive(Deserialize)]
#[serde(rename = "$liveview_core::ClientEvent")]
struct Wire {
    event: String,
    #[serde(default)]
    value: Value,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    target: Option<Vec<String>>,
    #[serde(default)]
    cid: Option<u64>,
    #[serde(default)]
    uploads: BTreeMap<String, Vec<liveview_upload::ClientEntry>>,
}

/// `ClientEvent` as a view's `Event`: every event decodes, nothing is lost.
///
/// ```
/// use liveview_core::{ClientEvent, EventKind};
/// let event: ClientEvent =
///     serde_json::from_value(serde_json::json!({"event": "inc", "value": {"by": 2}, "type": "hook"}))
///         .unwrap();
/// assert_eq!(event.name, "inc");
/// assert_eq!(event.value["by"], 2);
/// assert_eq!(event.kind, EventKind::Hook);
/// // Through the runtime's decoding, as a view's `Event` type, it is the event itself.
/// let again: ClientEvent = event.decode().unwrap();
/// assert_eq!(again, event);
/// ```
impl<'de> Deserialize<'de> for ClientEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        Ok(ClientEvent {
            name: wire.event,
            value: wire.value,
            kind: kind_of(wire.kind.as_deref()),
            target: wire.target,
            cid: wire.cid,
            uploads: wire.uploads,
            form: None,
        })
    }
}

fn kind_of(name: Option<&str>) -> EventKind {
    match name {
        Some("click") => EventKind::Click,
        Some("form") => EventKind::Form,
        Some("keydown") => EventKind::KeyDown,
        Some("keyup") => EventKind::KeyUp,
        Some("focus") => EventKind::Focus,
        Some("blur") => EventKind::Blur,
        Some("hook") => EventKind::Hook,
        other => EventKind::Other(other.unwrap_or_default().to_owned()),
    }
}

fn kind_name(kind: &EventKind) -> &str {
    match kind {
        EventKind::Click => "click",
        EventKind::Form => "form",
        EventKind::KeyDown => "keydown",
        EventKind::KeyUp => "keyup",
        EventKind::Focus => "focus",
        EventKind::Blur => "blur",
        EventKind::Hook => "hook",
        EventKind::Other(name) => name,
    }
}

/// The whole event as JSON, for [`WHOLE_EVENT`] requests.
pub(crate) fn whole(event: &ClientEvent) -> Value {
    let mut map = Map::new();
    map.insert("event".into(), Value::String(event.name.clone()));
    map.insert("value".into(), event.value.clone());
    map.insert("type".into(), Value::String(kind_name(&event.kind).into()));
    if let Some(target) = &event.target {
        map.insert("target".into(), serde_json::json!(target));
    }
    if let Some(cid) = event.cid {
        map.insert("cid".into(), Value::from(cid));
    }
    if !event.uploads.is_empty() {
        map.insert(
            "uploads".into(),
            serde_json::to_value(&event.uploads).unwrap_or(Value::Null),
        );
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_form_event_keeps_its_target_and_cid() {
        let mut event = ClientEvent::new("save", json!({"name": "x"}));
        event.kind = EventKind::Form;
        event.target = Some(vec!["user".into(), "name".into()]);
        event.cid = Some(3);
        let decoded: ClientEvent = event.decode().unwrap();
        assert_eq!(decoded, event);
    }

    #[test]
    fn plain_json_needs_an_event_name() {
        assert!(serde_json::from_value::<ClientEvent>(json!({"value": {}})).is_err());
    }
}
