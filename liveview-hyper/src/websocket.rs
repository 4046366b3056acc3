//! The `/live/websocket` upgrade and the socket loop that feeds a `liveview_core::Connection`.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::header::{
    HeaderValue, CONNECTION, HOST, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use liveview_core::{Endpoint, Outbound};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::service::text;

/// Validates the upgrade request and answers `101 Switching Protocols`; the socket is served
/// in a task of its own once hyper hands it over.
pub(crate) fn upgrade<B>(
    endpoint: Arc<Endpoint>,
    mut request: Request<B>,
) -> Response<Full<Bytes>> {
    let headers = request.headers();
    let is_upgrade = headers
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let version_ok = headers
        .get(SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    let Some(key) = headers
        .get(SEC_WEBSOCKET_KEY)
        .filter(|_| is_upgrade && version_ok)
    else {
        return text(StatusCode::BAD_REQUEST, "expected a WebSocket upgrade");
    };
    if !same_origin(&request) {
        tracing::warn!(target: "liveview::rejection", origin = ?request.headers().get(ORIGIN), "websocket refused: origin");
        return text(StatusCode::FORBIDDEN, "origin not allowed");
    }
    let accept = derive_accept_key(key.as_bytes());
    let query = request.uri().query().unwrap_or("").to_owned();
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let max = endpoint.config().max_frame_bytes;
                let config = WebSocketConfig::default()
                    .read_buffer_size(4 * 1024)
                    .write_buffer_size(0)
                    .max_message_size(Some(max))
                    .max_frame_size(Some(max));
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                run(endpoint, socket, &query).await;
            }
            Err(error) => tracing::debug!(%error, "websocket upgrade failed"),
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
    response
}

/// Same-origin check: a browser always sends `Origin` on WebSocket handshakes; its host must be
/// the `Host` the page was served from. Requests without `Origin` (non-browser clients) pass.
fn same_origin<B>(request: &Request<B>) -> bool {
    let Some(origin) = request.headers().get(ORIGIN) else {
        return true;
    };
    let Some(host) = request.headers().get(HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or("");
    origin_host.eq_ignore_ascii_case(host)
}

async fn run<S>(endpoint: Arc<Endpoint>, socket: WebSocketStream<S>, query: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let idle = endpoint.config().idle_timeout;
    let (mut connection, mut outbound) = endpoint.connect(query);
    let (mut sink, mut stream) = socket.split();
    tracing::debug!("socket connected");
    // Writing runs in its own task so that a view waiting on a full outbound queue never
    // blocks the reader (and the reader waiting on a full view mailbox never blocks writing).
    let writer = tokio::spawn(async move {
        while let Some(frame) = outbound.recv().await {
            let result = match frame {
                Outbound::Text(text) => sink.send(Message::text(text)).await,
                Outbound::Close { code, reason } => {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
            };
            if result.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    loop {
        let message = match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(error))) => {
                tracing::debug!(%error, "socket read failed");
                break;
            }
            Ok(None) => break,
            Err(_) => {
                tracing::debug!("socket idle: closing");
                connection.close(1001, "idle").await;
                break;
            }
        };
        let result = match message {
            Message::Text(text) => connection.handle_text(text.as_str()).await,
            Message::Binary(data) => connection.handle_binary(data).await,
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(()),
        };
        if let Err(error) = result {
            tracing::warn!(target: "liveview::rejection", %error, "closing socket");
            connection.close(1008, "protocol violation").await;
            break;
        }
    }
    drop(connection);
    let _ = writer.await;
    tracing::debug!("socket closed");
}
