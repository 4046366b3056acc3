//! Tests of the `html!` template macro.

use liveview_diff::{html, Comprehension, Dynamic, Raw, Rendered, Template};

/// Checks that the macro's fingerprints agree with `Template::fingerprint_of`, recursively.
fn assert_fingerprints(rendered: &Rendered) {
    assert_template(rendered.template());
    for dynamic in rendered.dynamics() {
        assert_dynamic(dynamic);
    }
}

fn assert_template(template: &Template) {
    assert_eq!(
        template.fingerprint(),
        Template::fingerprint_of(template.statics()),
        "fingerprint of {:?}",
        template.statics()
    );
}

fn assert_dynamic(dynamic: &Dynamic) {
    match dynamic {
        Dynamic::Nested(rendered) => assert_fingerprints(rendered),
        Dynamic::List(list) => {
            assert_template(list.template());
            for index in 0..list.len() {
                list.row(index).iter().for_each(assert_dynamic);
            }
        }
        _ => {}
    }
}

fn nested(dynamic: &Dynamic) -> &Rendered {
    match dynamic {
        Dynamic::Nested(rendered) => rendered,
        other => panic!("expected a nested template, got {other:?}"),
    }
}

fn list(dynamic: &Dynamic) -> &Comprehension {
    match dynamic {
        Dynamic::List(list) => list,
        other => panic!("expected a comprehension, got {other:?}"),
    }
}

#[test]
fn static_text_is_merged_and_escaped() {
    let page = html! { div { "a" "b" } p { "& < > \" '" 42 1.5 'c' } };
    assert_eq!(
        page.template().statics(),
        ["<div>ab</div><p>&amp; &lt; &gt; &quot; &#39;421.5c</p>"]
    );
    assert!(page.dynamics().is_empty());
    assert_eq!(page.to_html(), page.template().statics()[0]);
    assert_fingerprints(&page);
}

#[test]
fn compile_time_escaping_agrees_with_the_runtime() {
    // The macro escapes literal text itself (a proc macro cannot call this crate): both must
    // produce the same HTML for every character that needs escaping.
    let literal = html! { p title="<&>\"'é" { "<&>\"'é" } };
    let text = "<&>\"'é";
    let spliced = html! { p title=(text) { (text) } };
    assert_eq!(literal.to_html(), spliced.to_html());
}

#[test]
fn empty_template() {
    let page = html! {};
    assert_eq!(page.template().statics(), [""]);
    assert_eq!(page.to_html(), "");
}

#[test]
fn splices_are_escaped_at_runtime() {
    let text = String::from("& < > \" '");
    let page = html! { p { (text) } (7) (Raw("<b>raw</b>")) };
    assert_eq!(page.template().statics(), ["<p>", "</p>", "", ""]);
    assert_eq!(
        page.dynamics()[0],
        Dynamic::raw("&amp; &lt; &gt; &quot; &#39;")
    );
    assert_eq!(
        page.to_html(),
        "<p>&amp; &lt; &gt; &quot; &#39;</p>7<b>raw</b>"
    );
}

#[test]
fn script_splice_arrives_escaped() {
    let evil = "<script>alert(\"xss\")</script>";
    let page = html! {
        div.comment { (evil) }
        a href=(evil) { "link" }
    };
    let html = page.to_html();
    assert!(!html.contains("<script>"), "{html}");
    assert_eq!(
        html,
        "<div class=\"comment\">&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;</div>\
         <a href=\"&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;\">link</a>"
    );
}

