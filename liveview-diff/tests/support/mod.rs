//! Helpers shared by the integration tests of `liveview-diff`.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code, unreachable_pub)]

pub mod oracle;
