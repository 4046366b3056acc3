//! One simulated browser: GET the page (cookie jar), read the CSRF token, container id and
//! session token, open `/live/websocket` with the cookie and Origin, join `lv:<id>`, then send
//! events one at a time (each waits for its reply) and heartbeats every 30 s.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::de::IgnoredAny;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// How long any reply may take before it counts as an error.
pub(crate) const REPLY_TIMEOUT: Duration = Duration::from_secs(20);
/// The real client's heartbeat interval.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(30);

pub(crate) type Ws = WebSocketStream<TcpStream>;

/// Opens a TCP connection to `server`, from `source` (a 127.0.0.x address) when given, so
/// many thousands of connections do not run out of ephemeral ports on one source address.
pub(crate) async fn connect_tcp(
    server: SocketAddr,
    source: Option<Ipv4Addr>,
) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = source {
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::from((ip, 0)))?;
    }
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// What the client reads from a dead-rendered page.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) id: String,
    pub(crate) session: String,
    pub(crate) csrf: String,
    /// `name=value; name=value` from the response's `Set-Cookie` headers.
    pub(crate) cookies: String,
}

/// A minimal HTTP/1.1 response.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// `GET path` with `Connection: close`, the whole response.
pub(crate) async fn get(
    server: SocketAddr,
    source: Option<Ipv4Addr>,
    path: &str,
) -> Result<Response, String> {
    let mut stream = connect_tcp(server, source)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {server}\r\nAccept: text/html\r\nUser-Agent: loadgen\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::with_capacity(16 * 1024);
    stream
        .read_to_end(&mut raw)
        .await
        .map_err(|e| format!("read: {e}"))?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let end = find(raw, b"\r\n\r\n").ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body).ok_or("bad chunked body")?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    loop {
        let line_end = find(data, b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of the attribute `name="…"` inside `tag`, where `name` starts an attribute.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("{name}=\"");
    let mut from = 0;
    while let Some(at) = tag[from..].find(&marker) {
        let start = from + at;
        let preceded_by_space = tag[..start]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace);
        let value_start = start + marker.len();
        if preceded_by_space {
            let end = tag[value_start..].find('"')? + value_start;
            return Some(&tag[value_start..end]);
        }
        from = value_start;
    }
    None
}

/// Reads the CSRF meta tag and the LiveView container (`data-phx-session`, `id`) from a page,
/// whatever the attribute order (ours and LiveViewJS's differ).
pub(crate) fn parse_page(html: &str) -> Result<(String, String, String), String> {
    let meta_at = html
        .find("<meta name=\"csrf-token\"")
        .ok_or("no csrf-token meta tag")?;
    let meta_end = html[meta_at..].find('>').ok_or("unterminated meta tag")? + meta_at;
    let csrf = attribute(&html[meta_at..meta_end], "content").ok_or("no csrf content")?;
    let session_at = html
        .find("data-phx-session=\"")
        .ok_or("no data-phx-session container")?;
    let tag_start = html[..session_at].rfind('<').ok_or("no container tag")?;
    let tag_end = html[session_at..]
        .find('>')
        .ok_or("unterminated container")?
        + session_at;
    let tag = &html[tag_start..tag_end];
    let session = attribute(tag, "data-phx-session").ok_or("no session")?;
    let id = attribute(tag, "id").ok_or("container has no id")?;
    Ok((id.to_owned(), session.to_owned(), csrf.to_owned()))
}

/// GETs and parses the page at `path`.
pub(crate) async fn page(
    server: SocketAddr,
    source: Option<Ipv4Addr>,
    path: &str,
) -> Result<Page, String> {
    let response = get(server, source, path).await?;
    if response.status != 200 {
        return Err(format!("GET {path}: status {}", response.status));
    }
    let html = String::from_utf8(response.body).map_err(|_| "page is not UTF-8")?;
    let (id, session, csrf) = parse_page(&html)?;
    let cookies = response
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Page {
        id,
        session,
        csrf,
        cookies,
    })
}

/// A joined view.
pub(crate) struct Joined {
    pub(crate) ws: Ws,
    pub(crate) join_ref: String,
    pub(crate) topic: String,
    next_ref: u64,
    last_sent: Instant,
    /// Refs of heartbeats still waiting for their reply.
    heartbeats: Vec<String>,
}

/// `[join_ref, ref, topic, event, payload]` with the payload skipped.
type Frame<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    &'a str,
    IgnoredAny,
);

/// The outcome of waiting for one reply.
pub(crate) struct Reply {
    pub(crate) ok: bool,
    /// The reply frame's size in bytes.
    pub(crate) bytes: usize,
}

