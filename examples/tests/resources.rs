//! Bad input, round two: what a determined client does with resources. Each test reproduces
//! one attack over real sockets, measures the resource it protects (the process itself, kept
//! entries, open files, memory, queue bounds) against a bound with headroom, and ends with a
//! fresh client still served.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use liveview_core::{
    html, Config, Endpoint, LiveView, Meta, Params, PubSub, Rendered, Router, Session, Socket,
    UploadOptions, ViewResult,
};
use serde::Deserialize;
use serde_json::{json, Value};
use support::upload::{join_upload, preflight, select, send_chunk, upload_ref};
use support::{
    assert_server_works, get, open_fds, page, rss_bytes, start, start_endpoint, Client, Joined,
};

/// Tests that measure this process's memory run one at a time.
static MEMORY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `a[b][b]…[b]=1` with `depth` brackets.
fn deep_query(depth: usize) -> String {
    format!("a{}=1", "[b]".repeat(depth))
}

#[tokio::test]
async fn ten_thousand_nested_query_keys_are_refused_without_crashing() {
    let address = start().await;
    let deep = deep_query(10_000);

    // The dead render answers 400 (it used to overflow the stack and abort the process).
    let (status, body) = get(address, &format!("/counter?{deep}")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("at most 32"), "{body}");
    let (status, _) = get(address, &format!("/counter?{}", deep_query(31))).await;
    assert_eq!(status, 200, "31 levels are fine");

    // A join for such a URL is refused as `unauthorized` (the client then loads it: 400).
    let page = page(address, "/counter").await;
    let mut client = Client::connect(address, &page.csrf).await;
    let (_, reply) = client
        .join(&page, &format!("http://{address}/counter?{deep}"))
        .await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "unauthorized"}})
    );

    // A patch to it takes the link_redirect path; a form event with such a key is refused.
    let mut joined = Joined::open(address, "/counter").await;
    let msg_ref = joined
        .push(
            "live_patch",
            json!({"url": format!("http://{address}/counter?{deep}")}),
        )
        .await;
    assert_eq!(
        joined.reply_to(&msg_ref).await,
        json!({"link_redirect": true})
    );
    let reply = joined.event_raw(support::form("inc", &deep, None)).await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "malformed event"}})
    );
    let response = joined
        .event(support::click("inc", json!({"value": ""})))
        .await;
    assert_eq!(response, json!({"diff": {"0": "1"}}), "the view goes on");
    assert_server_works(address).await;
}

fn entries(count: usize, prefix: &str) -> Vec<Value> {
    (0..count)
        .map(|i| {
            json!({"path": "files", "ref": format!("{prefix}{i}"), "last_modified": 1,
                   "name": format!("f{i}.txt"), "type": "text/plain", "size": 100})
        })
        .collect()
}

#[tokio::test]
async fn ten_thousand_upload_entries_are_refused_whole() {
    let _memory = MEMORY.lock().await;
    let address = start().await;
    let before = rss_bytes();
    let mut sockets = Vec::new();
    for socket in 0..2 {
        let mut joined = Joined::open(address, "/upload").await;
        let upload = upload_ref(&joined.reply);
        for round in 0..3 {
            let prefix = format!("s{socket}r{round}-");
            let reply = joined
                .event(select(&upload, &entries(10_000, &prefix)))
                .await;
            let text = reply.to_string();
            if round == 0 {
                assert!(
                    text.contains("too_many_files") && text.contains("Too many files"),
                    "the refusal is shown: {text:.300}"
                );
            }
            assert!(!text.contains("f0.txt"), "nothing of the batch is kept");
        }
        // The allow_upload preflight of such a batch is refused too.
        let msg_ref = joined
            .push(
                "allow_upload",
                json!({"ref": upload, "entries": entries(10_000, "p")}),
            )
            .await;
        let response = joined.reply_to(&msg_ref).await;
        assert_eq!(
            response["error"][0],
            json!([upload, "too_many_files"]),
            "{response:.300}"
        );
        sockets.push(joined);
    }
    let grown = rss_bytes().saturating_sub(before);
    // Before the fix: +111 MB from two sockets (every entry kept and rendered).
    assert!(grown < 40 << 20, "memory grew by {} MB", grown >> 20);

    // Four files when three are allowed: all four listed, with the error in words.
    let mut joined = Joined::open(address, "/upload").await;
    let upload = upload_ref(&joined.reply);
    let reply = joined.event(select(&upload, &entries(4, "x"))).await;
    let text = reply.to_string();
    assert!(text.contains("Too many files: choose at most 3"), "{text}");
    assert!(text.contains("f3.txt"), "{text}");
    assert_server_works(address).await;
}

