//! `loadgen probe`: the adversarial probe of the hardening issue, as a repeatable tool. Each
//! attack starts a fresh examples server (`--exe`), attacks it over loopback (each attack
//! bounded in count and time), and reads what it costs the server from `/proc`: resident
//! memory, open files, connections held, seconds held, log bytes. Run it against an older
//! build to get the "before" figures.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{connect_tcp, page, Ws};
use crate::procfs::rss_bytes;

/// Every attack, in the order of the findings.
pub(crate) const ATTACKS: &[&str] = &[
    "deep-query",
    "upload-entries",
    "upload-files",
    "slowloris",
    "search-flood",
    "stuck-socket",
    "fragment",
    "route-binding",
    "log-flood",
    "rate-limit",
];

/// One line of the report.
struct Row {
    attack: &'static str,
    figure: String,
}

/// Runs the attacks named in `only` (all by default) against fresh servers of `exe`.
pub(crate) fn run(exe: &Path, only: Option<&[String]>) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for &attack in ATTACKS {
        if only.is_some_and(|only| !only.iter().any(|name| name == attack)) {
            continue;
        }
        eprintln!("probe: {attack}");
        let mut server = Server::start(exe)?;
        let figure = runtime.block_on(probe(attack, &mut server));
        let figure = figure.unwrap_or_else(|error| format!("probe failed: {error}"));
        rows.push(Row { attack, figure });
    }
    let mut out = String::from("| attack | what the server paid |\n| --- | --- |\n");
    for row in rows {
        out.push_str(&format!("| {} | {} |\n", row.attack, row.figure));
    }
    Ok(out)
}

async fn probe(attack: &str, server: &mut Server) -> Result<String, String> {
    match attack {
        "deep-query" => deep_query(server).await,
        "upload-entries" => upload_entries(server).await,
        "upload-files" => upload_files(server).await,
        "slowloris" => slowloris(server).await,
        "search-flood" => search_flood(server).await,
        "stuck-socket" => stuck_socket(server).await,
        "fragment" => fragment(server).await,
        "route-binding" => route_binding(server).await,
        "log-flood" => log_flood(server).await,
        "rate-limit" => rate_limit(server).await,
        other => Err(format!("unknown attack {other}")),
    }
}

/// An examples server started for one attack, its stderr going to a file.
struct Server {
    child: Child,
    address: SocketAddr,
    log: PathBuf,
}

impl Server {
    fn start(exe: &Path) -> Result<Server, String> {
        let log = std::env::temp_dir().join(format!("lv-probe-{}.log", std::process::id()));
        let mut file = fs::File::create(&log).map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stdout);
        // The log goes to stdout (and stderr); everything after the address line is kept.
        let address = loop {
            let mut line = String::new();
            if lines.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err("the server exited before listening".into());
            }
            if let Some(address) = line.trim().strip_prefix("listening on http://") {
                break address
                    .parse()
                    .map_err(|_| format!("bad address in {line:?}"))?;
            }
        };
        let mut file2 = file.try_clone().map_err(|e| e.to_string())?;
        std::thread::spawn(move || std::io::copy(&mut lines, &mut file));
        std::thread::spawn(move || std::io::copy(&mut BufReader::new(stderr), &mut file2));
        Ok(Server {
            child,
            address,
            log,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn rss_mb(&self) -> f64 {
        rss_bytes(self.pid()).unwrap_or(0) as f64 / 1e6
    }

    fn open_files(&self) -> usize {
        fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|dir| dir.count())
            .unwrap_or(0)
    }

    /// Open files of the server under the system temp directory (upload files).
    fn temp_files(&self) -> usize {
        let temp = std::env::temp_dir();
        fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|dir| {
                dir.filter_map(|fd| fs::read_link(fd.ok()?.path()).ok())
                    .filter(|target| target.starts_with(&temp))
                    .count()
            })
            .unwrap_or(0)
    }

    fn log_bytes(&self) -> u64 {
        fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

/// Whether the server still has the TCP connection from `client_port` established
/// (`/proc/net/tcp`, the server's side).
fn established(server: SocketAddr, client_port: u16) -> bool {
    let table = fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let local = format!(":{:04X}", server.port());
    let remote = format!(":{client_port:04X}");
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.len() > 3
            && fields[1].ends_with(&local)
            && fields[2].ends_with(&remote)
            && fields[3] == "01"
    })
}

