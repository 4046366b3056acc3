//! A client speaking raw Phoenix frames to a `Connection` of the runtime (no socket, no
//! toolkit): the protocol tests assert on the exact frames.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use liveview_core::{Connection, Endpoint, Outbound, Page, Session};
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// The value of the first `marker…"` in `html`.
pub fn attribute(html: &str, marker: &str) -> String {
    let start = html.find(marker).unwrap() + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// A joined view over raw frames.
pub struct Client {
    pub connection: Connection,
    pub rx: mpsc::Receiver<Outbound>,
    pub topic: String,
    pub next: u32,
}

impl Client {
    /// Renders `/` of `endpoint`, then joins it; returns the client and the join reply.
    /// `check` sees the HTTP render's HTML first.
    pub async fn join_with(endpoint: Arc<Endpoint>, check: impl FnOnce(&str)) -> (Client, Value) {
        let Page::Html(html) = endpoint.render_page("/", Session::default()).await.unwrap() else {
            panic!("the page did not render")
        };
        check(&html);
        let id = attribute(&html, "<div id=\"");
        let (mut connection, rx) = endpoint.connect();
        let topic = format!("lv:{id}");
        let frame = json!(["1", "1", topic, "phx_join", {
            "url": "http://localhost/",
            "params": {"_csrf_token": attribute(&html, "name=\"csrf-token\" content=\"")},
            "session": attribute(&html, "data-phx-session=\""),
        }]);
        connection.handle_text(&frame.to_string()).await.unwrap();
        let mut client = Client {
            connection,
            rx,
            topic,
            next: 1,
        };
        let reply = client.recv().await;
        (client, reply)
    }

    /// Renders `/` of `endpoint` and joins it.
    pub async fn join(endpoint: Arc<Endpoint>) -> (Client, Value) {
        Self::join_with(endpoint, |_| {}).await
    }

    /// The next frame (within 5 s).
    pub async fn recv(&mut self) -> Value {
        match tokio::time::timeout(Duration::from_secs(5), self.rx.recv())
            .await
            .unwrap()
        {
            Some(Outbound::Text(text)) => serde_json::from_str(&text).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    /// Sends `event` with `payload` on the view's channel; returns the next frame.
    pub async fn push(&mut self, event: &str, payload: Value) -> Value {
        self.next += 1;
        let frame = json!(["1", self.next.to_string(), self.topic, event, payload]);
        self.connection
            .handle_text(&frame.to_string())
            .await
            .unwrap();
        self.recv().await
    }
}
