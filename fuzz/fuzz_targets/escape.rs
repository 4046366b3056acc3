//! Escaping: `escape`/`escape_into` leave none of `<>"'` and un-escape back to the input; the
//! JSON string writer's output parses back to the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use liveview_diff::{escape, escape_into, wire::write_json_str};

/// Reverses `escape_into`: every `&` must start one of its five entities.
fn unescape(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (entity, text) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&quot;", '"'),
            ("&#39;", '\''),
        ]
        .into_iter()
        .find(|(entity, _)| rest.starts_with(entity))
        .unwrap_or_else(|| panic!("a bare & in escaped output: {escaped:?}"));
        out.push(text);
        rest = &rest[entity.len()..];
    }
    out.push_str(rest);
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let escaped = escape(text);
    assert!(
        !escaped.contains(['<', '>', '"', '\'']),
        "unescaped markup in {escaped:?}"
    );
    assert_eq!(unescape(&escaped), text);
    let mut into = String::from("prefix");
    escape_into(text, &mut into);
    assert_eq!(&into["prefix".len()..], &*escaped);

    let mut json = b"ignored".to_vec();
    write_json_str(text, &mut json);
    let json = &json[b"ignored".len()..];
    let parsed: String = serde_json::from_slice(json).unwrap_or_else(|error| {
        panic!(
            "invalid JSON ({error}): {:?}",
            String::from_utf8_lossy(json)
        )
    });
    assert_eq!(parsed, text);
});
