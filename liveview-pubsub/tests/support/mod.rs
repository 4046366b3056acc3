//! Shared by the pub/sub tests: where the test Redis is (`REDIS_URL`, or a `redis-server`
//! of the test process's own), a `redis-server` process of a test's own (for the tests that
//! kill and restart it), and a backend that can be cut off.

#![allow(dead_code, unreachable_pub)]

mod redis_process;

#[allow(unused_imports)]
pub use redis_process::{ping, RedisProcess};

/// The URL of the test Redis: `REDIS_URL` (`cargo xtask test` sets it to a `redis-server` it
/// started on a free port), or else a `redis-server` this test process starts on a free port
/// (once, shared by its tests) and that stops when the process exits. Never a default such
/// as 127.0.0.1:6379: a test must not reach whatever happens to listen there.
pub fn redis_url() -> String {
    if let Ok(url) = std::env::var("REDIS_URL") {
        return url;
    }
    static OWN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OWN.get_or_init(start_process_redis).clone()
}

/// Starts `redis-server` on a free port under `sh`, which kills it when our end of its stdin
/// closes, i.e. when this process exits however it exits (statics are never dropped).
#[allow(clippy::zombie_processes)] // `sh` lives as long as this process: nobody waits for it.
fn start_process_redis() -> String {
    use std::process::{Command, Stdio};
    let port = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port();
    let script = "redis-server --bind 127.0.0.1 --port \"$1\" --save '' --appendonly no & \
                  pid=$!; read _; kill $pid";
    let mut child = Command::new("sh")
        .args(["-c", script, "sh", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh starts");
    // Held open until the process exits: then `read` returns and the server is killed.
    std::mem::forget(child.stdin.take());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ping(port) {
        if std::time::Instant::now() > deadline || matches!(child.try_wait(), Ok(Some(_))) {
            panic!(
                "REDIS_URL is not set and no redis-server could be started on port {port}: \
                 install redis-server (`apt-get install redis-server`), set REDIS_URL, or run \
                 `cargo xtask test`, which does both"
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    format!("redis://127.0.0.1:{port}")
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
