//! Bad input over real sockets: every malformed, out-of-order, oversized, forged or foreign
//! input gets an exact error reply (and the socket keeps working) or a clean close of that
//! socket only (exact close code), and afterwards a fresh client on the same server still
//! joins and gets its diffs.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::{assert_server_works, binary_push, page, start, Client, Joined};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// The largest message the examples server accepts (`Config::default().max_frame_bytes`).
const MAX_FRAME_BYTES: usize = 1 << 20;

/// How a socket ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// A close frame: its code and reason, or `None` for a close frame without a status.
    Close(Option<(u16, String)>),
    /// The connection was reset (or ended) without a close frame.
    Reset,
}

/// Reads until the socket ends (fails on a text frame or after 5 s).
async fn ended(client: &mut Client) -> Ended {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), client.socket.next())
            .await
            .expect("the socket ends within 5 s");
        match message {
            Some(Ok(Message::Close(frame))) => {
                return Ended::Close(
                    frame.map(|frame| (u16::from(frame.code), frame.reason.as_str().to_owned())),
                )
            }
            Some(Ok(Message::Text(text))) => panic!("expected the socket to close, got {text}"),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Ended::Reset,
        }
    }
}

/// The close the server sends when a client breaks the protocol.
fn policy_close() -> Ended {
    Ended::Close(Some((1008, "protocol violation".to_owned())))
}

/// A connected client with a page's CSRF token (not joined).
async fn client(address: SocketAddr) -> Client {
    let page = page(address, "/counter").await;
    Client::connect(address, &page.csrf).await
}

/// Sends a heartbeat and asserts its exact reply: the socket still works.
async fn assert_heartbeat(client: &mut Client) {
    let msg_ref = client.push(None, "phoenix", "heartbeat", json!({})).await;
    assert_eq!(
        client.recv_raw().await.unwrap(),
        format!(r#"[null,"{msg_ref}","phoenix","phx_reply",{{"status":"ok","response":{{}}}}]"#)
    );
}

/// The exact error reply `[join_ref, ref, topic, "phx_reply", {error, reason}]`.
fn error_reply(join_ref: Option<&str>, msg_ref: &str, topic: &str, reason: &str) -> Value {
    json!([join_ref, msg_ref, topic, "phx_reply", {"status": "error", "response": {"reason": reason}}])
}

// ------------------------------------------------------------------ raw WebSocket

/// A WebSocket spoken by hand over TCP, to send what tungstenite refuses to send.
struct RawSocket {
    stream: TcpStream,
}

/// An HTTP response head and body.
struct RawResponse {
    status: u16,
    head: String,
    body: String,
}

/// Sends a WebSocket upgrade request for `/live/websocket` with `extra` header lines; returns
/// the response and, on `101`, the socket.
async fn raw_upgrade(address: SocketAddr, extra: &str) -> (RawResponse, Option<RawSocket>) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET /live/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Byte by byte up to the blank line: what follows a 101 belongs to the WebSocket.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.expect("a complete response head"));
    }
    let head = String::from_utf8(head).unwrap();
    let status = head[9..12].parse().unwrap();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.unwrap();
    let response = RawResponse {
        status,
        head,
        body: String::from_utf8(body).unwrap(),
    };
    let socket = (status == 101).then_some(RawSocket { stream });
    (response, socket)
}

impl RawSocket {
    async fn open(address: SocketAddr) -> RawSocket {
        let (response, socket) = raw_upgrade(address, "").await;
        assert_eq!(response.status, 101, "{}", response.head);
        // The accept key of RFC 6455's example key.
        assert!(
            response
                .head
                .to_ascii_lowercase()
                .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
            "{}",
            response.head
        );
        socket.unwrap()
    }

