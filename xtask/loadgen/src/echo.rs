//! `echo-server`: the ceiling of `cargo xtask bench`. The same socket stack as our server
//! (hyper 1 HTTP/1.1, the upgrade handed to tokio-tungstenite with a 4 KiB read buffer), but no
//! LiveView: `GET /<anything>` answers a fixed page with the markers the load generator reads
//! (CSRF meta tag, container id, session), and every text frame on `/live/websocket` is
//! answered at once with a fixed `phx_reply` carrying the request's refs and topic.
//!
//! `PORT` sets the port (`0` picks a free one); prints `listening on http://127.0.0.1:PORT`.

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, SEC_WEBSOCKET_ACCEPT, UPGRADE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::IgnoredAny;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A page of the same shape as `liveview_core::default_layout` with the counter inside.
const PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"csrf-token\" content=\"echo-csrf-token-0123\">\n<link rel=\"icon\" href=\"data:,\">\n\
<title>Counter</title>\n<script defer src=\"/assets/app.js\"></script>\n</head>\n<body>\n\
<div id=\"phx-echo\" data-phx-main data-phx-session=\"echo-session-token\" data-phx-static=\"\">\
<div class=\"counter\"><h1>Count: 0</h1><button phx-click=\"dec\">-</button>\
<button phx-click=\"inc\">+</button></div><p><a href=\"/\">All examples</a></p></div>\n</body>\n</html>\n";

/// The join reply's response (the counter's rendered tree).
const JOIN_RESPONSE: &str = r#"{"status":"ok","response":{"rendered":{"0":"0","s":["<div class=\"counter\"><h1>Count: ","</h1><button phx-click=\"dec\">-</button><button phx-click=\"inc\">+</button></div><p><a href=\"/\">All examples</a></p>"],"t":"Counter"}}}"#;
/// Every other reply's response (an event's diff).
const EVENT_RESPONSE: &str = r#"{"status":"ok","response":{"diff":{"0":"1"}}}"#;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4200);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(port))
}

async fn serve(port: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("accept: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                .with_upgrades()
                .await;
        });
    }
}

async fn handle(
    mut request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path() != "/live/websocket" {
        let mut response = Response::new(Full::new(Bytes::from_static(PAGE.as_bytes())));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return Ok(response);
    }
    let Some(key) = request.headers().get("sec-websocket-key") else {
        let mut response = Response::new(Full::new(Bytes::from_static(
            b"expected a WebSocket upgrade",
        )));
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    };
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let config = WebSocketConfig::default()
                .read_buffer_size(4 * 1024)
                .write_buffer_size(0);
            let socket = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            echo(socket).await;
        }
    });
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    }
    Ok(response)
}

/// `[join_ref, ref, topic, event, payload]` with the payload skipped.
type Frame<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    &'a str,
    IgnoredAny,
);

async fn echo(socket: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>) {
    let (mut sink, mut stream) = socket.split();
    let mut reply = String::with_capacity(512);
    while let Some(Ok(message)) = stream.next().await {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => break,
            _ => continue,
        };
        let Ok((join_ref, msg_ref, topic, event, _)) = serde_json::from_str::<Frame<'_>>(&text)
        else {
            continue;
        };
        reply.clear();
        reply.push('[');
        push_ref(&mut reply, join_ref);
        reply.push(',');
        push_ref(&mut reply, msg_ref);
        reply.push_str(",\"");
        reply.push_str(topic);
        reply.push_str("\",\"phx_reply\",");
        reply.push_str(match event {
            "phx_join" => JOIN_RESPONSE,
            "heartbeat" | "phx_leave" => r#"{"status":"ok","response":{}}"#,
            _ => EVENT_RESPONSE,
        });
        reply.push(']');
        if sink.send(Message::text(reply.as_str())).await.is_err() {
            break;
        }
    }
}

fn push_ref(out: &mut String, value: Option<&str>) {
    match value {
        Some(value) => {
            out.push('"');
            out.push_str(value);
            out.push('"');
        }
        None => out.push_str("null"),
    }
}