/// A view with one upload config whose temporary files go to a directory of the test's.
struct Uploader {
    dir: PathBuf,
    max_entries: usize,
    chunk_timeout_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum UploadEvent {
    Validate,
    Cancel { r#ref: String },
}

impl LiveView for Uploader {
    type State = ();
    type Event = UploadEvent;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.allow_upload(
            "files",
            UploadOptions::new()
                .max_entries(self.max_entries)
                .max_file_size(1_000_000)
                .chunk_size(1_000)
                .chunk_timeout(self.chunk_timeout_ms)
                .temp_dir(&self.dir),
        )?;
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: UploadEvent) -> ViewResult {
        match event {
            UploadEvent::Validate => {}
            UploadEvent::Cancel { r#ref } => socket.cancel_upload("files", &r#ref)?,
        }
        Ok(())
    }

    fn render(&self, _: &(), meta: &Meta<'_>) -> Rendered {
        let entries = meta
            .uploads
            .get("files")
            .map(|c| c.entries())
            .unwrap_or_default();
        html! {
            (meta.uploads.file_input("files"))
            ul {
                @for entry in entries {
                    li { (&entry.entry_ref) @for error in &entry.errors { " " (error.reason()) } }
                }
            }
        }
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lv-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &PathBuf) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

async fn start_uploader(uploader: Uploader) -> SocketAddr {
    let router = Router::new()
        .live("/", uploader)
        .live("/counter", examples::counter::Counter);
    start_endpoint(examples::endpoint(router, None).unwrap()).await
}

/// Selects and preflights `refs`; returns each entry's upload token.
async fn preflight_tokens(joined: &mut Joined, upload: &str, refs: &[String]) -> Vec<String> {
    let list: Vec<Value> = refs
        .iter()
        .map(|r| json!({"path": "files", "ref": r, "last_modified": 1, "name": format!("{r}.bin"), "type": "application/octet-stream", "size": 10_000}))
        .collect();
    let response = preflight(joined, upload, &list).await;
    refs.iter()
        .map(|r| {
            response["entries"][r]
                .as_str()
                .unwrap_or_else(|| panic!("a token for {r}: {response}"))
                .to_owned()
        })
        .collect()
}

/// Sends one 1,000-byte chunk and returns the reply.
async fn send_one_chunk(joined: &mut Joined, join_ref: &str, entry: &str) -> Value {
    send_chunk(joined, join_ref, entry, &[7; 1_000]).await;
    joined.client.recv().await
}

#[tokio::test]
async fn cancelled_uploads_free_their_files_at_once() {
    let _memory = MEMORY.lock().await;
    let dir = temp_dir("cancel");
    let address = start_uploader(Uploader {
        dir: dir.clone(),
        max_entries: 3,
        chunk_timeout_ms: 60_000,
    })
    .await;
    let mut joined = Joined::open(address, "/").await;
    let upload = upload_ref(&joined.reply);
    let fds_before = open_fds();
    let mut most_files = 0;
    for cycle in 0..100 {
        let refs: Vec<String> = (0..3).map(|i| format!("c{cycle}e{i}")).collect();
        let tokens = preflight_tokens(&mut joined, &upload, &refs).await;
        for (entry, token) in refs.iter().zip(&tokens) {
            let (join_ref, reply) = join_upload(&mut joined, entry, token).await;
            assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
            let reply = send_one_chunk(&mut joined, &join_ref, entry).await;
            assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
        }
        most_files = most_files.max(files_in(&dir));
        for entry in &refs {
            joined
                .event(support::click("cancel", json!({"ref": entry})))
                .await;
        }
        assert_eq!(
            files_in(&dir),
            0,
            "cycle {cycle}: cancelled files are deleted at once"
        );
    }
    assert_eq!(
        most_files, 3,
        "each cycle held its three files while uploading"
    );
    let fds_grown = open_fds().saturating_sub(fds_before);
    // Before the fix: 300 open temporary files after 100 cycles.
    assert!(fds_grown < 20, "{fds_grown} more open files");
    assert_server_works(address).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn upload_channels_per_socket_are_limited() {
    let dir = temp_dir("limit");
    let address = start_uploader(Uploader {
        dir: dir.clone(),
        max_entries: 40,
        chunk_timeout_ms: 60_000,
    })
    .await;
    let mut joined = Joined::open(address, "/").await;
    let upload = upload_ref(&joined.reply);
    let refs: Vec<String> = (0..36).map(|i| format!("e{i}")).collect();
    let tokens = preflight_tokens(&mut joined, &upload, &refs).await;
    let limit = Config::default().max_upload_channels;
    for (i, (entry, token)) in refs.iter().zip(&tokens).enumerate() {
        let (_, reply) = join_upload(&mut joined, entry, token).await;
        if i < limit {
            assert_eq!(reply[4]["status"], json!("ok"), "{i}: {reply}");
        } else {
            assert_eq!(
                reply[4],
                json!({"status": "error", "response": {"reason": "too_many_uploads"}}),
                "{i}"
            );
        }
    }
    assert_server_works(address).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_stalled_upload_is_stopped_after_its_chunk_timeout() {
    let dir = temp_dir("stall");
    let address = start_uploader(Uploader {
        dir: dir.clone(),
        max_entries: 1,
        chunk_timeout_ms: 300,
    })
    .await;
    let mut joined = Joined::open(address, "/").await;
    let upload = upload_ref(&joined.reply);
    let refs = vec!["s0".to_owned()];
    let tokens = preflight_tokens(&mut joined, &upload, &refs).await;
    let (join_ref, _) = join_upload(&mut joined, "s0", &tokens[0]).await;
    send_one_chunk(&mut joined, &join_ref, "s0").await;
    assert_eq!(files_in(&dir), 1);
    // Then silence: the server stops the upload, tells the view and closes the channel.
    let mut closed = false;
    let mut marked = false;
    while !(closed && marked) {
        let frame = joined
            .client
            .try_recv(Duration::from_secs(5))
            .await
            .expect("the stalled upload is stopped");
        if frame[2] == json!("lvu:s0") {
            assert_eq!(frame[3], json!("phx_close"), "{frame}");
            closed = true;
        } else if frame[3] == json!("diff") {
            assert!(frame.to_string().contains("chunk_timeout"), "{frame}");
            marked = true;
        }
    }
    assert_eq!(files_in(&dir), 0, "the partial file is deleted");
    let reply = send_one_chunk(&mut joined, &join_ref, "s0").await;
    assert_eq!(
        reply[4]["status"],
        json!("error"),
        "late chunks are refused: {reply}"
    );
    assert_server_works(address).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A view that queues `count` infos from one event, and one subscribed to a topic that
/// handles each message slowly.
struct Flooder;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum FloodEvent {
    Flood { count: usize },
}

impl LiveView for Flooder {
    type State = usize;
    type Event = FloodEvent;
    type Info = String;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.subscribe("slow").await?;
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: FloodEvent) -> ViewResult {
        let FloodEvent::Flood { count } = event;
        for _ in 0..count {
            socket.send_info(String::new());
        }
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: String) -> ViewResult {
        if !info.is_empty() {
            // A slow consumer: 20 ms per pub/sub message.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        socket.assign(|handled| *handled += 1);
        Ok(())
    }

    fn render(&self, handled: &usize, _: &Meta<'_>) -> Rendered {
        html! { p { (handled) } }
    }
}

fn flooder_endpoint(info_queue: usize) -> Arc<Endpoint> {
    let mut config = Config::default();
    config.info_queue = info_queue;
    Endpoint::builder(
        Router::new()
            .live("/", Flooder)
            .live("/counter", examples::counter::Counter),
    )
    .random_secret_key()
    .config(config)
    .build()
    .unwrap()
}

#[tokio::test]
async fn a_view_that_overflows_its_info_queue_is_ended_and_rejoins() {
    let address = start_endpoint(flooder_endpoint(100)).await;
    let mut joined = Joined::open(address, "/").await;
    // Within the bound: every info is handled.
    let response = joined
        .event(support::click("flood", json!({"count": 100})))
        .await;
    assert_eq!(response, json!({}), "{response}");
    for handled in 1..=100 {
        let (_, diff) = joined.pushed().await;
        assert_eq!(diff, json!({"0": handled.to_string()}));
    }
    // Past it: the view ends as crashed, and the client's rejoin mounts it afresh.
    joined
        .push("event", support::click("flood", json!({"count": 101})))
        .await;
    let error = loop {
        let frame = joined.client.recv().await;
        if frame[3] == json!("phx_error") {
            break frame;
        }
    };
    assert_eq!(error[2], json!(joined.topic));
    let page = page(address, "/").await;
    let mut client = Client::connect(address, &page.csrf).await;
    let (_, reply) = client.join(&page, &format!("http://{address}/")).await;
    assert_eq!(reply[4]["status"], json!("ok"));
    assert_server_works(address).await;
}

#[tokio::test]
async fn pub_sub_messages_for_a_slow_view_stay_bounded() {
    let _memory = MEMORY.lock().await;
    let endpoint = flooder_endpoint(64);
    let pubsub = endpoint.pubsub().clone();
    let address = start_endpoint(endpoint).await;
    let joined = Joined::open(address, "/").await;
    let before = rss_bytes();
    // 4,000 messages of 20 KB (80 MB) for a view that takes 20 ms for each.
    let message = Bytes::from(serde_json::to_vec(&"x".repeat(20_000)).unwrap());
    for _ in 0..4_000 {
        pubsub.publish("slow", message.clone()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let grown = rss_bytes().saturating_sub(before);
    // Held at most: the subscription's 256 and the view's 64 messages (about 6.4 MB).
    assert!(grown < 30 << 20, "memory grew by {} MB", grown >> 20);
    drop(joined);
    assert_server_works(address).await;
}

#[tokio::test]
async fn a_session_token_mounts_only_routes_of_its_live_session() {
    let address = start().await;
    let page = page(address, "/hi/bob").await;
    for (target, expected) in [
        // `/upload` is in the `uploads` live session: refused (the client loads it over HTTP).
        (
            "/upload",
            json!({"status": "error", "response": {"reason": "unauthorized"}}),
        ),
        // `/counter` is in the default live session, like `/hi/:name`: live navigation.
        ("/counter", json!("ok")),
    ] {
        let mut client = Client::connect(address, &page.csrf).await;
        let join_ref = client.next_ref();
        let payload = json!({
            "redirect": format!("http://{address}{target}"),
            "params": {"_csrf_token": page.csrf, "_mounts": 0},
            "session": page.session, "static": null,
        });
        let topic = format!("lv:{}", page.id);
        client
            .send_text(&json!([join_ref, join_ref, topic, "phx_join", payload]).to_string())
            .await;
        let reply = client.recv().await;
        if expected.is_string() {
            assert_eq!(reply[4]["status"], expected, "{target}: {reply}");
        } else {
            assert_eq!(reply[4], expected, "{target}");
        }
    }
    assert_server_works(address).await;
}

/// A view whose `nap` event takes a while: its mailbox fills behind it.
struct Napper;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum NapEvent {
    Nap {
        ms: u64,
        #[serde(default)]
        #[allow(dead_code)]
        pad: String,
    },
}

impl LiveView for Napper {
    type State = ();
    type Event = NapEvent;
    type Info = ();

    async fn handle_event(&self, _: &mut Socket<Self>, event: NapEvent) -> ViewResult {
        let NapEvent::Nap { ms, .. } = event;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    }

    fn render(&self, _: &(), _: &Meta<'_>) -> Rendered {
        html! { p { "napping" } }
    }
}

#[tokio::test]
async fn queued_message_bytes_per_socket_are_bounded() {
    // 10 MB of payloads in flight: not while another test measures memory, and its timing
    // (the view naps while the messages arrive) holds only without that test's CPU load.
    let _memory = MEMORY.lock().await;
    let router = Router::new()
        .live("/", Napper)
        .live("/counter", examples::counter::Counter);
    let address = start_endpoint(examples::endpoint(router, None).unwrap()).await;
    let mut joined = Joined::open(address, "/").await;
    // The view naps; meanwhile 20 messages of 500 KB arrive (10 MB for its mailbox).
    joined
        .push("event", support::click("nap", json!({"ms": 1_000})))
        .await;
    let pad = "p".repeat(500_000);
    for _ in 0..20 {
        joined
            .push("event", support::click("nap", json!({"ms": 0, "pad": pad})))
            .await;
    }
    let (mut accepted, mut overloaded) = (0, 0);
    while accepted + overloaded < 21 {
        let frame = joined.client.recv().await;
        match frame[4]["status"].as_str() {
            Some("ok") => accepted += 1,
            Some("error") => {
                assert_eq!(frame[4]["response"]["reason"], json!("overloaded"));
                overloaded += 1;
            }
            _ => panic!("{frame}"),
        }
    }
    let budget = Config::default().max_queued_bytes;
    // At most the budget's worth of payloads waited (plus the napping one): 8 of 500 KB.
    assert!(accepted <= 1 + budget / 500_000, "{accepted} accepted");
    assert!(overloaded >= 12, "{overloaded} refused");
    let response = joined.event(support::click("nap", json!({"ms": 0}))).await;
    assert_eq!(response, json!({}), "the view goes on");
    assert_server_works(address).await;
}
