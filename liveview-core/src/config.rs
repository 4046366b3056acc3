//! [`Config`]: the limits and timings of an endpoint, every bound a client is held to.

use std::time::Duration;

/// Limits and timings. The defaults are safe for production.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// How long a page's session token stays valid (default 2 weeks).
    pub session_max_age: Duration,
    /// Close a socket that sent no complete message (not even a heartbeat) for this long
    /// (default 60 s). Pings and the fragments of an unfinished message do not count, so this
    /// also bounds how long a partial message (at most `max_frame_bytes`) is held.
    pub idle_timeout: Duration,
    /// Largest accepted WebSocket message (default 1 MiB; upload chunks must fit).
    pub max_frame_bytes: usize,
    /// Frames queued for a socket by [`Endpoint::connect`](crate::Endpoint::connect)'s channel (default 256). Transports
    /// that write directly ([`Endpoint::connect_with`](crate::Endpoint::connect_with)) queue nothing.
    pub outbound_queue: usize,
    /// Messages queued for one view; past it, the client's message gets an `"overloaded"`
    /// error reply (default 64).
    pub view_queue: usize,
    /// Messages queued for one view's `handle_info` (default 256): its own
    /// [`send_info`](crate::Socket::send_info)s, `repeat` ticks, pub/sub deliveries and its
    /// components' `send_parent_info`s. Ticks and pub/sub deliveries wait while it is full
    /// (pub/sub messages then overflow the subscription's own queue, where the backend drops
    /// them with a log line); a `send_info` that finds it full ends the view as a crash (the
    /// client rejoins with a fresh mount).
    pub info_queue: usize,
    /// Bytes of client messages queued for one socket's views at once, all views together
    /// (default 4 MiB): a message that would pass it gets an `"overloaded"` error reply, as
    /// one for a full mailbox does. Without it, a client could park `view_queue` frames of
    /// `max_frame_bytes` in each of `max_joins` busy views.
    pub max_queued_bytes: usize,
    /// Views joined at once on one socket (default 32).
    pub max_joins: usize,
    /// `lvu:` upload channels open at once on one socket (default 32), each holding at most
    /// one open temporary file; past it, an upload join is refused (`too_many_uploads`).
    pub max_upload_channels: usize,
    /// Sustained client messages per second on one socket (default 1000); a socket that
    /// exceeds it (beyond `message_burst`) is closed.
    pub max_messages_per_second: u32,
    /// Messages a socket may send in a burst above the sustained rate (default 2000).
    pub message_burst: u32,
    /// How long a write to a client that stopped reading may block before its socket is closed
    /// (default 30 s). As writers wait on the socket, this bounds the memory a slow
    /// consumer can hold.
    pub write_timeout: Duration,
    /// The `<title>` suffix rendered by the default layout (default none).
    pub title_suffix: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            session_max_age: Duration::from_secs(14 * 24 * 3600),
            idle_timeout: Duration::from_secs(60),
            max_frame_bytes: 1 << 20,
            outbound_queue: 256,
            view_queue: 64,
            info_queue: 256,
            max_queued_bytes: 4 << 20,
            max_joins: 32,
            max_upload_channels: 32,
            max_messages_per_second: 1000,
            message_burst: 2000,
            write_timeout: Duration::from_secs(30),
            title_suffix: String::new(),
        }
    }
}
