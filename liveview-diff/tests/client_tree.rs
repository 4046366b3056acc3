//! `ClientTree` on hand-written payloads: keyed moves, components sharing statics, streams kept
//! as the DOM keeps them, extraction of title/events/reply. (The diff property test checks it
//! against the real client on generated ones.)

use liveview_diff::client::ClientTree;
use serde_json::{json, Value};

fn tree(join: Value) -> ClientTree {
    ClientTree::join(join).expect("join").0
}

#[test]
fn keyed_moves_read_old_positions() {
    let mut t = tree(json!({"0":{"k":{"0":{"0":"a"},"1":{"0":"b"},"kc":2},"s":0},
        "p":{"0":["<li>","</li>"]},"s":["<ul>","</ul>"]}));
    assert_eq!(t.html(), "<ul><li>a</li><li>b</li></ul>");
    t.apply(json!({"0":{"k":{"0":1,"1":[0,{"0":"a!"}],"2":{"0":"c"},"kc":3,"km":true}}}))
        .unwrap();
    assert_eq!(t.html(), "<ul><li>b</li><li>a!</li><li>c</li></ul>");
    t.apply(json!({"0":{"k":{"kc":1}}})).unwrap();
    assert_eq!(t.html(), "<ul><li>b</li></ul>");
    let err = t.apply(json!({"0":{"k":{"0":0,"kc":1}}})).unwrap_err();
    assert!(err.to_string().contains("km"), "{err}");
}

#[test]
fn components_share_statics_and_get_annotated() {
    let mut t = tree(json!({"0":1,"1":2,"s":["<div>","","</div>"],
        "c":{"1":{"0":"A","r":1,"s":["<p>","</p>"]},"2":{"0":"B","s":1}}}));
    assert_eq!(
        t.html(),
        "<div><p data-phx-component=\"1\">A</p><p data-phx-component=\"2\">B</p></div>"
    );
    t.apply(json!({"c":{"2":{"0":"B2"}}})).unwrap();
    assert_eq!(t.plain_html().unwrap(), "<div><p>A</p><p>B2</p></div>");
    t.apply(json!({"1":"","c":{"3":{"0":"C","s":-1}},"0":3}))
        .unwrap();
    assert_eq!(t.plain_html().unwrap(), "<div><p>C</p></div>");
    assert_eq!(t.orphaned_cids(), vec![1, 2]);
    t.prune_cids(&[1, 2]);
    assert_eq!(t.component_cids(), vec![3]);
}

#[test]
fn stream_items_outlive_their_diff() {
    let mut t = tree(
        json!({"0":{"s":0,"k":{"0":{"0":"m-1","1":"one"},"1":{"0":"m-2","1":"two"},"kc":2},
        "stream":["0",[["m-2",-1,null,null],["m-1",-1,null,null]],[]]},
        "s":["<ul>","</ul>"],"p":{"0":["<li id=\"","\">","</li>"]}}),
    );
    assert_eq!(
        t.html(),
        "<ul><li id=\"m-1\">one</li><li id=\"m-2\">two</li></ul>"
    );
    t.apply(json!({"0":{"k":{"0":{"0":"m-0","1":"zero"},"kc":1},"stream":["0",[["m-0",0,null,false]],[]]}})).unwrap();
    assert_eq!(
        t.html(),
        "<ul><li id=\"m-0\">zero</li><li id=\"m-1\">one</li><li id=\"m-2\">two</li></ul>"
    );
    t.apply(json!({"0":{"k":{"0":{"0":"m-1","1":"ONE"},"kc":1},"stream":["0",[["m-1",-1,2,false]],["m-2"]]}})).unwrap();
    assert_eq!(
        t.html(),
        "<ul><li id=\"m-0\">zero</li><li id=\"m-1\">ONE</li></ul>"
    );
    t.apply(json!({"0":{"k":{"0":{"0":"m-9","1":"nine"},"kc":1},"stream":["0",[["m-9",-1,-1,false]],[],true]}})).unwrap();
    assert_eq!(t.html(), "<ul><li id=\"m-9\">nine</li></ul>");
    // A diff elsewhere keeps the items.
    t.apply(json!({})).unwrap();
    assert_eq!(t.html(), "<ul><li id=\"m-9\">nine</li></ul>");
}

#[test]
fn extracts_title_events_reply_and_refuses_undefined() {
    let (mut t, applied) =
        ClientTree::join(json!({"0":"x","s":["<b>","</b>"],"t":"T","r":1})).unwrap();
    assert_eq!(applied.title.as_deref(), Some("T"));
    assert_eq!(applied.reply, None);
    let applied = t.apply(json!({"r":{"answer":42}})).unwrap();
    assert_eq!(applied.reply, Some(json!({"answer":42})));
    assert!(ClientTree::join(json!({"s":["<b>","</b>"]})).is_err());
}
