//! The toolkit's socket: a [`Connection`] of the real runtime, fed Phoenix V2 frames exactly as
//! the browser's client sends them, with the frames it writes collected in memory.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::TestError;
use crate::runtime::{Connection, Outbound, Transport, TransportClosed, TransportFuture};
use crate::Endpoint;

/// At most this many frames wait unread in a test socket; past it the socket counts as
/// closed, like a browser that stopped reading (a test that never reads its view's pushes).
pub const MAX_UNREAD_FRAMES: usize = 65_536;

/// One frame the server sent, decoded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Frame {
    pub(crate) join_ref: Option<String>,
    pub(crate) msg_ref: Option<String>,
    pub(crate) topic: String,
    pub(crate) event: String,
    pub(crate) payload: Value,
}

/// Where the runtime writes: a queue the test reads, never blocking the view that writes.
#[derive(Debug, Default)]
struct Inbox {
    frames: Mutex<InboxState>,
    arrived: Notify,
}

#[derive(Debug, Default)]
struct InboxState {
    frames: VecDeque<Outbound>,
    closed: bool,
}

impl Transport for Inbox {
    fn send(&self, frame: Outbound) -> TransportFuture<'_> {
        let mut state = self.frames.lock().expect("inbox lock");
        let result = if state.closed || state.frames.len() >= MAX_UNREAD_FRAMES {
            state.closed = true;
            Err(TransportClosed)
        } else {
            state.frames.push_back(frame);
            Ok(())
        };
        drop(state);
        self.arrived.notify_one();
        Box::pin(async move { result })
    }
}

/// A client socket into the runtime.
pub(crate) struct Channel {
    connection: Connection,
    inbox: Arc<Inbox>,
    next_ref: u64,
    /// Messages sent to the server (text and binary).
    pub(crate) sent: Arc<AtomicU64>,
    /// Frames read for a topic other than the one being waited for (the socket is shared by
    /// a view, its nested views and its upload channels), in arrival order per topic.
    queues: HashMap<String, VecDeque<Frame>>,
}

/// A socket shared by the views (and upload channels) joined on it.
pub(crate) type SharedChannel = Arc<tokio::sync::Mutex<Channel>>;

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("next_ref", &self.next_ref)
            .finish_non_exhaustive()
    }
}

impl Channel {
    pub(crate) fn connect(endpoint: &Arc<Endpoint>) -> Self {
        let inbox = Arc::new(Inbox::default());
        let connection = endpoint.connect_with(inbox.clone());
        Channel {
            connection,
            inbox,
            next_ref: 0,
            sent: Arc::default(),
            queues: HashMap::new(),
        }
    }

    /// The runtime's test handle on the view joined on `topic`.
    pub(crate) fn test_handle(&self, topic: &str) -> Option<&crate::runtime::TestHandle> {
        self.connection.test_handle(topic)
    }

