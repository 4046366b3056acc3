//! Binary frames: `Frame::decode_binary` on arbitrary bytes, then the same bytes fed to a
//! fresh `Connection` (after joining the page's view, so `lv:` topics exist). No panic, no
//! hang, and a decodable frame gets exactly one reply, on its topic and ref.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use liveview_core::protocol::Frame;
use liveview_fuzz::{drive, fixture, ClientFrame};

fuzz_target!(|data: &[u8]| {
    let bytes = Bytes::copy_from_slice(data);
    let decoded = Frame::decode_binary(bytes.clone()).ok();

    let fixture = fixture();
    let frames = [
        ClientFrame::Text(fixture.join_frame("1")),
        ClientFrame::Binary(bytes),
    ];
    let server = drive(frames);
    let join_topic = format!("lv:{}", fixture.id);
    assert_eq!(server[0][2], join_topic.as_str(), "{server:?}");
    assert_eq!(server[0][4]["status"], "ok", "{server:?}");
    let rest = &server[1..];
    match decoded {
        Some(frame) => {
            assert_eq!(rest.len(), 1, "exactly one reply: {server:?}");
            assert_eq!(rest[0][3], "phx_reply");
            assert_eq!(rest[0][2], frame.topic.as_str());
            assert_eq!(rest[0][1].as_str(), frame.msg_ref.as_deref());
        }
        None => assert!(rest.is_empty(), "{server:?}"),
    }
});