impl Joined {
    /// GET the page, open the socket, join. Returns the view and the join's round trip
    /// (`phx_join` sent to its reply) in microseconds.
    pub(crate) async fn open(
        server: SocketAddr,
        source: Option<Ipv4Addr>,
        path: &str,
    ) -> Result<(Joined, u64), String> {
        let page = page(server, source, path).await?;
        let stream = connect_tcp(server, source)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let url = format!(
            "ws://{server}/live/websocket?_csrf_token={}&_mounts=0&_mount_attempts=0&_live_referer=undefined&vsn=2.0.0",
            page.csrf
        );
        let mut request = url
            .into_client_request()
            .map_err(|e| format!("bad url: {e}"))?;
        let headers = request.headers_mut();
        headers.insert(
            "origin",
            HeaderValue::from_str(&format!("http://{server}")).map_err(|e| e.to_string())?,
        );
        if !page.cookies.is_empty() {
            headers.insert(
                "cookie",
                HeaderValue::from_str(&page.cookies).map_err(|e| e.to_string())?,
            );
        }
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0);
        let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(|e| format!("websocket: {e}"))?;
        let mut joined = Joined {
            ws,
            join_ref: String::new(),
            topic: format!("lv:{}", page.id),
            next_ref: 0,
            last_sent: Instant::now(),
            heartbeats: Vec::new(),
        };
        let join_ref = joined.next_ref();
        joined.join_ref = join_ref.clone();
        let payload = serde_json::json!({
            "url": format!("http://{server}{path}"),
            "params": {"_csrf_token": page.csrf, "_mounts": 0, "_mount_attempts": 0},
            "session": page.session,
            "static": "",
            "sticky": false,
        });
        let frame = format!(
            "[\"{join_ref}\",\"{join_ref}\",\"{}\",\"phx_join\",{payload}]",
            joined.topic
        );
        let started = Instant::now();
        joined.send(frame).await?;
        let reply = joined.reply_to(&join_ref).await?;
        let micros = started.elapsed().as_micros() as u64;
        if !reply.ok {
            return Err("join refused".to_owned());
        }
        Ok((joined, micros))
    }

    fn next_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    async fn send(&mut self, frame: String) -> Result<(), String> {
        self.last_sent = Instant::now();
        self.ws
            .send(Message::text(frame))
            .await
            .map_err(|e| format!("send: {e}"))
    }

    /// Sends a heartbeat if the last frame went out 30 s ago or more.
    pub(crate) async fn heartbeat_if_due(&mut self) -> Result<(), String> {
        if self.last_sent.elapsed() >= HEARTBEAT {
            let msg_ref = self.next_ref();
            self.heartbeats.push(msg_ref.clone());
            self.send(format!(
                "[null,\"{msg_ref}\",\"phoenix\",\"heartbeat\",{{}}]"
            ))
            .await?;
        }
        Ok(())
    }

    /// Pushes `event` with `value` (a JSON object) as a click and waits for its reply.
    pub(crate) async fn click(&mut self, event: &str, value: &str) -> Result<Reply, String> {
        self.heartbeat_if_due().await?;
        let msg_ref = self.next_ref();
        let frame = format!(
            "[\"{}\",\"{msg_ref}\",\"{}\",\"event\",{{\"type\":\"click\",\"event\":\"{event}\",\"value\":{value}}}]",
            self.join_ref, self.topic
        );
        self.send(frame).await?;
        self.reply_to(&msg_ref).await
    }

    /// Reads frames until the reply to `msg_ref`; heartbeat replies and server pushes on the
    /// way are skipped.
    async fn reply_to(&mut self, msg_ref: &str) -> Result<Reply, String> {
        let deadline = tokio::time::Instant::now() + REPLY_TIMEOUT;
        loop {
            let message = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .map_err(|_| format!("no reply to {msg_ref} within {REPLY_TIMEOUT:?}"))?;
            let text = match message {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(frame))) => return Err(format!("closed: {frame:?}")),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("read: {e}")),
                None => return Err("closed".to_owned()),
            };
            let (_, reply_ref, _, event, _) = serde_json::from_str::<Frame<'_>>(&text)
                .map_err(|e| format!("bad frame {text}: {e}"))?;
            match reply_ref {
                Some(r) if r == msg_ref => {
                    let ok = event == "phx_reply" && text.contains("\"status\":\"ok\"");
                    return Ok(Reply {
                        ok,
                        bytes: text.len(),
                    });
                }
                Some(r) => {
                    if let Some(at) = self.heartbeats.iter().position(|h| h == r) {
                        self.heartbeats.swap_remove(at);
                    }
                }
                None => {}
            }
        }
    }

    /// Keeps the view open (heartbeats, draining pushes) until `release` turns true.
    pub(crate) async fn idle_until(
        &mut self,
        release: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), String> {
        loop {
            if *release.borrow() {
                return Ok(());
            }
            let wait = HEARTBEAT.saturating_sub(self.last_sent.elapsed());
            tokio::select! {
                changed = release.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                }
                message = self.ws.next() => match message {
                    Some(Ok(Message::Close(frame))) => return Err(format!("closed while idle: {frame:?}")),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(format!("read while idle: {e}")),
                    None => return Err("closed while idle".to_owned()),
                },
                () = tokio::time::sleep(wait) => self.heartbeat_if_due().await?,
            }
        }
    }

    /// Closes the socket politely.
    pub(crate) async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.ws.close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_both_servers_parse() {
        let ours = "<meta name=\"csrf-token\" content=\"abc\">\n<div id=\"phx-1\" data-phx-main data-phx-session=\"tok\" data-phx-static=\"\">x</div>";
        assert_eq!(
            parse_page(ours).unwrap(),
            ("phx-1".into(), "tok".into(), "abc".into())
        );
        let theirs = "<meta name=\"csrf-token\" content=\"c\">\n<div\n  data-phx-main=\"true\"\n  data-phx-session=\"s.t\"\n  data-phx-static=\"\"\n  id=\"phx-Z\">\n</div>";
        assert_eq!(
            parse_page(theirs).unwrap(),
            ("phx-Z".into(), "s.t".into(), "c".into())
        );
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let response = parse_response(raw).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"abcde");
    }
}
