//! The JS conformance harness (`tests/support/oracle.rs`) runs and reports
//! both merged HTML and malformed input.

mod support;

use support::oracle::merge_plain;

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

/// lv-oracle's `examples/01-counter.jsonl`.
const COUNTER: &str = r#"{"0":"0","r":1,"s":0,"p":{"0":["<div>\n  <p>Count: ","</p>\n  <button phx-click=\"inc\">+</button>\n</div>"]},"t":"Counter"}
{"0":"1"}
{}
{"0":"2","t":"Counter (2)","e":[["highlight",{"id":"count"}]]}
{"diff":{"0":"3","r":{"ok":true}}}"#;

fn counter_html(count: u32) -> String {
    format!("<div>\n  <p>Count: {count}</p>\n  <button phx-click=\"inc\">+</button>\n</div>")
}

#[test]
fn counter_diffs_merge_to_the_full_renders() {
    let html = merge_plain(&lines(COUNTER)).unwrap_or_else(|err| panic!("{err}"));
    let expected: Vec<String> = [0, 1, 1, 2, 3].into_iter().map(counter_html).collect();
    assert_eq!(html, expected);
}

#[test]
fn malformed_diff_is_reported_with_its_line() {
    let input = lines(
        r#"{"0":"x","1":"y","s":["<p>","","</p>"]}
{"1":null}"#,
    );
    let err = merge_plain(&input).expect_err("a null dynamic must be rejected");
    assert!(err.contains("line 2, at 1:"), "unexpected message: {err}");
}
