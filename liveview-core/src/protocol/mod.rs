//! The Phoenix channel protocol as the LiveView 1.2 client speaks it (V2 serializer): decoding
//! client frames ([`Frame`]), and the wire shape of everything the server sends — replies,
//! pushes, errors, closes ([`ChannelRef`]) and the payload of a view's turn (tree diff,
//! components, title, events, navigation; `payload`). Nothing else in the crate writes frame
//! JSON.

mod encode;
mod frame;
pub(crate) mod payload;

pub use encode::{ChannelRef, REFUSED_EVENT};
pub use frame::{Frame, FrameError, Payload};

/// The LiveView client version we speak; sent in join replies.
pub const LIVEVIEW_VERSION: &str = "1.2.12";