/// A joined view with a plain JSON client.
struct View {
    ws: Ws,
    join_ref: String,
    topic: String,
    next: u64,
    /// The join reply.
    joined: Value,
}

impl View {
    async fn open(server: SocketAddr, path: &str) -> Result<View, String> {
        let page = page(server, None, path).await?;
        let mut ws = socket(server, &page.csrf).await?;
        let topic = format!("lv:{}", page.id);
        let join = json!(["1", "1", topic, "phx_join", {
            "url": format!("http://{server}{path}"),
            "params": {"_csrf_token": page.csrf, "_mounts": 0},
            "session": page.session, "static": null,
        }]);
        ws.send(Message::text(join.to_string()))
            .await
            .map_err(|e| e.to_string())?;
        let mut view = View {
            ws,
            join_ref: "1".into(),
            topic,
            next: 1,
            joined: Value::Null,
        };
        let reply = view.recv().await?;
        if reply[4]["status"] != json!("ok") {
            return Err(format!("join {path}: {reply}"));
        }
        view.joined = reply;
        Ok(view)
    }

    async fn push(&mut self, event: &str, payload: Value) -> Result<String, String> {
        self.next += 1;
        let msg_ref = self.next.to_string();
        let frame = json!([self.join_ref, msg_ref, self.topic, event, payload]);
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .map_err(|e| e.to_string())?;
        Ok(msg_ref)
    }

    async fn recv(&mut self) -> Result<Value, String> {
        loop {
            match tokio::time::timeout(Duration::from_secs(20), self.ws.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    return serde_json::from_str(text.as_str()).map_err(|e| e.to_string())
                }
                Ok(Some(Ok(_))) => continue,
                Ok(other) => return Err(format!("socket ended: {other:?}")),
                Err(_) => return Err("no frame within 20 s".into()),
            }
        }
    }

    /// Pushes and waits for the reply to it (skipping pushes).
    async fn call(&mut self, event: &str, payload: Value) -> Result<Value, String> {
        let msg_ref = self.push(event, payload).await?;
        loop {
            let frame = self.recv().await?;
            if frame[1] == json!(msg_ref) {
                return Ok(frame);
            }
        }
    }
}

