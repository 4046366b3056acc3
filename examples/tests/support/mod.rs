//! A protocol-level test client: fetches a page over HTTP, then speaks the Phoenix channel
//! protocol over a real WebSocket, like the browser client does.

#![allow(dead_code, unreachable_pub)]

pub mod upload;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Starts the examples server on a free loopback port.
pub async fn start() -> SocketAddr {
    let endpoint = examples::app(None).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(liveview_hyper::serve(
        listener,
        liveview_hyper::LiveService::new(endpoint),
    ));
    address
}

/// A plain HTTP/1.1 GET; returns the status code and body.
pub async fn get(address: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

/// A GET with a `Cookie` header; returns the status, the lower-cased headers and the body.
pub async fn get_with_cookie(
    address: SocketAddr,
    path: &str,
    cookie: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let status = response[9..12].parse().unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (status, head.to_lowercase(), body.to_owned())
}

/// A binary client push (kind 0): a 5-byte header with the lengths of join ref, ref, topic and
/// event, those strings, then the payload (how the client sends upload chunks).
pub fn binary_push(
    join_ref: &str,
    msg_ref: &str,
    topic: &str,
    event: &str,
    data: &[u8],
) -> Vec<u8> {
    let mut frame = vec![
        0,
        join_ref.len() as u8,
        msg_ref.len() as u8,
        topic.len() as u8,
        event.len() as u8,
    ];
    for part in [join_ref, msg_ref, topic, event] {
        frame.extend_from_slice(part.as_bytes());
    }
    frame.extend_from_slice(data);
    frame
}

/// What the client reads from a dead-rendered page.
#[derive(Debug, Clone)]
pub struct Page {
    pub id: String,
    pub session: String,
    pub csrf: String,
    pub html: String,
}

pub fn attribute(html: &str, marker: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

pub async fn page(address: SocketAddr, path: &str) -> Page {
    let (status, html) = get(address, path).await;
    assert_eq!(status, 200, "GET {path}");
    Page {
        id: attribute(&html, "<div id=\""),
        session: attribute(&html, "data-phx-session=\""),
        csrf: attribute(&html, "<meta name=\"csrf-token\" content=\""),
        html,
    }
}

pub struct Client {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_ref: u64,
}

impl Client {
    pub async fn connect(address: SocketAddr, csrf: &str) -> Client {
        let url = format!("ws://{address}/live/websocket?_csrf_token={csrf}&vsn=2.0.0");
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Client {
            socket,
            next_ref: 3,
        }
    }

    pub fn next_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.unwrap();
    }

    pub async fn send_binary(&mut self, data: Vec<u8>) {
        self.socket.send(Message::binary(data)).await.unwrap();
    }

    pub async fn push(
        &mut self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> String {
        let msg_ref = self.next_ref();
        let frame = serde_json::json!([join_ref, msg_ref, topic, event, payload]);
        self.send_text(&frame.to_string()).await;
        msg_ref
    }

    /// The next text frame (fails after 5 s).
    pub async fn recv(&mut self) -> Value {
        self.recv_raw()
            .await
            .map(|text| serde_json::from_str(&text).unwrap())
            .expect("a frame")
    }

    /// The next text frame as text, or None if the socket closed.
    pub async fn recv_raw(&mut self) -> Option<String> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), self.socket.next())
                .await
                .expect("a frame within 5 s");
            match message {
                Some(Ok(Message::Text(text))) => return Some(text.as_str().to_owned()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Joins the page's view; returns the join ref and the reply.
    pub async fn join(&mut self, page: &Page, url: &str) -> (String, Value) {
        let topic = format!("lv:{}", page.id);
        let join_ref = self.next_ref();
        let payload = serde_json::json!({
            "url": url,
            "params": {"_csrf_token": page.csrf, "_mounts": 0, "_mount_attempts": 0},
            "session": page.session,
            "static": null,
            "sticky": false,
        });
        let frame = serde_json::json!([join_ref, join_ref, topic, "phx_join", payload]);
        self.send_text(&frame.to_string()).await;
        let reply = self.recv().await;
        (join_ref, reply)
    }
}

/// Starts a server for `endpoint` (an example configured for the test) on a free loopback port.
pub async fn start_endpoint(endpoint: std::sync::Arc<liveview_core::Endpoint>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(liveview_hyper::serve(
        listener,
        liveview_hyper::LiveService::new(endpoint),
    ));
    address
}

/// Starts a server for `router` on a free loopback port.
pub async fn start_router(router: liveview_core::Router) -> SocketAddr {
    start_endpoint(examples::endpoint(router, None).unwrap()).await
}

/// A click-like `event` payload.
pub fn click(name: &str, value: Value) -> Value {
    serde_json::json!({"type": "click", "event": name, "value": value})
}

/// A form `event` payload (`value` is the URL-encoded form).
pub fn form(name: &str, encoded: &str, target: Option<&str>) -> Value {
    let meta = match target {
        Some(target) => serde_json::json!({"_target": target}),
        None => serde_json::json!({}),
    };
    serde_json::json!({"type": "form", "event": name, "value": encoded, "meta": meta, "uploads": {}})
}

/// A `phx-window-keydown` `event` payload.
pub fn keydown(name: &str, key: &str) -> Value {
    serde_json::json!({"type": "keydown", "event": name, "value": {"key": key}})
}

impl Client {
    /// The next text frame within `wait`, or `None` if none came (or the socket closed).
    pub async fn try_recv(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(wait, self.socket.next()).await.ok()?;
            match message {
                Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }
}

/// A client joined to one page's view.
pub struct Joined {
    pub address: SocketAddr,
    pub page: Page,
    pub client: Client,
    pub join_ref: String,
    pub topic: String,
    /// The join reply.
    pub reply: Value,
}

impl Joined {
    /// Renders `path` over HTTP, connects and joins its view.
    pub async fn open(address: SocketAddr, path: &str) -> Joined {
        let page = page(address, path).await;
        let mut client = Client::connect(address, &page.csrf).await;
        let (join_ref, reply) = client.join(&page, &format!("http://{address}{path}")).await;
        assert_eq!(
            reply[4]["status"],
            serde_json::json!("ok"),
            "join {path}: {reply}"
        );
        Joined {
            address,
            topic: format!("lv:{}", page.id),
            page,
            client,
            join_ref,
            reply,
        }
    }

    /// The join reply's rendered tree.
    pub fn rendered(&self) -> &Value {
        &self.reply[4]["response"]["rendered"]
    }

    /// Pushes `event` on this view's topic; returns the message ref.
    pub async fn push(&mut self, event: &str, payload: Value) -> String {
        let (join_ref, topic) = (self.join_ref.clone(), self.topic.clone());
        self.client
            .push(Some(&join_ref), &topic, event, payload)
            .await
    }

    /// Pushes an `event` and returns the reply's `response` (frames before it must be pushes,
    /// returned in `pushed`).
    pub async fn event(&mut self, payload: Value) -> Value {
        let msg_ref = self.push("event", payload).await;
        self.reply_to(&msg_ref).await
    }

    /// Pushes an `event` and returns the next frame, whatever it is.
    pub async fn event_raw(&mut self, payload: Value) -> Value {
        self.push("event", payload).await;
        self.client.recv().await
    }

    /// Waits for the reply to `msg_ref`, asserting it is `ok` and carries the join ref; returns
    /// its `response`.
    pub async fn reply_to(&mut self, msg_ref: &str) -> Value {
        let frame = self.client.recv().await;
        self.assert_reply(&frame, msg_ref);
        frame[4]["response"].clone()
    }

    /// Asserts `frame` is the `ok` reply to `msg_ref` on this view.
    pub fn assert_reply(&self, frame: &Value, msg_ref: &str) {
        assert_eq!(frame[0], serde_json::json!(self.join_ref), "{frame}");
        assert_eq!(frame[1], serde_json::json!(msg_ref), "{frame}");
        assert_eq!(frame[2], serde_json::json!(self.topic), "{frame}");
        assert_eq!(frame[3], serde_json::json!("phx_reply"), "{frame}");
        assert_eq!(frame[4]["status"], serde_json::json!("ok"), "{frame}");
    }

    /// Waits for a server push (`ref` null) on this view; returns `(event, payload)`.
    pub async fn pushed(&mut self) -> (String, Value) {
        let frame = self.client.recv().await;
        self.assert_push(&frame);
        (frame[3].as_str().unwrap().to_owned(), frame[4].clone())
    }

    /// Asserts `frame` is a server push on this view.
    pub fn assert_push(&self, frame: &Value) {
        assert_eq!(frame[0], serde_json::json!(self.join_ref), "{frame}");
        assert_eq!(frame[1], Value::Null, "a push has no ref: {frame}");
        assert_eq!(frame[2], serde_json::json!(self.topic), "{frame}");
    }

    /// Leaves the view: waits for the `phx_leave` reply, skipping the pushes queued before it,
    /// which are returned, and for the `phx_close` that follows it.
    pub async fn leave(&mut self) -> Vec<Value> {
        let msg_ref = self.push("phx_leave", serde_json::json!({})).await;
        let mut before = Vec::new();
        loop {
            let frame = self.client.recv().await;
            if frame[1] == serde_json::json!(msg_ref) {
                self.assert_reply(&frame, &msg_ref);
                assert_eq!(frame[4]["response"], serde_json::json!({}));
                let close = self.client.recv().await;
                assert_eq!(
                    close,
                    serde_json::json!([self.join_ref, self.join_ref, self.topic, "phx_close", {}]),
                    "phx_close follows the leave reply"
                );
                return before;
            }
            self.assert_push(&frame);
            before.push(frame);
        }
    }
}

/// A fresh client on the same server renders, joins, clicks and gets the diff.
pub async fn assert_server_works(address: SocketAddr) {
    let mut fresh = Joined::open(address, "/counter").await;
    assert_eq!(fresh.rendered()["0"], serde_json::json!("0"));
    let response = fresh
        .event(click("inc", serde_json::json!({"value": ""})))
        .await;
    assert_eq!(response, serde_json::json!({"diff": {"0": "1"}}));
}

/// The resident memory of this process, in bytes (Linux).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// The open file descriptors of this process (Linux).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A log writer for a test's `tracing` subscriber: everything written, kept for assertions.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// What was written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
