//! [`Transport`]: where a connection's frames go. Core never names a socket type; transports
//! (`liveview-hyper`) implement this and feed decoded frames to a [`Connection`](super::Connection).

use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;

/// A frame for the transport to write to the client socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A text frame.
    Text(String),
    /// Close the socket with this code and reason.
    Close {
        /// The WebSocket close code.
        code: u16,
        /// The reason.
        reason: String,
    },
}

/// Where a connection's frames go: implemented by transports (`liveview-hyper` writes them
/// straight to its WebSocket). View tasks call it directly, so a reply costs no extra task hop.
///
/// `send` must deliver frames in the order of its calls for one caller, may apply backpressure
/// by waiting, and fails once the socket is gone (later frames are dropped).
pub trait Transport: Send + Sync + 'static {
    /// Sends one frame.
    fn send(&self, frame: Outbound) -> TransportFuture<'_>;
}

/// The future returned by [`Transport::send`].
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), TransportClosed>> + Send + 'a>>;

/// The socket behind a [`Transport`] is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the transport is closed")]
pub struct TransportClosed;

/// A [`Transport`] into a bounded channel, for transports that write from a task of their own
/// (and for tests): see [`Endpoint::connect`](crate::Endpoint::connect).
#[derive(Debug, Clone)]
pub struct ChannelTransport(pub mpsc::Sender<Outbound>);

impl Transport for ChannelTransport {
    fn send(&self, frame: Outbound) -> TransportFuture<'_> {
        Box::pin(async move { self.0.send(frame).await.map_err(|_| TransportClosed) })
    }
}

/// Sends a text frame; a transport fails only when its socket is closing, and then the frame
/// has nowhere to go.
pub(crate) async fn send_text(out: &dyn Transport, frame: String) {
    crate::telemetry::sent(frame.len());
    let _ = out.send(Outbound::Text(frame)).await;
}
