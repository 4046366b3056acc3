//! The `phx_error` push of a crashed view is a well-formed frame whatever join ref the client
//! chose (regression: it was built by replacing the first `,null,` of the push, which could be
//! inside a join ref such as `1,null,2`, producing invalid JSON).

use std::time::Duration;

use liveview_core::{
    html, Endpoint, LiveView, Meta, Outbound, Page, Rendered, Router, Session, Socket, ViewError,
    ViewResult,
};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Default)]
struct Failing;

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Event {
    Fail,
}

impl LiveView for Failing {
    type State = ();
    type Event = Event;
    type Info = ();

    async fn handle_event(&self, _: &mut Socket<Self>, _: Event) -> ViewResult {
        Err(ViewError::msg("failed"))
    }

    fn render(&self, _: &(), _: &Meta<'_>) -> Rendered {
        html! { p { "fragile" } }
    }
}

fn attribute(html: &str, marker: &str) -> String {
    let start = html.find(marker).unwrap() + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

#[tokio::test]
async fn phx_error_is_valid_json_for_any_join_ref() {
    let endpoint = Endpoint::builder(Router::new().live("/", Failing))
        .random_secret_key()
        .build()
        .unwrap();
    for join_ref in ["1,null,2", "\",null,\"", "null", "ü\n,null,"] {
        let Page::Html(html) = endpoint.render_page("/", Session::default()).await.unwrap() else {
            panic!("a page")
        };
        let topic = format!("lv:{}", attribute(&html, "<div id=\""));
        let (mut connection, mut rx) = endpoint.connect();
        let join = json!([join_ref, join_ref, topic, "phx_join", {
            "url": "http://localhost/",
            "params": {"_csrf_token": attribute(&html, "name=\"csrf-token\" content=\"")},
            "session": attribute(&html, "data-phx-session=\""),
        }]);
        connection.handle_text(&join.to_string()).await.unwrap();
        let event =
            json!([join_ref, "5", topic, "event", {"type": "click", "event": "fail", "value": {}}]);
        connection.handle_text(&event.to_string()).await.unwrap();
        let mut frames = Vec::new();
        for _ in 0..2 {
            match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
                Ok(Some(Outbound::Text(text))) => frames.push(text),
                other => panic!("expected a frame, got {other:?}"),
            }
        }
        let reply: Value = serde_json::from_str(&frames[0]).unwrap();
        assert_eq!(reply[4]["status"], json!("ok"), "{join_ref:?}: {reply}");
        let error: Value = serde_json::from_str(&frames[1])
            .unwrap_or_else(|error| panic!("{join_ref:?}: {error}: {}", frames[1]));
        assert_eq!(
            error,
            json!([join_ref, join_ref, topic, "phx_error", {"reason": "channel_crash"}]),
            "{join_ref:?}"
        );
    }
}
