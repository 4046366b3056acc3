//! Several example server processes sharing a Redis that each test starts itself (feature
//! `redis-tests`, run by `cargo xtask test`): a chat message posted on node A reaches a tab
//! on node B; a page rendered by one node joins on the other (no sticky sessions); the
//! shared counter adds up across nodes; presence spans the nodes and a killed node's users
//! leave within the TTL; Redis killed and restarted: the loss is logged and messages flow
//! again.

#[path = "../../liveview-pubsub/tests/support/redis_process.rs"]
mod redis_process;
mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use liveview_core::pubsub::{DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_TTL};
use redis_process::RedisProcess;
use serde_json::{json, Value};
use support::{click, form, get, page, Client, Joined};
use tokio::time::Instant;

/// The signing key every node shares (a page rendered by one joins on another).
const SECRET: &str = "nodes-test-secret-key-at-least-32-bytes-long";

/// One `liveview-examples` process; killed when dropped.
struct NodeProcess {
    name: String,
    child: Child,
    address: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl NodeProcess {
    /// Starts a node on a free port with `REDIS_URL=redis_url` and waits until it listens.
    fn start(name: &str, redis_url: &str) -> NodeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_liveview-examples"))
            .env("PORT", "0")
            .env("REDIS_URL", redis_url)
            .env("SECRET_KEY", SECRET)
            .env("NODE_NAME", name)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the examples binary starts");
        let stdout = child.stdout.take().expect("piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (listening, address) = mpsc::channel();
        let lines = log.clone();
        let label = name.to_owned();
        std::thread::spawn(move || {
            let mut listening = Some(listening);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                eprintln!("[node {label}] {line}");
                if let Some(rest) = line.strip_prefix("listening on http://") {
                    if let (Some(tx), Ok(address)) = (listening.take(), rest.trim().parse()) {
                        let _ = tx.send(address);
                    }
                }
                lines.lock().unwrap().push(line);
            }
        });
        let address = address
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("node {name} did not start"));
        NodeProcess {
            name: name.to_owned(),
            child,
            address,
            log,
        }
    }

    /// Waits until a log line contains `needle` (fails after `within`).
    async fn wait_for_log(&self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if self
                .log
                .lock()
                .unwrap()
                .iter()
                .any(|line| line.contains(needle))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {} never logged {needle:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: the node says goodbye to nobody.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Renders `path` on `render` and joins its view over a socket to `serve`: the two may be
/// different nodes, as behind a load balancer without sticky sessions.
async fn open_across(render: SocketAddr, serve: SocketAddr, path: &str) -> Joined {
    let page = page(render, path).await;
    let mut client = Client::connect(serve, &page.csrf).await;
    let (join_ref, reply) = client.join(&page, &format!("http://{render}{path}")).await;
    assert_eq!(reply[4]["status"], json!("ok"), "join {path}: {reply}");
    Joined {
        address: serve,
        topic: format!("lv:{}", page.id),
        page,
        client,
        join_ref,
        reply,
    }
}

/// Pushes an event and returns the reply's response, skipping pushes before it.
async fn event(view: &mut Joined, payload: Value) -> Value {
    let msg_ref = view.push("event", payload).await;
    loop {
        let frame = view.client.recv().await;
        if frame[1] == json!(msg_ref) {
            view.assert_reply(&frame, &msg_ref);
            return frame[4]["response"].clone();
        }
        view.assert_push(&frame);
    }
}

/// Reads pushes until one contains `needle`; `None` after `within`.
async fn push_containing(view: &mut Joined, needle: &str, within: Duration) -> Option<Value> {
    let deadline = Instant::now() + within;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let frame = view.client.try_recv(wait).await?;
        view.assert_push(&frame);
        if frame.to_string().contains(needle) {
            return Some(frame);
        }
    }
}

/// Whether the `/chat` page a new visitor of `node` gets lists `name` as online.
async fn listed_online(node: SocketAddr, name: &str) -> bool {
    let (status, html) = get(node, "/chat").await;
    assert_eq!(status, 200);
    html.contains(&format!("data-name=\"{name}\""))
}

/// Polls until `listed_online(node, name) == want`; returns how long it took.
async fn until_listed(node: SocketAddr, name: &str, want: bool, within: Duration) -> Duration {
    let start = Instant::now();
    while listed_online(node, name).await != want {
        assert!(
            start.elapsed() < within,
            "{name} listed online on {node}: still {} after {within:?}",
            !want
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_message_posted_on_node_a_reaches_a_tab_on_node_b() {
    let redis = RedisProcess::start();
    let a = NodeProcess::start("a", &redis.url());
    let b = NodeProcess::start("b", &redis.url());
    a.wait_for_log("pub/sub: Redis", Duration::from_secs(5))
        .await;

    let mut on_b = Joined::open(b.address, "/chat?name=bob").await;
    // Ann's page was rendered by B, her socket landed on A.
    let mut on_a = open_across(b.address, a.address, "/chat?name=ann").await;
    event(
        &mut on_a,
        form("send", "author=ann&text=hello+from+a", None),
    )
    .await;
    let frame = push_containing(&mut on_b, "hello from a", Duration::from_secs(5))
        .await
        .expect("the message crossed the nodes");
    assert!(
        frame.to_string().contains("msg-a-1"),
        "ids carry the node: {frame}"
    );
    push_containing(&mut on_a, "hello from a", Duration::from_secs(5))
        .await
        .expect("and reached the sender's own tab");

    // And back.
    event(&mut on_b, form("send", "author=bob&text=hi+ann", None)).await;
    push_containing(&mut on_a, "hi ann", Duration::from_secs(5))
        .await
        .expect("B to A");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_counter_adds_up_across_nodes() {
    let redis = RedisProcess::start();
    let a = NodeProcess::start("a", &redis.url());
    let b = NodeProcess::start("b", &redis.url());
    let mut x = Joined::open(a.address, "/rtcounter").await;
    let mut y = Joined::open(b.address, "/rtcounter").await;
    assert_eq!(x.rendered()["0"], json!("0"));
    assert_eq!(y.rendered()["0"], json!("0"));

    assert_eq!(
        event(&mut x, click("inc", json!({"value": ""}))).await,
        json!({"diff": {"0": "1"}})
    );
    push_containing(&mut y, r#"{"0":"1"}"#, Duration::from_secs(5))
        .await
        .expect("B shows A's click");
    assert_eq!(
        event(&mut y, click("inc", json!({"value": ""}))).await,
        json!({"diff": {"0": "2"}})
    );
    push_containing(&mut x, r#"{"0":"2"}"#, Duration::from_secs(5))
        .await
        .expect("A shows B's click");

    // A node started later learns the count from the others (hello, then their totals).
    let c = NodeProcess::start("c", &redis.url());
    let mut z = Joined::open(c.address, "/rtcounter").await;
    if z.rendered()["0"] != json!("2") {
        push_containing(&mut z, r#"{"0":"2"}"#, Duration::from_secs(5))
            .await
            .expect("C catches up");
    }
    event(&mut z, click("dec", json!({"value": ""}))).await;
    for view in [&mut x, &mut y] {
        push_containing(view, r#"{"0":"1"}"#, Duration::from_secs(5))
            .await
            .expect("C's click reaches A and B");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_spans_the_nodes_and_a_killed_nodes_users_leave_within_the_ttl() {
    let redis = RedisProcess::start();
    let mut a = NodeProcess::start("a", &redis.url());
    let b = NodeProcess::start("b", &redis.url());
    let _ann = Joined::open(a.address, "/chat?name=ann").await;
    let _bob = Joined::open(b.address, "/chat?name=bob").await;
    let _ann_again = Joined::open(b.address, "/chat?name=ann").await;
    let wait = Duration::from_secs(10);
    until_listed(b.address, "ann", true, wait).await;
    until_listed(a.address, "bob", true, wait).await;
    let (_, html) = get(b.address, "/chat").await;
    assert!(
        html.contains(" 2 tabs"),
        "ann's tabs on A and B are one user: {html}"
    );

    // A dies without a word: B keeps ann (her tab on B) but loses her tab on A after the TTL.
    a.kill();
    let died = Instant::now();
    let start = Instant::now();
    loop {
        let (_, html) = get(b.address, "/chat").await;
        if !html.contains(" 2 tabs") {
            assert!(
                html.contains("data-name=\"ann\""),
                "her tab on B stays: {html}"
            );
            break;
        }
        assert!(start.elapsed() < DEFAULT_TTL * 3, "A's entry never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = died.elapsed();
    eprintln!("presence converged {took:?} after node A was killed");
    // By design between TTL - heartbeat and TTL + heartbeat / 4; the lower bound is loose
    // because a loaded machine may delay A's last heartbeats.
    assert!(
        took >= DEFAULT_TTL / 2,
        "expired by the TTL, not before: {took:?}"
    );
    assert!(
        took <= DEFAULT_TTL + DEFAULT_HEARTBEAT_INTERVAL * 2,
        "within the TTL, a quarter heartbeat (the sweep) and some slack: {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_messages_flow_again_and_the_loss_is_logged() {
    let mut redis = RedisProcess::start();
    let a = NodeProcess::start("a", &redis.url());
    let b = NodeProcess::start("b", &redis.url());
    let mut on_a = Joined::open(a.address, "/chat?name=ann").await;
    let mut on_b = Joined::open(b.address, "/chat?name=bob").await;
    event(&mut on_a, form("send", "author=ann&text=before", None)).await;
    push_containing(&mut on_b, "before", Duration::from_secs(5))
        .await
        .expect("flows before");

    redis.kill();
    for node in [&a, &b] {
        node.wait_for_log("redis pub/sub: connection lost", Duration::from_secs(10))
            .await;
    }
    // A message sent while Redis is down is refused with a flash, and the tab stays.
    let reply = event(&mut on_a, form("send", "author=ann&text=during", None)).await;
    assert!(
        reply.to_string().contains("Not sent"),
        "the sender is told: {reply}"
    );

    redis.restart();
    for node in [&a, &b] {
        node.wait_for_log("redis pub/sub: reconnected", Duration::from_secs(15))
            .await;
    }
    // The subscriptions are renewed right after reconnecting: retry until one gets through.
    let mut delivered = false;
    for attempt in 0..20 {
        let text = format!("after+{attempt}");
        event(
            &mut on_a,
            form("send", &format!("author=ann&text={text}"), None),
        )
        .await;
        if push_containing(
            &mut on_b,
            &format!("after {attempt}"),
            Duration::from_millis(500),
        )
        .await
        .is_some()
        {
            delivered = true;
            break;
        }
    }
    assert!(delivered, "messages flow again after Redis came back");
    let (status, _) = get(a.address, "/healthz").await;
    assert_eq!(status, 200, "healthy again");
}
