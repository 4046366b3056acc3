//! The per-connection runtime: decoded frames in, encoded frames out; one task per joined view.
//!
//! A [`Connection`] owns the channels of one client socket and is the only place client
//! frames are dispatched. Joins are verified by a pure function (`join`); each joined view then
//! runs in its own task (`view_task`, with its upload side in `view_uploads`) with a FIFO
//! mailbox (`message`), so a slow or crashing view never blocks or breaks the others. `lvu:`
//! upload channels live in `upload_channel`. The runtime reaches routes and views only through
//! the traits of `shared`, so it depends on neither the router nor the endpoint.

mod connection;
mod join;
mod message;
mod rate;
mod shared;
mod transport;
mod upload_channel;
mod view_task;
mod view_uploads;

pub use connection::{Connection, ConnectionError};
pub use transport::{ChannelTransport, Outbound, Transport, TransportClosed, TransportFuture};

pub(crate) use message::Mailbox;
pub(crate) use shared::{Join, Joinable, RouteMatch, Routes, Shared};
pub(crate) use view_task::spawn as spawn_view;