    /// Writes a client frame header (FIN, `opcode`, masked, declared `length`), then `payload`
    /// masked (which may be shorter than declared).
    async fn send_frame(&mut self, opcode: u8, length: u64, payload: &[u8]) {
        let mut frame = vec![0x80 | opcode];
        match length {
            0..=125 => frame.push(0x80 | length as u8),
            126..=0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(length as u16).to_be_bytes());
            }
            _ => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&length.to_be_bytes());
            }
        }
        let mask = [0x12, 0x34, 0x56, 0x78];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).await.unwrap();
    }

    /// Reads one server frame: `(opcode, payload)`, or `None` at the end of the stream.
    async fn read_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let read = async {
            let first = self.stream.read_u8().await.ok()?;
            let second = self.stream.read_u8().await.ok()?;
            assert_eq!(second & 0x80, 0, "server frames are not masked");
            let length = match second & 0x7f {
                126 => u64::from(self.stream.read_u16().await.ok()?),
                127 => self.stream.read_u64().await.ok()?,
                short => u64::from(short),
            };
            let mut payload = vec![0; length as usize];
            self.stream.read_exact(&mut payload).await.ok()?;
            Some((first & 0x0f, payload))
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("a frame or the end of the stream within 5 s")
    }

    /// Asserts the server sends exactly a close frame with status `code` (RFC 6455 §7.4.1), then
    /// ends the stream.
    async fn assert_closed_with(&mut self, code: u16) {
        let (opcode, payload) = self.read_frame().await.expect("a close frame");
        assert_eq!(opcode, 0x8, "a close frame");
        assert_eq!(
            payload.get(..2),
            Some(&code.to_be_bytes()[..]),
            "close code {code}"
        );
        assert_eq!(
            self.read_frame().await,
            None,
            "the stream ends after the close"
        );
    }
}

// ------------------------------------------------------------------ frames that close

#[tokio::test]
async fn malformed_json_closes_that_socket_with_1008() {
    let address = start().await;
    let mut healthy = client(address).await;
    for garbage in [
        "not json",
        "",
        "[",
        r#"["1","2","phoenix","heartbeat",{}"#,
        r#"["1","2","phoenix","heartbeat",{}]x"#,
        "{}",
        "null",
        r#""heartbeat""#,
    ] {
        let mut bad = client(address).await;
        bad.send_text(garbage).await;
        assert_eq!(ended(&mut bad).await, policy_close(), "{garbage:?}");
    }
    assert_heartbeat(&mut healthy).await;
    assert_server_works(address).await;
}

#[tokio::test]
async fn wrong_arity_and_wrong_types_close_that_socket_with_1008() {
    let address = start().await;
    for garbage in [
        "[]",
        r#"["1","2","phoenix","heartbeat"]"#,
        r#"["1","2","phoenix","heartbeat",{},{}]"#,
        r#"[1,"2","phoenix","heartbeat",{}]"#,
        r#"[null,2,"phoenix","heartbeat",{}]"#,
        r#"[null,"2",null,"heartbeat",{}]"#,
        r#"[null,"2","phoenix",["heartbeat"],{}]"#,
    ] {
        let mut bad = client(address).await;
        bad.send_text(garbage).await;
        assert_eq!(ended(&mut bad).await, policy_close(), "{garbage:?}");
    }
    assert_server_works(address).await;
}

