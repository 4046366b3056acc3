//! Shared by the pub/sub tests: where the test Redis is (`REDIS_URL`), a `redis-server`
//! process of a test's own (for the tests that kill and restart it), and a backend that can
//! be cut off.

#![allow(dead_code, unreachable_pub)]

mod redis_process;

#[allow(unused_imports)]
pub use redis_process::{ping, RedisProcess};

/// The URL of the shared test Redis: `REDIS_URL`, which `cargo xtask test` sets to a
/// `redis-server` it started on a free port. There is deliberately no default (such as
/// 127.0.0.1:6379): a test must never reach whatever happens to listen there.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "REDIS_URL is not set. These tests need a redis-server: run them with \
             `cargo xtask test` (it starts one on a free port and sets REDIS_URL), or start \
             one yourself and set REDIS_URL=redis://127.0.0.1:PORT"
        )
    })
}

/// Fails a test that cannot reach the Redis at `url`.
pub fn unreachable(url: &str, err: &dyn std::fmt::Display) -> ! {
    panic!(
        "cannot connect to Redis at {url}: {err}\n\
         The Redis tests need a running redis-server at REDIS_URL (`cargo xtask test` starts one)."
    )
}

/// A backend wrapper that can be cut off: while cut, what the node publishes is silently
/// lost (as when a node dies or is partitioned away), while it still receives.
#[derive(Debug)]
pub struct Cuttable<P> {
    inner: P,
    cut: std::sync::atomic::AtomicBool,
}

impl<P> Cuttable<P> {
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            cut: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// From now on, publishing loses the message.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Publishing works again.
    pub fn heal(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl<P: liveview_pubsub::PubSub> liveview_pubsub::PubSub for Cuttable<P> {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        message: bytes::Bytes,
    ) -> liveview_pubsub::BoxFuture<'a, liveview_pubsub::Result<()>> {
        if self.cut.load(std::sync::atomic::Ordering::SeqCst) {
            return Box::pin(std::future::ready(Ok(())));
        }
        self.inner.publish(topic, message)
    }

    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
    ) -> liveview_pubsub::BoxFuture<'a, liveview_pubsub::Result<liveview_pubsub::Subscription>>
    {
        self.inner.subscribe(topic)
    }
}