    pub(crate) fn next_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    /// Sends `[join_ref, ref, topic, event, payload]`; returns the message ref.
    pub(crate) async fn push(
        &mut self,
        join_ref: &str,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> Result<String, TestError> {
        let msg_ref = self.next_ref();
        self.push_as(join_ref, &msg_ref, topic, event, payload)
            .await?;
        Ok(msg_ref)
    }

    /// Sends `[join_ref, msg_ref, topic, event, payload]` as a text frame.
    pub(crate) async fn push_as(
        &mut self,
        join_ref: &str,
        msg_ref: &str,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> Result<(), TestError> {
        let frame = json!([join_ref, msg_ref, topic, event, payload]).to_string();
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.connection
            .handle_text(&frame)
            .await
            .map_err(|err| TestError::Closed(format!("the server closed the socket: {err}")))
    }

    /// Sends a binary push (an upload chunk); returns the message ref.
    pub(crate) async fn push_binary(
        &mut self,
        join_ref: &str,
        topic: &str,
        event: &str,
        data: &[u8],
    ) -> Result<String, TestError> {
        let msg_ref = self.next_ref();
        let mut frame = Vec::with_capacity(
            5 + join_ref.len() + msg_ref.len() + topic.len() + event.len() + data.len(),
        );
        frame.push(0);
        for part in [join_ref, msg_ref.as_str(), topic, event] {
            let len = u8::try_from(part.len()).map_err(|_| {
                TestError::Usage(format!("{part:?} is too long for a binary frame"))
            })?;
            frame.push(len);
        }
        for part in [join_ref, msg_ref.as_str(), topic, event] {
            frame.extend_from_slice(part.as_bytes());
        }
        frame.extend_from_slice(data);
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.connection
            .handle_binary(Bytes::from(frame))
            .await
            .map_err(|err| TestError::Closed(format!("the server closed the socket: {err}")))?;
        Ok(msg_ref)
    }

    /// The next frame for `topic`, waiting at most `wait`; frames of other topics read
    /// meanwhile are kept for them.
    pub(crate) async fn recv_for(
        &mut self,
        topic: &str,
        wait: Duration,
    ) -> Result<Frame, TestError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(frame) = self.try_recv_for(topic)? {
                return Ok(frame);
            }
            match tokio::time::timeout_at(deadline, self.next_outbound()).await {
                Ok(frame) => {
                    let frame = frame?;
                    if frame.topic == topic {
                        return Ok(frame);
                    }
                    self.queues
                        .entry(frame.topic.clone())
                        .or_default()
                        .push_back(frame);
                }
                Err(_) => {
                    return Err(TestError::Timeout(format!(
                        "no frame for {topic} within {wait:?}"
                    )))
                }
            }
        }
    }

    /// A frame for `topic` already written, without waiting.
    pub(crate) fn try_recv_for(&mut self, topic: &str) -> Result<Option<Frame>, TestError> {
        if let Some(frame) = self.queues.get_mut(topic).and_then(VecDeque::pop_front) {
            return Ok(Some(frame));
        }
        while let Some(frame) = self.try_recv()? {
            if frame.topic == topic {
                return Ok(Some(frame));
            }
            self.queues
                .entry(frame.topic.clone())
                .or_default()
                .push_back(frame);
        }
        Ok(None)
    }

    /// A frame already written, without waiting.
    fn try_recv(&self) -> Result<Option<Frame>, TestError> {
        let outbound = self
            .inbox
            .frames
            .lock()
            .expect("inbox lock")
            .frames
            .pop_front();
        outbound.map(decode).transpose()
    }

    async fn next_outbound(&self) -> Result<Frame, TestError> {
        let inbox = self.inbox.clone();
        loop {
            let notified = inbox.arrived.notified();
            if let Some(frame) = self.try_recv()? {
                return Ok(frame);
            }
            if self.inbox.frames.lock().expect("inbox lock").closed {
                return Err(TestError::Closed("the socket is closed".into()));
            }
            notified.await;
        }
    }
}

fn decode(outbound: Outbound) -> Result<Frame, TestError> {
    let text = match outbound {
        Outbound::Text(text) => text,
        Outbound::Close { code, reason } => {
            return Err(TestError::Closed(format!(
                "the server closed the socket ({code}: {reason})"
            )))
        }
    };
    let value: Value = serde_json::from_str(&text).map_err(|err| {
        TestError::Protocol(format!("the server wrote invalid JSON ({err}): {text}"))
    })?;
    let Value::Array(mut parts) = value else {
        return Err(TestError::Protocol(format!("not a V2 frame: {text}")));
    };
    if parts.len() != 5 {
        return Err(TestError::Protocol(format!("not a V2 frame: {text}")));
    }
    let payload = parts.pop().unwrap_or(Value::Null);
    let as_string = |value: &Value| value.as_str().map(str::to_owned);
    Ok(Frame {
        join_ref: as_string(&parts[0]),
        msg_ref: as_string(&parts[1]),
        topic: as_string(&parts[2]).unwrap_or_default(),
        event: as_string(&parts[3]).unwrap_or_default(),
        payload,
    })
}
