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
use liveview_core::{Endpoint, Outbound, Untrusted};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::stream::SplitSink;
use liveview_core::{Transport, TransportClosed, TransportFuture};
use tokio::sync::{watch, Mutex, Notify};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::serve::ConnectionPermit;
use crate::service::{text, PeerAddr};
use tracing::Instrument;

/// Validates the upgrade request and answers `101 Switching Protocols`; the socket is served
/// in a task of its own once hyper hands it over.
pub(crate) fn upgrade<B>(
    endpoint: Arc<Endpoint>,
    origins: &Origins,
    shutdown: watch::Receiver<bool>,
    mut request: Request<B>,
    info: liveview_core::ConnectInfo,
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
        let origin = request
            .headers()
            .get(ORIGIN)
            .map(|origin| String::from_utf8_lossy(origin.as_bytes()));
        tracing::warn!(target: "liveview::rejection", origin = %Untrusted(origin.as_deref().unwrap_or("")), "websocket refused: origin");
        return text(StatusCode::FORBIDDEN, "origin not allowed");
    }
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut request);
    // The socket keeps counting against the server's connection limit for its whole life.
    let permit = request.extensions_mut().remove::<ConnectionPermit>();
    let span = match request.extensions().get::<PeerAddr>() {
        Some(PeerAddr(peer)) => tracing::info_span!("socket", %peer),
        None => tracing::info_span!("socket"),
    };
    let socket_task = async move {
        let _permit = permit;
        match on_upgrade.await {
            Ok(upgraded) => {
                let max = endpoint.config().max_frame_bytes;
                let config = WebSocketConfig::default()
                    .read_buffer_size(1024)
                    .write_buffer_size(0)
                    .max_message_size(Some(max))
                    .max_frame_size(Some(max));
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                run(endpoint, socket, shutdown, info).await;
            }
            Err(error) => tracing::debug!(%error, "websocket upgrade failed"),
        }
    };
    tokio::spawn(socket_task.instrument(span));
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

/// The write half of a socket, shared by the connection and its views' tasks: each frame is
/// written (and flushed) by the task that produced it, under a lock. A write blocked for
/// longer than `write_timeout` (a client that stopped reading) marks the socket failed, which
/// makes the read loop drop it: a slow consumer holds at most one frame per writer, and the
/// first timed-out write fails every other writer at once (they find the socket failed when
/// they get the lock), so a dead socket is held for one `write_timeout` whatever the number of
/// its views.
struct SocketTransport<S> {
    sink: Mutex<SplitSink<WebSocketStream<S>, Message>>,
    write_timeout: Duration,
    closed: AtomicBool,
    failed: AtomicBool,
    stalled: Notify,
}

impl<S> SocketTransport<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    async fn write(&self, message: Message) -> Result<(), TransportClosed> {
        if self.closed.load(Ordering::Acquire) {
            return Err(TransportClosed);
        }
        let mut sink = self.sink.lock().await;
        // Checked again under the lock: the writer before us may have timed out.
        if self.closed.load(Ordering::Acquire) {
            return Err(TransportClosed);
        }
        match tokio::time::timeout(self.write_timeout, sink.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => {
                self.fail();
                Err(TransportClosed)
            }
            Err(_) => {
                tracing::warn!(target: "liveview::rejection", "client stopped reading: closing socket");
                self.fail();
                Err(TransportClosed)
            }
        }
    }

    fn fail(&self) {
        self.failed.store(true, Ordering::Release);
        self.closed.store(true, Ordering::Release);
        self.stalled.notify_one();
    }
}

impl<S> Transport for SocketTransport<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    fn send(&self, frame: Outbound) -> TransportFuture<'_> {
        Box::pin(async move {
            match frame {
                Outbound::Text(text) => self.write(Message::text(text)).await,
                Outbound::Close { code, reason } => {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    let result = self.write(Message::Close(Some(frame))).await;
                    self.closed.store(true, Ordering::Release);
                    result
                }
            }
        })
    }
}

/// How long a closing socket waits for its views to write the replies they owe, and then for
/// the client to answer the close frame (each), before it is dropped.
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// How a socket's read loop ended.
enum Ending {
    /// The client closed the socket, or it failed.
    Gone,
    /// A write timed out: the client stopped reading. Nothing more is written.
    Stalled,
    /// The server closes the socket with this code and reason.
    Close(u16, String),
}

async fn run<S>(
    endpoint: Arc<Endpoint>,
    socket: WebSocketStream<S>,
    mut shutdown: watch::Receiver<bool>,
    info: liveview_core::ConnectInfo,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let idle = endpoint.config().idle_timeout;
    let (sink, mut stream) = socket.split();
    let transport = Arc::new(SocketTransport {
        sink: Mutex::new(sink),
        write_timeout: endpoint.config().write_timeout,
        closed: AtomicBool::new(false),
        failed: AtomicBool::new(false),
        stalled: Notify::new(),
    });
    let ending = {
        let mut connection = endpoint.connect_with(transport.clone());
        connection.set_connect_info(info);
        tracing::debug!("socket connected");
        let ending = read_loop(
            &mut connection,
            &transport,
            &mut stream,
            &mut shutdown,
            idle,
        )
        .await;
        // Ends the views: each first answers the messages already queued for it.
        drop(connection);
        ending
    };
    // Boxed: an idle socket's task does not reserve room for the closing phase's futures.
    Box::pin(finish(transport, stream, ending)).await;
}