#[tokio::test]
async fn non_object_payloads_close_that_socket_with_1008() {
    let address = start().await;
    let page = page(address, "/counter").await;
    let topic = format!("lv:{}", page.id);
    for payload in ["[]", r#""x""#, "1", "null", "true"] {
        let mut bad = client(address).await;
        bad.send_text(&format!(r#"[null,"2","phoenix","heartbeat",{payload}]"#))
            .await;
        assert_eq!(ended(&mut bad).await, policy_close(), "{payload}");
    }
    // Also on a joined view's topic: the view goes with its socket.
    let mut joined = Client::connect(address, &page.csrf).await;
    let (join_ref, reply) = joined
        .join(&page, &format!("http://{address}/counter"))
        .await;
    assert_eq!(reply[4]["status"], json!("ok"));
    joined
        .send_text(&format!(r#"["{join_ref}","9","{topic}","event","inc"]"#))
        .await;
    assert_eq!(ended(&mut joined).await, policy_close());
    assert_server_works(address).await;
}

#[tokio::test]
async fn binary_garbage_closes_that_socket_with_1008() {
    let address = start().await;
    let mut invalid_utf8_header = binary_push("1", "2", "lvu:0", "chunk", b"data");
    invalid_utf8_header[5] = 0xff;
    for garbage in [
        Vec::new(),
        vec![7, 1, 2],
        vec![1, 0, 0, 0, 0],
        vec![0, 0, 0, 0],
        vec![0, 9, 0, 0, 0, 1],
        vec![0, 255, 255, 255, 255],
        invalid_utf8_header,
    ] {
        let mut bad = client(address).await;
        bad.socket
            .send(Message::binary(garbage.clone()))
            .await
            .unwrap();
        assert_eq!(ended(&mut bad).await, policy_close(), "{garbage:?}");
    }
    assert_server_works(address).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_closes_that_socket() {
    let address = start().await;
    let mut healthy = client(address).await;
    let mut raw = RawSocket::open(address).await;
    // A valid frame first: the hand-made socket speaks the protocol.
    let heartbeat = br#"[null,"1","phoenix","heartbeat",{}]"#;
    raw.send_frame(0x1, heartbeat.len() as u64, heartbeat).await;
    let (opcode, reply) = raw.read_frame().await.unwrap();
    assert_eq!(opcode, 0x1);
    assert_eq!(
        String::from_utf8(reply).unwrap(),
        r#"[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]"#
    );
    // Text frames must be UTF-8 (RFC 6455 §5.6): tungstenite refuses the message.
    raw.send_frame(0x1, 4, &[b'[', 0xff, 0xfe, b']']).await;
    raw.assert_closed_with(1007).await;
    assert_heartbeat(&mut healthy).await;
    assert_server_works(address).await;
}

#[tokio::test]
async fn frames_over_the_max_size_close_that_socket() {
    let address = start().await;
    let mut healthy = client(address).await;

    // A frame header declaring one byte over the limit is refused before its payload is read.
    let mut raw = RawSocket::open(address).await;
    raw.send_frame(0x1, MAX_FRAME_BYTES as u64 + 1, b"[null,\"1\"")
        .await;
    raw.assert_closed_with(1009).await;
    // A binary one too.
    let mut raw = RawSocket::open(address).await;
    raw.send_frame(0x2, 1 << 40, &[0; 16]).await;
    raw.assert_closed_with(1009).await;

    // A real oversized message, sent whole: the server stops reading at its header, so the
    // rest is unread when it closes, and the kernel may reset the connection before the
    // client reads the close frame: either way the socket is over.
    let mut bad = client(address).await;
    let huge = format!(
        r#"[null,"1","phoenix","heartbeat",{{"x":"{}"}}]"#,
        "a".repeat(MAX_FRAME_BYTES)
    );
    let _ = bad.socket.send(Message::text(huge)).await;
    let end = ended(&mut bad).await;
    assert!(
        matches!(&end, Ended::Close(Some((1009, _))) | Ended::Reset),
        "{end:?}"
    );

    // Exactly at the limit is accepted.
    let mut fits = client(address).await;
    let padding = MAX_FRAME_BYTES - r#"[null,"1","phoenix","heartbeat",{"x":""}]"#.len();
    fits.send_text(&format!(
        r#"[null,"1","phoenix","heartbeat",{{"x":"{}"}}]"#,
        "a".repeat(padding)
    ))
    .await;
    assert_eq!(
        fits.recv_raw().await.unwrap(),
        r#"[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]"#
    );

    assert_heartbeat(&mut healthy).await;
    assert_server_works(address).await;
}

// ------------------------------------------------------------------ error replies

#[tokio::test]
async fn unknown_topics_get_unmatched_topic() {
    let address = start().await;
    let mut client = client(address).await;
    for (join_ref, topic, event) in [
        (Some("1"), "nope", "event"),
        (None, "room:lobby", "new_msg"),
        (Some("3"), "room:lobby", "phx_join"),
        (Some("4"), "lv:", "event"),
        (Some("5"), "", "phx_join"),
    ] {
        let msg_ref = client.push(join_ref, topic, event, json!({})).await;
        // A join without a join ref uses its ref.
        let expected_join_ref = match (join_ref, event) {
            (None, "phx_join") => Some(msg_ref.as_str()),
            _ => join_ref,
        };
        assert_eq!(
            client.recv().await,
            error_reply(expected_join_ref, &msg_ref, topic, "unmatched topic"),
            "{topic} {event}"
        );
    }
    assert_heartbeat(&mut client).await;
    assert_server_works(address).await;
}

#[tokio::test]
async fn unknown_events_get_unknown_event() {
    let address = start().await;
    let mut view = Joined::open(address, "/counter").await;
    let (join_ref, topic) = (view.join_ref.clone(), view.topic.clone());

    let msg_ref = view.client.push(None, "phoenix", "nope", json!({})).await;
    assert_eq!(
        view.client.recv().await,
        error_reply(None, &msg_ref, "phoenix", "unknown event")
    );
    // An unknown channel event.
    let msg_ref = view.push("no_such_channel_event", json!({})).await;
    assert_eq!(
        view.client.recv().await,
        error_reply(Some(&join_ref), &msg_ref, &topic, "unknown event")
    );
    // An event the view does not handle.
    let msg_ref = view.push("event", support::click("nope", json!({}))).await;
    assert_eq!(
        view.client.recv().await,
        error_reply(Some(&join_ref), &msg_ref, &topic, "unknown event")
    );
    // An event payload without an event name, and one whose name is not a string.
    for payload in [
        json!({"type": "click", "value": {}}),
        json!({"type": "click", "event": 5}),
    ] {
        let msg_ref = view.push("event", payload).await;
        assert_eq!(
            view.client.recv().await,
            error_reply(Some(&join_ref), &msg_ref, &topic, "malformed event")
        );
    }
    // Malformed live_patch, allow_upload and progress payloads.
    for (event, reason) in [
        ("live_patch", "malformed live_patch"),
        ("allow_upload", "malformed allow_upload"),
        ("progress", "malformed progress"),
    ] {
        let msg_ref = view.push(event, json!({"url": 1, "ref": 2})).await;
        assert_eq!(
            view.client.recv().await,
            error_reply(Some(&join_ref), &msg_ref, &topic, reason),
            "{event}"
        );
    }
    // The view carries on.
    let response = view.event(support::click("inc", json!({}))).await;
    assert_eq!(response, json!({"diff": {"0": "1"}}));
    assert_server_works(address).await;
}

#[tokio::test]
async fn event_values_of_the_wrong_type_are_refused_naming_the_field() {
    let address = start().await;
    let mut table = Joined::open(address, "/table").await;
    // `bump` takes `{"id": String}`: a known event with a bad value is not "unknown event".
    for (value, field) in [
        (json!({"id": 5}), "`id`"),
        (json!({}), "missing field `id`"),
        (json!("5"), "invalid type"),
        (json!([1]), "invalid"),
    ] {
        let msg_ref = table.push("event", support::click("bump", value)).await;
        let reply = table.client.recv().await;
        assert_eq!(reply[1], json!(msg_ref));
        assert_eq!(reply[4]["status"], json!("error"));
        assert_eq!(reply[4]["response"]["reason"], json!("invalid value"));
        let message = reply[4]["response"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{message}");
    }
    let response = table
        .event(support::click("bump", json!({"id": "5", "value": ""})))
        .await;
    assert_eq!(
        response,
        json!({"diff": {"0": {"k": {"4": {"3": "1"}, "kc": 100}}}})
    );
    assert_server_works(address).await;
}

#[tokio::test]
async fn messages_before_the_join_get_unmatched_topic() {
    let address = start().await;
    let page = page(address, "/counter").await;
    let topic = format!("lv:{}", page.id);
    let mut client = Client::connect(address, &page.csrf).await;

    let msg_ref = client
        .push(Some("1"), &topic, "event", support::click("inc", json!({})))
        .await;
    assert_eq!(
        client.recv().await,
        error_reply(Some("1"), &msg_ref, &topic, "unmatched topic")
    );
    let msg_ref = client
        .push(None, &topic, "live_patch", json!({"url": "/counter"}))
        .await;
    assert_eq!(
        client.recv().await,
        error_reply(None, &msg_ref, &topic, "unmatched topic")
    );
    // Leaving a channel never joined is fine.
    let msg_ref = client.push(Some("1"), &topic, "phx_leave", json!({})).await;
    assert_eq!(
        client.recv().await,
        json!(["1", msg_ref, topic, "phx_reply", {"status": "ok", "response": {}}])
    );
    // An upload chunk before any upload join.
    client
        .socket
        .send(Message::binary(binary_push(
            "7", "8", "lvu:0", "chunk", b"data",
        )))
        .await
        .unwrap();
    assert_eq!(
        client.recv().await,
        error_reply(Some("7"), "8", "lvu:0", "unmatched topic")
    );
    // A binary push to a view topic.
    client
        .socket
        .send(Message::binary(binary_push(
            "7", "9", &topic, "event", b"{}",
        )))
        .await
        .unwrap();
    assert_eq!(
        client.recv().await,
        error_reply(Some("7"), "9", &topic, "unmatched topic")
    );

    // Then the join works on the same socket.
    let (_, reply) = client
        .join(&page, &format!("http://{address}/counter"))
        .await;
    assert_eq!(reply[4]["status"], json!("ok"));
    assert_server_works(address).await;
}

#[tokio::test]
async fn joining_the_same_topic_twice_replaces_the_old_instance() {
    let address = start().await;
    let mut view = Joined::open(address, "/counter").await;
    let old_join_ref = view.join_ref.clone();
    let response = view.event(support::click("inc", json!({}))).await;
    assert_eq!(response, json!({"diff": {"0": "1"}}));

    let url = format!("http://{address}/counter");
    let (new_join_ref, reply) = view.client.join(&view.page, &url).await;
    assert_eq!(reply[0], json!(new_join_ref));
    assert_eq!(reply[4]["status"], json!("ok"));
    assert_eq!(
        reply[4]["response"]["rendered"]["0"],
        json!("0"),
        "a fresh mount"
    );
    view.join_ref = new_join_ref;

    // A message for the old instance is dropped without a reply: the next frame is the reply
    // to the message after it.
    let topic = view.topic.clone();
    view.client
        .push(
            Some(&old_join_ref),
            &topic,
            "event",
            support::click("inc", json!({})),
        )
        .await;
    let response = view.event(support::click("inc", json!({}))).await;
    assert_eq!(response, json!({"diff": {"0": "1"}}));
    assert_server_works(address).await;
}

// ------------------------------------------------------------------ refused joins

#[tokio::test]
async fn forged_sessions_are_refused_as_stale() {
    let address = start().await;
    let page = page(address, "/counter").await;
    let url = format!("http://{address}/counter");
    let topic = format!("lv:{}", page.id);
    let mut client = Client::connect(address, &page.csrf).await;

    // A token signed by another server (another secret key).
    let other = examples::app(Some(b"another-secret-key-of-32-bytes-or-more"))
        .unwrap()
        .render_page("/counter", Default::default())
        .await
        .unwrap();
    let liveview_core::Page::Html(other) = other else {
        panic!("a page")
    };
    let other_session = support::attribute(&other, "data-phx-session=\"");
    // The payload part of the token changed, the signature kept.
    let (payload, signature) = page.session.split_once('.').unwrap();
    let mut tampered = payload.as_bytes().to_vec();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{}.{signature}", String::from_utf8(tampered).unwrap());

    for session in [
        json!(format!("{}x", page.session)),
        json!(tampered),
        json!(other_session),
        json!(""),
        json!("not.a.token"),
        json!(42),
        Value::Null,
    ] {
        let join_ref = client.next_ref();
        let payload = json!({"url": url, "params": {"_csrf_token": page.csrf}, "session": session});
        client
            .send_text(&json!([join_ref, join_ref, topic, "phx_join", payload]).to_string())
            .await;
        assert_eq!(
            client.recv().await,
            error_reply(Some(&join_ref), &join_ref, &topic, "stale"),
            "{session}"
        );
    }
    // No session at all.
    let join_ref = client.next_ref();
    let payload = json!({"url": url, "params": {"_csrf_token": page.csrf}});
    client
        .send_text(&json!([join_ref, join_ref, topic, "phx_join", payload]).to_string())
        .await;
    assert_eq!(
        client.recv().await,
        error_reply(Some(&join_ref), &join_ref, &topic, "stale")
    );
    // The genuine token still joins on the same socket.
    assert_eq!(client.join(&page, &url).await.1[4]["status"], json!("ok"));
    assert_server_works(address).await;
}

#[tokio::test]
async fn missing_or_wrong_csrf_tokens_are_refused_as_stale() {
    let address = start().await;
    let page = page(address, "/counter").await;
    let other = support::page(address, "/counter").await;
    let url = format!("http://{address}/counter");
    let topic = format!("lv:{}", page.id);
    let mut client = Client::connect(address, &page.csrf).await;
    for params in [
        json!({}),
        json!({"_csrf_token": ""}),
        json!({"_csrf_token": "not-the-token"}),
        json!({"_csrf_token": other.csrf}),
        json!({"_csrf_token": 5}),
        json!({"_csrf_token": [page.csrf]}),
    ] {
        let join_ref = client.next_ref();
        let payload = json!({"url": url, "params": params, "session": page.session});
        client
            .send_text(&json!([join_ref, join_ref, topic, "phx_join", payload]).to_string())
            .await;
        assert_eq!(
            client.recv().await,
            error_reply(Some(&join_ref), &join_ref, &topic, "stale"),
            "{params}"
        );
    }
    // `params` that is not an object is a malformed join: stale as well.
    let join_ref = client.next_ref();
    let payload = json!({"url": url, "params": "x", "session": page.session});
    client
        .send_text(&json!([join_ref, join_ref, topic, "phx_join", payload]).to_string())
        .await;
    assert_eq!(
        client.recv().await,
        error_reply(Some(&join_ref), &join_ref, &topic, "stale")
    );
    assert_eq!(client.join(&page, &url).await.1[4]["status"], json!("ok"));
    assert_server_works(address).await;
}

#[tokio::test]
async fn a_token_for_another_route_or_view_is_refused() {
    let address = start().await;
    let counter = page(address, "/counter").await;
    let table = page(address, "/table").await;
    let mut client = Client::connect(address, &counter.csrf).await;

    // The counter page's own token and topic, joined at the table's URL.
    let (join_ref, reply) = client
        .join(&counter, &format!("http://{address}/table"))
        .await;
    let counter_topic = format!("lv:{}", counter.id);
    assert_eq!(
        reply,
        error_reply(Some(&join_ref), &join_ref, &counter_topic, "unauthorized")
    );
    // A URL no route matches.
    let (join_ref, reply) = client
        .join(&counter, &format!("http://{address}/nope"))
        .await;
    assert_eq!(
        reply,
        error_reply(Some(&join_ref), &join_ref, &counter_topic, "unauthorized")
    );
    // The table page's token on the counter's topic: bound to another view id.
    let mut swapped = table.clone();
    swapped.id = counter.id.clone();
    let (join_ref, reply) = client
        .join(&swapped, &format!("http://{address}/table"))
        .await;
    assert_eq!(
        reply,
        error_reply(Some(&join_ref), &join_ref, &counter_topic, "stale")
    );
    // A join without a URL.
    let join_ref = client.next_ref();
    let payload = json!({"params": {"_csrf_token": counter.csrf}, "session": counter.session});
    client
        .send_text(&json!([join_ref, join_ref, counter_topic, "phx_join", payload]).to_string())
        .await;
    assert_eq!(
        client.recv().await,
        error_reply(Some(&join_ref), &join_ref, &counter_topic, "stale")
    );
    // Each page still joins its own view.
    let (_, reply) = client
        .join(&table, &format!("http://{address}/table"))
        .await;
    assert_eq!(reply[4]["status"], json!("ok"));
    let (_, reply) = client
        .join(&counter, &format!("http://{address}/counter"))
        .await;
    assert_eq!(reply[4]["status"], json!("ok"));
    assert_server_works(address).await;
}

#[tokio::test]
async fn upload_joins_with_garbage_tokens_are_refused() {
    let address = start().await;
    let mut client = client(address).await;
    let invalid = |join_ref: &str, topic: &str| json!([join_ref, join_ref, topic, "phx_reply", {"status": "error", "response": {"reason": "invalid_token"}}]);
    for (topic, payload) in [
        ("lvu:0", json!({"token": "garbage"})),
        ("lvu:0", json!({"token": "a.b.c"})),
        ("lvu:0", json!({"token": ""})),
        ("lvu:0", json!({"token": 7})),
        ("lvu:0", json!({})),
        ("lvu:", json!({"token": "garbage"})),
    ] {
        let join_ref = client.next_ref();
        client
            .send_text(&json!([join_ref, join_ref, topic, "phx_join", payload]).to_string())
            .await;
        assert_eq!(
            client.recv().await,
            invalid(&join_ref, topic),
            "{topic} {payload}"
        );
    }
    // Unknown events on an upload topic, and chunks after the refused join.
    let msg_ref = client.push(Some("1"), "lvu:0", "nope", json!({})).await;
    assert_eq!(
        client.recv().await,
        error_reply(Some("1"), &msg_ref, "lvu:0", "unknown event")
    );
    client
        .socket
        .send(Message::binary(binary_push(
            "1", "2", "lvu:0", "chunk", b"data",
        )))
        .await
        .unwrap();
    assert_eq!(
        client.recv().await,
        error_reply(Some("1"), "2", "lvu:0", "unmatched topic")
    );
    assert_heartbeat(&mut client).await;
    assert_server_works(address).await;
}

// ------------------------------------------------------------------ the upgrade

#[tokio::test]
async fn a_foreign_origin_gets_403_on_the_upgrade() {
    let address = start().await;
    for origin in [
        "http://evil.example",
        "https://evil.example",
        "null",
        &format!("http://{address}.evil.example"),
        &format!("ftp://{address}"),
    ] {
        let (response, socket) = raw_upgrade(address, &format!("Origin: {origin}\r\n")).await;
        assert_eq!(response.status, 403, "{origin}: {}", response.head);
        assert_eq!(response.body, "origin not allowed");
        assert!(socket.is_none());
    }
    // The page's own origin passes.
    let (response, _socket) = raw_upgrade(address, &format!("Origin: http://{address}\r\n")).await;
    assert_eq!(response.status, 101, "{}", response.head);
    // Not an upgrade at all.
    let (status, body) = support::get(address, "/live/websocket").await;
    assert_eq!(
        (status, body.as_str()),
        (400, "expected a WebSocket upgrade")
    );
    assert_server_works(address).await;
}
