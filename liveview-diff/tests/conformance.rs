//! Shapes of the rendered tree that LiveViewJS gets wrong, checked against the real client
//! (all in one client session), and golden wire JSON.

mod scenario;
mod support;

use liveview_diff::wire::{diff_to_string, full_to_string};
use liveview_diff::{html, memo, Dynamic, IntoDynamic, Rendered};

fn swap(paragraph: bool, text: &str) -> Rendered {
    html! { div { @if paragraph { p { (text) } } @else { span { (text) } } } }
}

fn bold_rows(items: &[u32], bold: u32) -> Rendered {
    html! {
        ul { @for i in items, key = *i { li { @if *i == bold { b { (i) } } } } }
        ol { @for i in items { li { @if *i == bold { b { (i) } } } } }
    }
}

enum Item {
    Note(&'static str),
    Pair(&'static str, u32),
    Plain(&'static str),
}

fn mixed(items: &[Item]) -> Rendered {
    html! {
        @for item in items {
            @match item {
                Item::Note(text) => { p.note { (text) } },
                Item::Pair(text, n) => { span { (text) ": " (n) } },
                Item::Plain(text) => (text),
            }
        }
    }
}

fn strings(items: &[&str]) -> Rendered {
    html! { ul { @for s in items { (s) } } }
}

fn keyed(items: &[(u32, &str)]) -> Rendered {
    html! { ul { @for (id, text) in items, key = id { li id=(id) { (text) } } } "|" }
}

fn text_or_node(cells: &[(u32, bool)]) -> Rendered {
    html! {
        table { @for (n, node) in cells {
            td { (if *node { html! { i { (n) } }.into_dynamic() } else { n.into_dynamic() }) }
        } }
    }
}

fn nested(depth: u32, label: &str, flag: bool) -> Rendered {
    html! {
        section {
            @if depth > 0 {
                div { (nested(depth - 1, label, !flag)) }
            } @else if flag {
                em { (label) }
            } @else {
                "leaf"
            }
        }
    }
}

#[derive(Clone)]
struct Row {
    id: u32,
    version: u32,
    label: String,
    starred: bool,
}

fn memo_table(rows: &[Row]) -> Rendered {
    html! {
        table {
            @for row in rows, key = row.id, memo = row.version {
                tr { td { (row.id) } td { (&row.label) } td { @if row.starred { b { "*" } } } }
            }
        }
    }
}

fn rows(spec: &[(u32, u32)]) -> Vec<Row> {
    spec.iter()
        .map(|&(id, version)| Row {
            id,
            version,
            label: format!("<row {id} v{version}>"),
            starred: version % 2 == 1,
        })
        .collect()
}

/// Renders `states` in order, each inside `memo::with_previous` of the one before.
fn memo_steps(states: &[Vec<Row>]) -> Vec<Rendered> {
    let mut steps: Vec<Rendered> = Vec::new();
    for state in states {
        let next = memo::with_previous(steps.last(), || memo_table(state));
        steps.push(next);
    }
    steps
}

#[test]
fn regression_shapes_merge_like_the_full_render() {
    use Item::*;
    let scenarios = vec![
        // Same-arity template swap: the span must replace the p.
        vec![
            swap(true, "a"),
            swap(false, "a"),
            swap(false, "b"),
            swap(true, "b"),
        ],
        // Keyed and unkeyed rows [1,2] -> [2,1], each conditionally holding <b>{i}</b>.
        vec![
            bold_rows(&[1, 2], 1),
            bold_rows(&[2, 1], 1),
            bold_rows(&[2, 1], 2),
            bold_rows(&[1, 2], 2),
            bold_rows(&[3, 1, 2], 3),
        ],
        // Rows from several templates (and plain text) in one loop.
        vec![
            mixed(&[Note("a"), Pair("b", 1), Plain("c")]),
            mixed(&[Pair("a", 2), Note("b"), Plain("<c>")]),
            mixed(&[Plain("x"), Plain("y")]),
            mixed(&[]),
            mixed(&[Note("n"), Note("n"), Pair("p", 3)]),
        ],
        // Plain strings containing markup arrive escaped.
        vec![
            strings(&["<script>alert(1)</script>", "a & b"]),
            strings(&["<script>alert(2)</script>", "\"q\" 'q'", "42"]),
            strings(&[]),
        ],
        // Keyed loops: empty, growing, shrinking, insert, remove, move.
        vec![
            keyed(&[]),
            keyed(&[(1, "a"), (2, "b"), (3, "c")]),
            keyed(&[(3, "c"), (1, "a")]),
            keyed(&[(0, "z"), (3, "C"), (4, "d"), (1, "a")]),
            keyed(&[(1, "a")]),
            keyed(&[]),
            keyed(&[(2, "b"), (1, "a")]),
        ],
        // Row slots switching between plain text and a sub-template.
        vec![
            text_or_node(&[(1, false), (2, true)]),
            text_or_node(&[(1, true), (2, false), (3, true)]),
            text_or_node(&[(1, true), (2, true)]),
        ],
        // Nested conditionals switching templates at several depths.
        vec![
            nested(2, "x", true),
            nested(2, "y", true),
            nested(1, "y", true),
            nested(0, "z", false),
            nested(3, "&", false),
        ],
        // Memoized rows: changed, moved, inserted, removed.
        memo_steps(&[
            rows(&[(1, 0), (2, 0), (3, 0)]),
            rows(&[(1, 0), (2, 1), (3, 0)]),
            rows(&[(3, 0), (1, 0), (2, 1)]),
            rows(&[(3, 2), (4, 0), (1, 0)]),
            rows(&[]),
            rows(&[(1, 0), (2, 1)]),
        ]),
    ];
    scenario::check(&scenarios).unwrap_or_else(|err| panic!("{err}"));
}

#[test]
fn golden_same_arity_swap_sends_new_statics() {
    assert_eq!(
        full_to_string(&swap(true, "a")),
        r#"{"0":{"0":"a","s":["<p>","</p>"]},"s":["<div>","</div>"]}"#
    );
    assert_eq!(
        diff_to_string(&swap(true, "a"), &swap(false, "a")),
        r#"{"0":{"0":"a","s":["<span>","</span>"]}}"#
    );
    assert_eq!(
        diff_to_string(&swap(false, "a"), &swap(false, "b")),
        r#"{"0":{"0":"b"}}"#
    );
}

#[test]
fn golden_numbers_are_strings_and_none_false_render_nothing() {
    let page = |n: i64, name: Option<&str>, flag: bool| html! { p { (n) (name) (flag) } };
    assert_eq!(
        full_to_string(&page(5, None, false)),
        r#"{"0":"5","1":"","2":"","s":["<p>","","","</p>"]}"#
    );
    assert_eq!(
        diff_to_string(&page(5, None, false), &page(-7, Some("9"), true)),
        r#"{"0":"-7","1":"9","2":"true"}"#
    );
}

#[test]
fn golden_moved_rows_keep_their_nested_templates() {
    assert_eq!(
        diff_to_string(&bold_rows(&[1, 2], 1), &bold_rows(&[2, 1], 1)),
        r#"{"0":{"k":{"0":1,"1":0,"kc":2,"km":true}},"1":{"k":{"0":{"0":""},"1":{"0":{"0":"1","s":["<b>","</b>"]}},"kc":2}}}"#
    );
}

#[test]
fn golden_escaped_strings() {
    assert_eq!(
        full_to_string(&strings(&["<script>x</script>", "a&b"])),
        r#"{"0":{"s":["",""],"k":{"0":{"0":"&lt;script&gt;x&lt;/script&gt;"},"1":{"0":"a&amp;b"},"kc":2}},"s":["<ul>","</ul>"]}"#
    );
    assert_eq!(
        full_to_string(&strings(&[])),
        r#"{"0":{"s":["",""],"k":{"kc":0}},"s":["<ul>","</ul>"]}"#
    );
}

#[test]
fn golden_shared_templates_use_a_top_level_table() {
    let items: Vec<u32> = (0..4).collect();
    let page = bold_rows(&items, 99);
    // Two loops whose rows have the same statics share them (a comprehension's "s" resolves
    // against the table of the payload).
    assert_eq!(
        full_to_string(&page),
        r#"{"0":{"s":0,"k":{"0":{"0":""},"1":{"0":""},"2":{"0":""},"3":{"0":""},"kc":4}},"1":{"s":0,"k":{"0":{"0":""},"1":{"0":""},"2":{"0":""},"3":{"0":""},"kc":4}},"s":["<ul>","</ul><ol>","</ol>"],"p":{"0":["<li>","</li>"]}}"#
    );
    // Statics too short to gain anything stay inline.
    let short = html! { @for i in [1, 2] { (i) } @for i in [3] { (i) } };
    assert_eq!(
        full_to_string(&short),
        r#"{"0":{"s":["",""],"k":{"0":{"0":"1"},"1":{"0":"2"},"kc":2}},"1":{"s":["",""],"k":{"0":{"0":"3"},"kc":1}},"s":["","",""]}"#
    );
    let labels: Vec<Row> = rows(&[(1, 1), (2, 1), (3, 1)]);
    let json = full_to_string(&memo_table(&labels));
    assert_eq!(
        json,
        r#"{"0":{"s":["<tr><td>","</td><td>","</td><td>","</td></tr>"],"k":{"0":{"0":"1","1":"&lt;row 1 v1&gt;","2":{"s":0}},"1":{"0":"2","1":"&lt;row 2 v1&gt;","2":{"s":0}},"2":{"0":"3","1":"&lt;row 3 v1&gt;","2":{"s":0}},"kc":3}},"s":["<table>","</table>"],"p":{"0":["<b>*</b>"]}}"#
    );
    // A diff shares the templates it sends more than once, too.
    let before = memo_table(&rows(&[(1, 0), (2, 0), (3, 0)]));
    let after = memo_table(&rows(&[(1, 1), (2, 1), (3, 0)]));
    assert_eq!(
        diff_to_string(&before, &after),
        r#"{"0":{"k":{"0":{"1":"&lt;row 1 v1&gt;","2":{"s":0}},"1":{"1":"&lt;row 2 v1&gt;","2":{"s":0}},"kc":3}},"p":{"0":["<b>*</b>"]}}"#
    );
}

#[test]
fn shared_templates_save_bytes_on_a_large_join() {
    let many = rows(&(0..100).map(|id| (id, 1)).collect::<Vec<_>>());
    let shared = full_to_string(&memo_table(&many)).len();
    // The same payload without sharing: every row repeats the nested statics.
    let inline = shared + 100 * r#"["<b>*</b>"]"#.len()
        - 100 * "0".len()
        - r#","p":{"0":["<b>*</b>"]}"#.len();
    println!("100-row join: {shared} bytes with \"p\", {inline} without");
    assert!(shared < inline);
}

#[test]
fn memo_rows_are_reused_and_skipped() {
    let before_rows = rows(&[(1, 0), (2, 0), (3, 0)]);
    let before = memo_table(&before_rows);
    // The label changed but the version did not: the row is neither rendered nor diffed.
    let mut stale = before_rows.clone();
    stale[1].label = "ignored".into();
    let after = memo::with_previous(Some(&before), || memo_table(&stale));
    assert_eq!(diff_to_string(&before, &after), "{}");
    assert!(!after.to_html().contains("ignored"));
    // Without a previous tree the row is rendered, but the diff still trusts the stamp.
    let rendered = memo_table(&stale);
    assert!(rendered.to_html().contains("ignored"));
    assert_eq!(diff_to_string(&before, &rendered), "{}");
    // A move of unchanged rows is a bare index.
    let moved = memo::with_previous(Some(&before), || {
        memo_table(&rows(&[(3, 0), (1, 0), (2, 0)]))
    });
    assert_eq!(
        diff_to_string(&before, &moved),
        r#"{"0":{"k":{"0":2,"1":0,"2":1,"kc":3,"km":true}}}"#
    );
    let Dynamic::List(old) = &before.dynamics()[0] else {
        panic!()
    };
    let Dynamic::List(new) = &moved.dynamics()[0] else {
        panic!()
    };
    assert!(
        std::ptr::eq(old.row(2).as_ptr(), new.row(0).as_ptr()),
        "row 3 was reused"
    );
}
