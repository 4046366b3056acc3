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
use tokio::sync::{oneshot, watch};
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
    origins: &Origins,
    shutdown: watch::Receiver<bool>,
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
    if !origins.allows(&request) {
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
                run(endpoint, socket, &query, shutdown).await;
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

/// Which page origins may open the socket.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origins {
    /// Allowed origins (`https://example.com`, exact match) besides the same origin.
    pub(crate) allowed: Vec<String>,
}

impl Origins {
    /// A browser always sends `Origin` on WebSocket handshakes: it must be the page's own origin
    /// (its host equals `Host`) or one of the allowed origins. Requests without `Origin`
    /// (non-browser clients, which cannot be CSRF vectors) pass; they still need a valid
    /// session token and CSRF token to join a view.
    pub(crate) fn allows<B>(&self, request: &Request<B>) -> bool {
        if let Some(origin) = request.headers().get(ORIGIN).and_then(|o| o.to_str().ok()) {
            if self
                .allowed
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin))
            {
                return true;
            }
        }
        same_origin(request)
    }
}

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

async fn run<S>(
    endpoint: Arc<Endpoint>,
    socket: WebSocketStream<S>,
    query: &str,
    mut shutdown: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let idle = endpoint.config().idle_timeout;
    let write_timeout = endpoint.config().write_timeout;
    let (mut connection, mut outbound) = endpoint.connect(query);
    let (mut sink, mut stream) = socket.split();
    let (stalled_tx, mut stalled) = oneshot::channel::<()>();
    tracing::debug!("socket connected");
    // Writing runs in its own task so that a view waiting on a full outbound queue never
    // blocks the reader (and the reader waiting on a view never blocks writing). A client that
    // stops reading fills its TCP window, then the bounded outbound queue; a write blocked for
    // longer than `write_timeout` closes the socket, so a slow consumer holds bounded memory.
    let writer = tokio::spawn(async move {
        while let Some(frame) = outbound.recv().await {
            let message = match frame {
                Outbound::Text(text) => Message::text(text),
                Outbound::Close { code, reason } => {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    let _ =
                        tokio::time::timeout(write_timeout, sink.send(Message::Close(Some(frame))))
                            .await;
                    break;
                }
            };
            match tokio::time::timeout(write_timeout, sink.send(message)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break,
                Err(_) => {
                    tracing::warn!(target: "liveview::rejection", "client stopped reading: closing socket");
                    let _ = stalled_tx.send(());
                    return;
                }
            }
        }
        let _ = tokio::time::timeout(write_timeout, sink.close()).await;
    });
    loop {
        let read = tokio::select! {
            biased;
            _ = &mut stalled => break,
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    connection.close(1001, "server shutting down").await;
                    break;
                }
                continue;
            }
            read = tokio::time::timeout(idle, stream.next()) => read,
        };
        let message = match read {
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
            connection.close(1008, &error.to_string()).await;
            break;
        }
    }
    drop(connection);
    if tokio::time::timeout(write_timeout, writer).await.is_err() {
        tracing::debug!("writer did not finish in time");
    }
    tracing::debug!("socket closed");
}