#[test]
fn attributes() {
    let value = "it's \"x\" & <y>";
    let on = true;
    let off = false;
    let page = html! {
        input type="text" name="q&a" value=(value) required checked[on] disabled[off];
    };
    assert_eq!(
        page.template().statics(),
        [r#"<input type="text" name="q&amp;a""#, " required", "", ">"]
    );
    // The whole dynamic attribute is the slot (as in HEEx), so it can be omitted.
    assert_eq!(
        page.dynamics()[0],
        Dynamic::raw(r#" value="it&#39;s &quot;x&quot; &amp; &lt;y&gt;""#)
    );
    assert_eq!(page.dynamics()[1], Dynamic::raw(" checked"));
    assert_eq!(page.dynamics()[2], Dynamic::EMPTY);
    assert_eq!(
        page.to_html(),
        r#"<input type="text" name="q&amp;a" value="it&#39;s &quot;x&quot; &amp; &lt;y&gt;" required checked>"#
    );
}

#[test]
fn keyword_and_hyphenated_names() {
    let id = 5;
    let page = html! {
        label for="x" { "X" }
        button type="button" phx-click="delete" phx-value-id=(id) data-phx-link="redirect" {}
        video loop muted autoplay {}
        html xml:lang="en" {}
        my-element r#async {}
    };
    assert_eq!(
        page.to_html(),
        concat!(
            r#"<label for="x">X</label>"#,
            r#"<button type="button" phx-click="delete" phx-value-id="5" data-phx-link="redirect"></button>"#,
            "<video loop muted autoplay></video>",
            r#"<html xml:lang="en"></html>"#,
            "<my-element async></my-element>",
        )
    );
}

#[test]
fn void_elements() {
    let page = html! {
        br; hr {} img src="a.png" alt="";
        meta charset="utf-8"; link rel="stylesheet" href="/app.css";
        area; base; col; embed; source; track; wbr;
        p;
    };
    assert_eq!(
        page.to_html(),
        concat!(
            r#"<br><hr><img src="a.png" alt=""><meta charset="utf-8">"#,
            r#"<link rel="stylesheet" href="/app.css"><area><base><col><embed><source><track><wbr><p>"#
        )
    );
}

#[test]
fn class_and_id_shorthands() {
    let page = html! { div.card.is-active #main-panel { span.x {} } };
    assert_eq!(
        page.to_html(),
        r#"<div id="main-panel" class="card is-active"><span class="x"></span></div>"#
    );
}

fn branch(n: i32) -> Rendered {
    html! {
        section {
            @if n < 0 {
                "negative"
            } @else if n == 0 {
                b { "zero" }
            } @else if let 1..=9 = n {
                i { "digit " (n) }
            } @else {
                "big"
            }
        }
    }
}

#[test]
fn if_else_branches_are_distinct_templates() {
    let pages: Vec<Rendered> = [-1, 0, 5, 10].into_iter().map(branch).collect();
    let html: Vec<String> = pages.iter().map(Rendered::to_html).collect();
    assert_eq!(
        html,
        [
            "<section>negative</section>",
            "<section><b>zero</b></section>",
            "<section><i>digit 5</i></section>",
            "<section>big</section>",
        ]
    );
    // The root template is shared by every render.
    for page in &pages {
        assert!(std::ptr::eq(page.template(), pages[0].template()));
        assert_eq!(page.template().statics(), ["<section>", "</section>"]);
        assert_fingerprints(page);
    }
    let branches: Vec<&Template> = pages
        .iter()
        .map(|page| nested(&page.dynamics()[0]).template())
        .collect();
    assert_eq!(branches[0].statics(), ["negative"]);
    assert_eq!(branches[1].statics(), ["<b>zero</b>"]);
    assert_eq!(branches[2].statics(), ["<i>digit ", "</i>"]);
    assert_eq!(branches[3].statics(), ["big"]);
    for (i, a) in branches.iter().enumerate() {
        for b in &branches[i + 1..] {
            assert_ne!(a.fingerprint(), b.fingerprint());
        }
    }
    // The same branch in two renders is the same static template.
    assert!(std::ptr::eq(
        nested(&branch(3).dynamics()[0]).template(),
        branches[2]
    ));
}

#[test]
fn if_without_else_renders_nothing() {
    let show = false;
    let page = html! { p { @if show { "shown" } } };
    assert_eq!(page.dynamics(), [Dynamic::EMPTY]);
    assert_eq!(page.to_html(), "<p></p>");
}

#[test]
fn identical_statics_get_identical_fingerprints() {
    let a = html! { p { "same" } };
    let b = html! { p { "same" } };
    assert!(!std::ptr::eq(a.template(), b.template()));
    assert_eq!(a.template().fingerprint(), b.template().fingerprint());
    assert_eq!(a.template(), b.template());
    let c = html! { p { "other" } };
    assert_ne!(a.template().fingerprint(), c.template().fingerprint());
}

#[derive(Debug)]
enum Status {
    Active { since: u32 },
    Banned(&'static str),
    Unknown,
}

fn status(status: &Status) -> Rendered {
    html! {
        @match status {
            Status::Active { since } if *since > 2000 => { "new since " (since) }
            Status::Active { .. } => { em { "veteran" } }
            Status::Banned(reason) => span.banned { (reason) },
            Status::Unknown => {}
        }
    }
}

#[test]
fn match_arms_are_distinct_templates() {
    let cases = [
        (
            Status::Active { since: 2020 },
            "new since 2020",
            &["new since ", ""][..],
        ),
        (
            Status::Active { since: 1999 },
            "<em>veteran</em>",
            &["<em>veteran</em>"][..],
        ),
        (
            Status::Banned("<spam>"),
            r#"<span class="banned">&lt;spam&gt;</span>"#,
            &[r#"<span class="banned">"#, "</span>"][..],
        ),
        (Status::Unknown, "", &[""][..]),
    ];
    let mut fingerprints = Vec::new();
    for (value, html, statics) in &cases {
        let page = status(value);
        assert_eq!(page.to_html(), *html, "{value:?}");
        assert_eq!(page.template().statics(), ["", ""]);
        let arm = nested(&page.dynamics()[0]);
        assert_eq!(arm.template().statics(), *statics);
        assert_fingerprints(&page);
        fingerprints.push(arm.template().fingerprint());
    }
    fingerprints.sort_unstable();
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), cases.len());
}

#[test]
fn unkeyed_loop() {
    let items = ["a&b".to_string(), "<c>".to_string(), "d".to_string()];
    let page = html! {
        ul { @for (index, item) in items.iter().enumerate() { li data-index=(index) { (item) } } }
    };
    assert_eq!(page.template().statics(), ["<ul>", "</ul>"]);
    let rows = list(&page.dynamics()[0]);
    assert_eq!(rows.len(), 3);
    assert!(rows.keys().is_none());
    assert_eq!(rows.template().statics(), ["<li", ">", "</li>"]);
    assert_eq!(
        rows.row(1),
        [
            Dynamic::raw(r#" data-index="1""#),
            Dynamic::raw("&lt;c&gt;")
        ]
    );
    assert_eq!(
        page.to_html(),
        r#"<ul><li data-index="0">a&amp;b</li><li data-index="1">&lt;c&gt;</li><li data-index="2">d</li></ul>"#
    );
    assert_fingerprints(&page);

    let empty: [u8; 0] = [];
    let page = html! { ul { @for x in empty { li { (x) } } } };
    assert!(list(&page.dynamics()[0]).is_empty());
    assert_eq!(page.to_html(), "<ul></ul>");
}

#[derive(Debug, Clone)]
struct User {
    id: u64,
    name: String,
    admin: bool,
}

fn users_page(users: &[User]) -> Rendered {
    html! {
        table {
            @for user in users, key = user.id {
                tr id=(format!("user-{}", user.id)) {
                    td { (&user.name) }
                    td { @if user.admin { "admin" } }
                }
            }
        }
    }
}

#[test]
fn keyed_loop() {
    let users = vec![
        User {
            id: 10,
            name: "Ann".into(),
            admin: true,
        },
        User {
            id: 20,
            name: "Bob & Co".into(),
            admin: false,
        },
    ];
    let page = users_page(&users);
    assert_eq!(
        page.to_html(),
        concat!(
            r#"<table><tr id="user-10"><td>Ann</td><td>admin</td></tr>"#,
            r#"<tr id="user-20"><td>Bob &amp; Co</td><td></td></tr></table>"#
        )
    );
    let rows = list(&page.dynamics()[0]);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows.keys(),
        Some(
            &[
                liveview_diff::hash_key(&10u64),
                liveview_diff::hash_key(&20u64)
            ][..]
        )
    );
    assert_fingerprints(&page);

    // Reordering keeps the keys with their rows.
    let reversed: Vec<User> = users.iter().rev().cloned().collect();
    let again = users_page(&reversed);
    let rows_again = list(&again.dynamics()[0]);
    assert_eq!(
        rows_again.keys(),
        Some(
            &[
                liveview_diff::hash_key(&20u64),
                liveview_diff::hash_key(&10u64)
            ][..]
        )
    );
    assert!(std::ptr::eq(rows.template(), rows_again.template()));
}

#[test]
fn keyed_loop_by_reference_key() {
    let names = vec!["x".to_string(), "y".to_string()];
    let page = html! { @for name in &names, key = name { (name) "," } };
    assert_eq!(page.to_html(), "x,y,");
    let rows = list(&page.dynamics()[0]);
    assert_eq!(rows.keys().unwrap()[0], liveview_diff::hash_key("x"));
}

#[test]
fn let_bindings() {
    let items = ["a", "b"];
    let page = html! {
        @let count = items.len();
        @let label: &str = if count == 1 { "item" } else { "items" };
        p { (count) " " (label) }
        div {
            @let inner = count * 10;
            (inner)
            @let (x, y) = (1, 2);
            span { (x + y) }
        }
        @let inner = "outer";
        (inner)
        @for item in items {
            @let upper = item.to_uppercase();
            i { (upper) }
        }
        @if count > 1 {
            @let doubled = count * 2;
            (doubled)
        }
    };
    assert_eq!(
        page.to_html(),
        "<p>2 items</p><div>20<span>3</span></div>outer<i>A</i><i>B</i>4"
    );
    assert_eq!(
        page.template().statics(),
        [
            "<p>",
            " ",
            "</p><div>",
            "<span>",
            "</span></div>",
            "",
            "",
            ""
        ]
    );
    assert_fingerprints(&page);
}

#[test]
fn nested_rendered_and_groups() {
    let header = html! { h1 { "Title" } };
    let maybe: Option<Rendered> = Some(html! { small { "sub" } });
    let page = html! { header { (header) (maybe) } { "grouped" } };
    assert_eq!(
        page.to_html(),
        "<header><h1>Title</h1><small>sub</small></header>grouped"
    );
    assert!(matches!(page.dynamics()[0], Dynamic::Nested(_)));
    assert_fingerprints(&page);
}

#[test]
fn dynamics_are_evaluated_in_source_order() {
    let mut log = Vec::new();
    let mut next = |name: &'static str| {
        log.push(name);
        name
    };
    let page = html! {
        a href=(next("attr")) { (next("child")) }
        @let tail = next("let");
        (tail)
        (next("last"))
    };
    assert_eq!(page.to_html(), r#"<a href="attr">child</a>letlast"#);
    assert_eq!(log, ["attr", "child", "let", "last"]);
}

#[test]
fn optional_and_boolean_attribute_values() {
    let (none, some, empty): (Option<&str>, Option<String>, &str) = (None, Some("x".into()), "");
    let page = html! {
        input value=(none) placeholder=(&some) title=(empty) disabled=(true) readonly=(false) size=(Some(3));
    };
    assert_eq!(
        page.to_html(),
        r#"<input placeholder="x" title="" disabled size="3">"#
    );
}

#[test]
fn attribute_spreads() {
    let rest = vec![
        ("class", "wide".to_string()),
        ("data-x", "<\"y\">".to_string()),
    ];
    let optional = [("required", Some("")), ("placeholder", None)];
    let page = html! { input type="text" ..rest ..(optional) name="n"; };
    assert_eq!(
        page.to_html(),
        r#"<input type="text" class="wide" data-x="&lt;&quot;y&quot;&gt;" required="" name="n">"#
    );
    // A name that could break out of the tag is skipped.
    let hostile = [("onclick=alert(1) x", "1"), ("ok", "2")];
    assert_eq!(html! { b ..hostile {} }.to_html(), r#"<b ok="2"></b>"#);
}
