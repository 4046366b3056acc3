//! The per-connection runtime: decoded frames in, encoded frames out; one task per joined view.
//!
//! A [`Connection`] owns the channels of one client socket and is the only place client
//! frames are dispatched. Joins are verified by a pure function (`join`). A joined view
//! (`view_task`, with its upload side in `view_uploads`) has no task of its own: it waits in a
//! `cell` with its FIFO queue of messages (`message`), and whoever brings it work runs its turns
//! — inline on the socket's read task for client messages, so a click costs no task hop; a turn
//! that has to wait moves to a task of its own, so a slow view never blocks the socket or the
//! other views, and a crashing one breaks nothing else. `lvu:`
//! upload channels live in `upload_channel`. The runtime reaches routes and views only through
//! the traits of `shared`, so it depends on neither the router nor the endpoint.

mod cell;
mod connection;
mod join;
mod message;
mod rate;
mod shared;
mod transport;
mod upload_channel;
mod view_async;
mod view_task;
mod view_uploads;

pub use connection::{Connection, ConnectionError};
pub use transport::{ChannelTransport, Outbound, Transport, TransportClosed, TransportFuture};

#[cfg(feature = "testing")]
pub(crate) use cell::TestHandle;
pub(crate) use message::Mailbox;
pub(crate) use shared::{Join, Joinable, RouteMatch, Routes, Shared};
pub(crate) use view_task::join as join_view;
