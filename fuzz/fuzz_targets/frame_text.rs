//! Text frames: `Frame::decode_text` on arbitrary UTF-8, then the same text (one frame per
//! line, at most 16, with `$T`/`$S`/`$C` standing for the page's view id, session token and
//! CSRF token) fed to a fresh `Connection`. No panic, no hang, every server frame is a V2
//! message, and no message gets more than one reply (exactly one outside `lv:` topics).

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use liveview_core::protocol::Frame;
use liveview_fuzz::{drive, fixture, ClientFrame};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Frame::decode_text(text);

    let fixture = fixture();
    let lines: Vec<String> = text
        .split('\n')
        .take(16)
        .map(|line| fixture.substitute(line))
        .collect();
    // The messages the connection dispatches: those before the first undecodable frame.
    let mut sent: HashMap<(String, Option<String>), usize> = HashMap::new();
    for line in &lines {
        match Frame::decode_text(line) {
            Ok(frame) => *sent.entry((frame.topic, frame.msg_ref)).or_default() += 1,
            Err(_) => break,
        }
    }
    let replies = drive(lines.into_iter().map(ClientFrame::Text));

    let mut replied: HashMap<(String, Option<String>), usize> = HashMap::new();
    for reply in replies.iter().filter(|frame| frame[3] == "phx_reply") {
        let key = (
            reply[2].as_str().unwrap().to_owned(),
            reply[1].as_str().map(str::to_owned),
        );
        *replied.entry(key).or_default() += 1;
    }
    for (key, &count) in &replied {
        let sent = sent.get(key).copied().unwrap_or(0);
        assert!(
            count <= sent,
            "{count} replies to {sent} messages {key:?}: {replies:?}"
        );
    }
    for (key, &count) in &sent {
        if !key.0.starts_with("lv:") {
            let got = replied.get(key).copied().unwrap_or(0);
            assert_eq!(got, count, "replies to {key:?}: {replies:?}");
        }
    }
});
