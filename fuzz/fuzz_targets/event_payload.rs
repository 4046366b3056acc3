//! Event payloads: the input is the payload of an `event` message to a joined view (the path
//! of `ClientEvent::from_payload`, form decoding and the typed decoding into the view's
//! `Event` enum, then the handler, render and diff); also `decode_form`, `key_path` and
//! `ClientEvent::decode` on the raw input. No panic, no hang, no crashed view, and exactly one
//! reply: ok, or an error saying why.

#![no_main]

use libfuzzer_sys::fuzz_target;
use liveview_core::{decode_form, key_path, ClientEvent};
use liveview_fuzz::{drive, fixture, ClientFrame};
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(form) = decode_form(payload) {
        assert!(form.is_object());
    }
    let _ = key_path(payload);
    if let Ok(value) = serde_json::from_str::<Value>(payload) {
        let event = ClientEvent::new("text", value);
        let _ = event.decode::<Value>();
        let _ = event.decode::<liveview_fuzz::Event>();
    }

    let fixture = fixture();
    let topic = format!("lv:{}", fixture.id);
    let event = format!(r#"["1","2",{topic:?},"event",{payload}]"#);
    let decodes = liveview_core::protocol::Frame::decode_text(&event).is_ok();
    let server = drive([
        ClientFrame::Text(fixture.join_frame("1")),
        ClientFrame::Text(event),
    ]);
    assert_eq!(server[0][1], "1", "{server:?}");
    assert_eq!(server[0][4]["status"], "ok", "{server:?}");
    let rest = &server[1..];
    if !decodes {
        assert!(rest.is_empty(), "{server:?}");
        return;
    }
    // Pushes may precede the reply (a `live_patch`); a failing handler or a patch to an
    // unrouted path crashes the view instead of replying.
    let (replies, others): (Vec<_>, Vec<_>) =
        rest.iter().partition(|frame| frame[3] == "phx_reply");
    for frame in &others {
        assert_eq!(frame[2], topic.as_str(), "{frame}");
        assert!(
            frame[3] == "live_patch" || frame[3] == "phx_error" || frame[3] == "phx_close",
            "unexpected push {frame}"
        );
    }
    // A channel that stops normally (after a `redirect` or `push_redirect` reply) is closed
    // with `phx_close`, after its reply.
    if let Some(at) = rest.iter().position(|frame| frame[3] == "phx_close") {
        let name = serde_json::from_str::<Value>(payload).ok();
        let name = name.as_ref().and_then(|payload| payload["event"].as_str());
        assert!(
            matches!(name, Some("redirect" | "navigate")),
            "only redirects stop the view: {server:?}"
        );
        assert!(
            rest[..at].iter().any(|frame| frame[3] == "phx_reply"),
            "phx_close follows the reply: {server:?}"
        );
    }
    let crashed = others.iter().any(|frame| frame[3] == "phx_error");
    if crashed {
        let name = serde_json::from_str::<Value>(payload).ok();
        let name = name.as_ref().and_then(|payload| payload["event"].as_str());
        assert!(
            matches!(name, Some("fail" | "patch")),
            "only fail and patch crash the view: {server:?}"
        );
        assert!(replies.is_empty(), "{server:?}");
        return;
    }
    assert_eq!(replies.len(), 1, "exactly one reply: {server:?}");
    let reply = replies[0];
    assert_eq!(reply[0], "1", "{reply}");
    assert_eq!(reply[1], "2", "{reply}");
    assert_eq!(reply[2], topic.as_str(), "{reply}");
    // Refusals are ok replies (so the client unlocks the element) carrying `lv:refused`.
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let events = &reply[4]["response"]["diff"]["e"];
    if events[0][0] == "lv:refused" {
        let reason = &events[0][1]["reason"];
        assert!(
            [json!("malformed event"), json!("unknown event"), json!("invalid value")]
                .contains(reason),
            "{reply}"
        );
    }
});