async fn socket(server: SocketAddr, csrf: &str) -> Result<Ws, String> {
    let stream = connect_tcp(server, None).await.map_err(|e| e.to_string())?;
    let url = format!("ws://{server}/live/websocket?_csrf_token={csrf}&vsn=2.0.0");
    let (ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

async fn raw_get(server: SocketAddr, target: &str) -> Result<u16, String> {
    let mut stream = TcpStream::connect(server)
        .await
        .map_err(|e| e.to_string())?;
    let request = format!("GET {target} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .map_err(|_| "no response within 10 s")?;
    read.map_err(|e| format!("connection failed: {e}"))?;
    let status = std::str::from_utf8(response.get(9..12).ok_or("no status line")?)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    Ok(status)
}

fn upload_ref(join: &Value) -> Option<String> {
    let text = join.to_string();
    let marker = "data-phx-upload-ref=\\\"";
    let start = text.find(marker)? + marker.len();
    let end = text[start..].find('\\')? + start;
    Some(text[start..end].to_owned())
}

// ---------------------------------------------------------------- attacks

async fn deep_query(server: &mut Server) -> Result<String, String> {
    let target = format!("/counter?a{}=1", "[b]".repeat(10_000));
    let answer = match raw_get(server.address, &target).await {
        Ok(status) => format!("status {status}"),
        Err(error) => error,
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let alive = server.alive() && raw_get(server.address, "/counter").await == Ok(200);
    Ok(format!(
        "answer: {answer}; server {}",
        if alive { "still serving" } else { "DEAD" }
    ))
}

async fn upload_entries(server: &mut Server) -> Result<String, String> {
    let before = server.rss_mb();
    let mut slowest = Duration::ZERO;
    let mut views = Vec::new();
    for socket in 0..2 {
        let mut view = View::open(server.address, "/upload").await?;
        let upload = upload_ref(&view.joined).ok_or("no upload ref")?;
        for round in 0..3 {
            let entries: Vec<Value> = (0..10_000)
                .map(|i| json!({"path": "files", "ref": format!("s{socket}r{round}e{i}"), "last_modified": 1, "name": format!("f{i}.txt"), "type": "text/plain", "size": 100}))
                .collect();
            let started = Instant::now();
            view.call(
                "event",
                json!({"type": "form", "event": "validate", "value": "",
                "meta": {"_target": "files"}, "uploads": {upload.clone(): entries}}),
            )
            .await?;
            slowest = slowest.max(started.elapsed());
        }
        views.push(view);
    }
    Ok(format!(
        "RSS +{:.1} MB after 6 batches of 10,000 entries (2 sockets); slowest event {} ms",
        server.rss_mb() - before,
        slowest.as_millis()
    ))
}

async fn upload_files(server: &mut Server) -> Result<String, String> {
    let files_before = server.open_files();
    let mut view = View::open(server.address, "/upload").await?;
    let upload = upload_ref(&view.joined).ok_or("no upload ref")?;
    for cycle in 0..100 {
        let refs: Vec<String> = (0..3).map(|i| format!("c{cycle}e{i}")).collect();
        let entries: Vec<Value> = refs
            .iter()
            .map(|r| json!({"path": "files", "ref": r, "last_modified": 1, "name": format!("{r}.txt"), "type": "text/plain", "size": 10_000}))
            .collect();
        view.call(
            "event",
            json!({"type": "form", "event": "validate", "value": "",
            "meta": {"_target": "files"}, "uploads": {upload.clone(): entries.clone()}}),
        )
        .await?;
        let preflight = view
            .call("allow_upload", json!({"ref": upload, "entries": entries}))
            .await?;
        for r in &refs {
            let token = preflight[4]["response"]["entries"][r]
                .as_str()
                .ok_or_else(|| format!("no token: {preflight}"))?
                .to_owned();
            let topic = format!("lvu:{r}");
            view.next += 1;
            let join_ref = view.next.to_string();
            let join = json!([join_ref, join_ref, topic, "phx_join", {"token": token}]);
            view.ws
                .send(Message::text(join.to_string()))
                .await
                .map_err(|e| e.to_string())?;
            let reply = view.recv().await?;
            if reply[4]["status"] != json!("ok") {
                return Err(format!("upload join refused: {reply}"));
            }
            let mut chunk = vec![
                0,
                join_ref.len() as u8,
                2,
                topic.len() as u8,
                "chunk".len() as u8,
            ];
            for part in [join_ref.as_str(), "c1", topic.as_str(), "chunk"] {
                chunk.extend_from_slice(part.as_bytes());
            }
            chunk.extend_from_slice(&[7; 1_000]);
            view.ws
                .send(Message::binary(chunk))
                .await
                .map_err(|e| e.to_string())?;
            view.recv().await?;
        }
        for r in &refs {
            view.call(
                "event",
                json!({"type": "click", "event": "cancel", "value": {"ref": r}}),
            )
            .await?;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(format!(
        "after 100 cycles of 3 cancelled uploads: {} upload files open, +{} open files",
        server.temp_files(),
        server.open_files().saturating_sub(files_before)
    ))
}

async fn slowloris(server: &mut Server) -> Result<String, String> {
    let mut held = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(server.address)
            .await
            .map_err(|e| e.to_string())?;
        let partial = format!(
            "GET / HTTP/1.1\r\nHost: {}\r\nX-Slow: 1\r\n",
            server.address
        );
        stream
            .write_all(partial.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_secs(15)).await;
    let mut still_open = 0;
    for stream in &mut held {
        let mut byte = [0; 1];
        let read = tokio::time::timeout(Duration::from_millis(10), stream.read(&mut byte)).await;
        if read.is_err() {
            still_open += 1;
        }
    }
    let fresh = raw_get(server.address, "/counter").await;
    Ok(format!(
        "300 half-sent requests: {still_open} still held after 15 s; a fresh GET: {}",
        match fresh {
            Ok(status) => format!("status {status}"),
            Err(error) => error,
        }
    ))
}

async fn search_flood(server: &mut Server) -> Result<String, String> {
    let before = server.rss_mb();
    let mut view = View::open(server.address, "/search").await?;
    let zip = "9".repeat(140_000);
    let mut sent = 0;
    for _ in 0..390 {
        let value = format!("zip={zip}");
        view.push(
            "event",
            json!({"type": "form", "event": "zip-search", "value": value}),
        )
        .await?;
        sent += 1;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(format!(
        "{sent} searches of 140 KB from one socket: RSS +{:.1} MB",
        server.rss_mb() - before
    ))
}

async fn stuck_socket(server: &mut Server) -> Result<String, String> {
    // One socket joins the chat three times, then stops reading.
    let first = page(server.address, None, "/chat").await?;
    let stream = connect_tcp(server.address, None)
        .await
        .map_err(|e| e.to_string())?;
    let client_port = stream.local_addr().map_err(|e| e.to_string())?.port();
    let url = format!(
        "ws://{}/live/websocket?_csrf_token={}&vsn=2.0.0",
        server.address, first.csrf
    );
    let (mut stuck, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|e| e.to_string())?;
    for i in 0..3 {
        let page = page(server.address, None, "/chat").await?;
        let join_ref = format!("j{i}");
        let join = json!([join_ref, join_ref, format!("lv:{}", page.id), "phx_join", {
            "url": format!("http://{}/chat", server.address),
            "params": {"_csrf_token": page.csrf, "_mounts": 0},
            "session": page.session, "static": null,
        }]);
        stuck
            .send(Message::text(join.to_string()))
            .await
            .map_err(|e| e.to_string())?;
    }
    let before = server.rss_mb();
    let mut poster = View::open(server.address, "/chat").await?;
    let text = "m".repeat(10_000);
    let started = Instant::now();
    let mut peak = 0.0f64;
    for _ in 0..3_000 {
        let value = format!("author=probe&text={text}");
        let _ = poster
            .call(
                "event",
                json!({"type": "form", "event": "send", "value": value}),
            )
            .await;
        peak = peak.max(server.rss_mb() - before);
        if !established(server.address, client_port) {
            break;
        }
    }
    let mut held = None;
    while started.elapsed() < Duration::from_secs(150) {
        if !established(server.address, client_port) {
            held = Some(started.elapsed());
            break;
        }
        peak = peak.max(server.rss_mb() - before);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stuck);
    Ok(format!(
        "3 views on a socket that stopped reading: closed after {}; RSS peak +{peak:.1} MB",
        held.map_or("more than 150 s".to_owned(), |held| format!(
            "{:.0} s",
            held.as_secs_f64()
        ))
    ))
}

async fn fragment(server: &mut Server) -> Result<String, String> {
    let before = server.rss_mb();
    let mut sockets = Vec::new();
    for _ in 0..20 {
        let page = page(server.address, None, "/counter").await?;
        let stream = connect_tcp(server.address, None)
            .await
            .map_err(|e| e.to_string())?;
        let port = stream.local_addr().map_err(|e| e.to_string())?.port();
        let url = format!(
            "ws://{}/live/websocket?_csrf_token={}&vsn=2.0.0",
            server.address, page.csrf
        );
        let (mut ws, _) = tokio_tungstenite::client_async(url, stream)
            .await
            .map_err(|e| e.to_string())?;
        let frame = Frame::message(vec![b'x'; 1_000_000], OpCode::Data(Data::Text), false);
        ws.send(Message::Frame(frame))
            .await
            .map_err(|e| e.to_string())?;
        sockets.push((ws, port));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held_mb = server.rss_mb() - before;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(80) {
        for (ws, _) in &mut sockets {
            let _ = ws.send(Message::Ping(vec![1].into())).await;
        }
        tokio::time::sleep(Duration::from_secs(20)).await;
    }
    let open = sockets
        .iter()
        .filter(|(_, port)| established(server.address, *port))
        .count();
    Ok(format!(
        "20 unfinished 1 MB messages + a ping every 20 s: RSS +{held_mb:.1} MB; {open} of 20 sockets still held after 80 s"
    ))
}

async fn route_binding(server: &mut Server) -> Result<String, String> {
    let page = page(server.address, None, "/hi/bob").await?;
    let mut ws = socket(server.address, &page.csrf).await?;
    let join = json!(["1", "1", format!("lv:{}", page.id), "phx_join", {
        "redirect": format!("http://{}/upload", server.address),
        "params": {"_csrf_token": page.csrf, "_mounts": 0},
        "session": page.session, "static": null,
    }]);
    ws.send(Message::text(join.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    let reply = match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => text.as_str().to_owned(),
        other => return Err(format!("no reply: {other:?}")),
    };
    Ok(if reply.contains("\"status\":\"ok\"") {
        "the token of /hi/bob MOUNTED /upload".to_owned()
    } else {
        format!("the token of /hi/bob was refused for /upload: {reply:.120}")
    })
}

async fn log_flood(server: &mut Server) -> Result<String, String> {
    let mut view = View::open(server.address, "/counter").await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = server.log_bytes();
    let name = format!("\nERROR forged line\u{1b}[31m{}", "x".repeat(500_000));
    for _ in 0..5 {
        view.call(
            "event",
            json!({"type": "click", "event": name, "value": {}}),
        )
        .await?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let added = server.log_bytes() - before;
    let mut log = String::new();
    fs::File::open(&server.log)
        .and_then(|mut file| file.read_to_string(&mut log))
        .map_err(|e| e.to_string())?;
    let forged = log
        .lines()
        .any(|line| line.starts_with("ERROR forged line"));
    let escapes = log.contains("\u{1b}[31m");
    Ok(format!(
        "5 events named with 500 KB: +{} KB of log; forged line: {}; raw ANSI escape: {}",
        added / 1000,
        if forged { "yes" } else { "no" },
        if escapes { "yes" } else { "no" }
    ))
}

async fn rate_limit(server: &mut Server) -> Result<String, String> {
    let page = page(server.address, None, "/counter").await?;
    let mut ws = socket(server.address, &page.csrf).await?;
    for i in 0..3_000 {
        let frame = format!("[null,\"{i}\",\"phoenix\",\"heartbeat\",{{}}]");
        if ws.send(Message::text(frame)).await.is_err() {
            break;
        }
    }
    let mut replies = 0;
    let ending = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(_)))) => replies += 1,
            Ok(Some(Ok(Message::Close(frame)))) => {
                break format!("close frame {:?}", frame.map(|f| u16::from(f.code)))
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(error))) => {
                break format!("connection error ({error}): the client sees 1006")
            }
            Ok(None) => break "ended without a close frame".to_owned(),
            Err(_) => break "nothing within 10 s".to_owned(),
        }
    };
    Ok(format!(
        "3,000 heartbeats at once: {replies} replies, then {ending}"
    ))
}