/// Reads and dispatches the client's frames until the socket must end; says how.
async fn read_loop<S>(
    connection: &mut liveview_core::Connection,
    transport: &SocketTransport<S>,
    stream: &mut futures_util::stream::SplitStream<WebSocketStream<S>>,
    shutdown: &mut watch::Receiver<bool>,
    idle: Duration,
) -> Ending
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // Only complete text and binary messages move the idle deadline: pings, pongs and the
    // fragments of an unfinished message do not, so a partial message (up to
    // `max_frame_bytes`) is held for at most `idle_timeout`.
    let mut deadline = tokio::time::Instant::now() + idle;
    // Registered once, not per message.
    let stalled = transport.stalled.notified();
    tokio::pin!(stalled);
    loop {
        let read = tokio::select! {
            biased;
            _ = &mut stalled => return Ending::Stalled,
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return Ending::Close(1001, "server shutting down".into());
                }
                continue;
            }
            read = tokio::time::timeout_at(deadline, stream.next()) => read,
        };
        let message = match read {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(error))) => {
                // Tell the client why where the protocol has a code for it (RFC 6455 §7.4.1).
                let code = match &error {
                    WsError::Capacity(_) => Some(1009),
                    WsError::Utf8(_) => Some(1007),
                    WsError::Protocol(_) => Some(1002),
                    _ => None,
                };
                return match code {
                    Some(code) => {
                        tracing::warn!(target: "liveview::rejection", error = %Untrusted(&error.to_string()), "closing socket");
                        Ending::Close(code, error.to_string())
                    }
                    None => {
                        tracing::debug!(%error, "socket read failed");
                        Ending::Gone
                    }
                };
            }
            Ok(None) => return Ending::Gone,
            Err(_) => {
                tracing::debug!("socket idle: closing");
                return Ending::Close(1001, "idle".into());
            }
        };
        // Boxed: the idle read loop then does not hold the largest frame handler's state.
        let result = match message {
            Message::Text(text) => {
                deadline = tokio::time::Instant::now() + idle;
                Box::pin(connection.handle_text(text.as_str())).await
            }
            Message::Binary(data) => {
                deadline = tokio::time::Instant::now() + idle;
                Box::pin(connection.handle_binary(data)).await
            }
            Message::Close(_) => return Ending::Gone,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(()),
        };
        if let Err(error) = result {
            tracing::warn!(target: "liveview::rejection", %error, "closing socket");
            return Ending::Close(1008, error.to_string());
        }
    }
}

/// Ends the socket after its read loop: a graceful close when the server closes it (the
/// replies owed, the close frame, then the client's answer: dropping a socket with unread
/// input makes the kernel reset it, and the client would see 1006 and lose the replies).
async fn finish<S>(
    transport: Arc<SocketTransport<S>>,
    mut stream: futures_util::stream::SplitStream<WebSocketStream<S>>,
    ending: Ending,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    match ending {
        Ending::Stalled => {}
        Ending::Gone => close_sink(&transport).await,
        Ending::Close(code, reason) => {
            let views_done = tokio::time::timeout(CLOSE_LINGER, async {
                while Arc::strong_count(&transport) > 1 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            });
            let _ = views_done.await;
            let _ = transport.send(Outbound::Close { code, reason }).await;
            let _ = tokio::time::timeout(CLOSE_LINGER, async {
                // Discards what the client still sends until it answers the close (or leaves).
                while let Some(Ok(message)) = stream.next().await {
                    if message.is_close() {
                        break;
                    }
                }
            })
            .await;
            close_sink(&transport).await;
        }
    }
    transport.closed.store(true, Ordering::Release);
    tracing::debug!("socket closed");
}

/// Flushes and closes the write half, unless the socket failed (a client that stopped reading
/// gets no second chance to block us).
async fn close_sink<S>(transport: &SocketTransport<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    if transport.failed.load(Ordering::Acquire) {
        return;
    }
    transport.closed.store(true, Ordering::Release);
    if let Ok(mut sink) = tokio::time::timeout(transport.write_timeout, transport.sink.lock()).await
    {
        let _ = tokio::time::timeout(CLOSE_LINGER, sink.close()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight views of one socket write to a client that reads nothing: the first write that
    /// times out fails them all, so the socket is held for one write timeout, not eight.
    #[tokio::test]
    async fn one_write_timeout_fails_every_writer_of_the_socket() {
        let (server, _client) = tokio::io::duplex(1024);
        let socket = WebSocketStream::from_raw_socket(server, Role::Server, None).await;
        let (sink, _stream) = socket.split();
        let timeout = Duration::from_millis(300);
        let transport = Arc::new(SocketTransport {
            sink: Mutex::new(sink),
            write_timeout: timeout,
            closed: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            stalled: Notify::new(),
        });
        let started = tokio::time::Instant::now();
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let transport = transport.clone();
                tokio::spawn(async move {
                    transport
                        .send(Outbound::Text("x".repeat(10_000)))
                        .await
                        .is_err()
                })
            })
            .collect();
        for writer in writers {
            assert!(writer.await.unwrap(), "every writer fails");
        }
        let held = started.elapsed();
        // Before the fix each writer waited for the lock and then for its own timeout (8 x).
        assert!(held < timeout * 3, "the socket was held {held:?}");
        assert!(transport.failed.load(Ordering::Acquire));
    }
}
