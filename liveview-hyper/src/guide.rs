//! The user guide: building LiveView applications with these crates, page by page. Every
//! snippet is compiled (and most are run) as a doc test, so the guide cannot drift from the
//! API. LiveViewJS's and Phoenix LiveView's guides were the map for what to cover; Phoenix
//! users will recognise the names (each API item's documentation names its counterpart).
//!
//! 1. [`getting_started`]: from `cargo new` to a counter in the browser.
//! 2. [`anatomy`]: what a LiveView is, its callbacks, the life of a page.
//! 3. [`socket_api`]: every `Socket` call, with its LiveViewJS name.
//! 4. [`templates`]: `html!`, and why only changes travel.
//! 5. [`forms`]: typed form values, changesets, validation, helpers, nested rows.
//! 6. [`components`]: live components with state and events of their own.
//! 7. [`streams`]: lists the server does not keep.
//! 8. [`uploads`]: files over the socket, with progress, limits and storage.
//! 9. [`pubsub`]: topics, presence, several nodes.
//! 10. [`testing`]: in-process tests of views, in milliseconds.
//! 11. [`security`]: tokens, CSRF, origin, escaping, limits.
//! 12. [`users`]: the user's session, login, `on_mount` guards, live sessions, axum.
//! 13. [`deployment`](crate::deployment): secret key, Redis, load balancers, proxies, shutdown.

#[doc = include_str!("docs/guide/getting_started.md")]
pub mod getting_started {}

#[doc = include_str!("docs/guide/anatomy.md")]
pub mod anatomy {}

#[doc = include_str!("docs/guide/socket_api.md")]
pub mod socket_api {}

#[doc = include_str!("docs/guide/templates.md")]
pub mod templates {}

#[doc = include_str!("docs/guide/forms.md")]
pub mod forms {}

#[doc = include_str!("docs/guide/components.md")]
pub mod components {}

#[doc = include_str!("docs/guide/streams.md")]
pub mod streams {}

#[doc = include_str!("docs/guide/uploads.md")]
pub mod uploads {}

#[doc = include_str!("docs/guide/pubsub.md")]
pub mod pubsub {}

#[doc = include_str!("docs/guide/testing.md")]
pub mod testing {}

#[doc = include_str!("docs/guide/security.md")]
pub mod security {}

#[doc = include_str!("docs/guide/users.md")]
pub mod users {}
