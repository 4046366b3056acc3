//! The JSON every command renders, checked against what the client's `js.js` reads.

use super::*;
use liveview_diff::html;

#[test]
fn every_command_encodes_as_the_client_reads_it() {
    let js = JS::show_with(
        "#a",
        VisibilityOpts {
            display: Some("flex".into()),
            time: Some(300),
            blocking: Some(false),
            ..Default::default()
        },
    )
    .toggle_with(
        Target::closest(".menu"),
        ToggleOpts {
            ins: Some(Transition::new("fade-in", "opacity-0", "opacity-100")),
            outs: Some("fade-out".into()),
            ..Default::default()
        },
    )
    .remove_class("a  b", Target::inner("li"))
    .transition("shake", Target::This, Some(500))
    .set_attribute("aria-expanded", "true", "#b")
    .remove_attribute("hidden", "#b")
    .toggle_attribute("open", "true", Some("false"), "#c")
    .ignore_attributes(&["open", "data-*"], Target::This)
    .dispatch_with(
        "copy",
        "#d",
        DispatchOpts {
            detail: Some(json!({"text": "hi"})),
            bubbles: Some(false),
            blocking: None,
        },
    )
    .push_with(
        "save",
        PushOpts {
            target: Some(PushTarget::Component(3)),
            loading: Some("#form".into()),
            page_loading: true,
            value: Some(json!({"id": 1})),
        },
    )
    .navigate_replace("/a")
    .patch("/b?x=1")
    .push_focus(Target::This)
    .focus_first("#m")
    .focus("#n")
    .pop_focus()
    .exec("data-cancel", Target::closest(".modal"));
    let value: Value = serde_json::from_str(&js.to_string()).unwrap();
    assert_eq!(
        value,
        json!([
            ["show", {"to": "#a", "display": "flex", "time": 300, "blocking": false}],
            ["toggle", {"to": {"closest": ".menu"}, "ins": [["fade-in"], ["opacity-0"], ["opacity-100"]], "outs": [["fade-out"], [], []]}],
            ["remove_class", {"names": ["a", "b"], "to": {"inner": "li"}}],
            ["transition", {"transition": [["shake"], [], []], "time": 500}],
            ["set_attr", {"attr": ["aria-expanded", "true"], "to": "#b"}],
            ["remove_attr", {"attr": "hidden", "to": "#b"}],
            ["toggle_attr", {"attr": ["open", "true", "false"], "to": "#c"}],
            ["ignore_attrs", {"attrs": ["open", "data-*"]}],
            ["dispatch", {"event": "copy", "to": "#d", "detail": {"text": "hi"}, "bubbles": false}],
            ["push", {"event": "save", "target": 3, "loading": "#form", "page_loading": true, "value": {"id": 1}}],
            ["navigate", {"href": "/a", "replace": true}],
            ["patch", {"href": "/b?x=1"}],
            ["push_focus", {}],
            ["focus_first", {"to": "#m"}],
            ["focus", {"to": "#n"}],
            ["pop_focus", {}],
            ["exec", {"attr": "data-cancel", "to": {"closest": ".modal"}}],
        ])
    );
}

#[test]
fn attribute_values_are_escaped() {
    let js = JS::hide(r#"[data-x="a'b"] > p"#).push("<x&y>");
    let html = html! { button phx-click=(&js) { "x" } }.to_html();
    assert_eq!(
        html,
        "<button phx-click=\"[[&quot;hide&quot;,{&quot;to&quot;:&quot;[data-x=\\&quot;a&#39;b\\&quot;] &gt; p&quot;}],[&quot;push&quot;,{&quot;event&quot;:&quot;&lt;x&amp;y&gt;&quot;}]]\">x</button>"
    );
}

#[test]
fn chains_concatenate() {
    let a = JS::push("a");
    let b = JsCommands::new().hide("#m");
    assert_eq!(
        a.then(b).to_string(),
        r##"[["push",{"event":"a"}],["hide",{"to":"#m"}]]"##
    );
    assert_eq!(JsCommands::new().to_string(), "[]");
}
