//! A small object store with presigned PUT URLs, standing in for S3 (or GCS, or R2) in the
//! `/upload/external` example: the server signs a URL for one object of one size for a few
//! minutes ([`ObjectStore::presign_put`]), the browser `PUT`s the file there itself, and the
//! server reads the object back to check it ([`ObjectStore::get`]).
//!
//! It serves HTTP on its own loopback port (another origin than the pages, as a bucket is, so
//! it answers CORS preflights), starts on first use, keeps objects in memory, and is bounded:
//! the newest `max_objects` objects of at most `max_object_bytes` each, 64 connections, 10 s
//! to send the headers.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// An in-memory object store reached over HTTP with presigned URLs.
#[derive(Debug)]
pub struct ObjectStore {
    /// Signs URLs; random per store.
    key: [u8; 32],
    /// Where it listens, once started (or why it could not start).
    address: OnceLock<Result<SocketAddr, String>>,
    objects: Mutex<VecDeque<(String, Object)>>,
    max_objects: usize,
    max_object_bytes: u64,
}

/// A stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The contents.
    pub bytes: Bytes,
    /// The `Content-Type` it was sent with.
    pub content_type: String,
}

impl ObjectStore {
    /// A store keeping the newest `max_objects` objects of at most `max_object_bytes` each.
    pub fn new(max_objects: usize, max_object_bytes: u64) -> Arc<Self> {
        let mut key = [0; 32];
        getrandom::fill(&mut key).expect("the operating system random source failed");
        Arc::new(ObjectStore {
            key,
            address: OnceLock::new(),
            objects: Mutex::new(VecDeque::new()),
            max_objects: max_objects.max(1),
            max_object_bytes,
        })
    }

    /// The store's base URL (`http://127.0.0.1:<port>`). The first call starts its server on
    /// a free loopback port, on the current tokio runtime.
    pub fn url(self: &Arc<Self>) -> io::Result<String> {
        let address = self.address.get_or_init(|| {
            self.clone()
                .start()
                .map_err(|error| format!("the object store could not start: {error}"))
        });
        match address {
            Ok(address) => Ok(format!("http://{address}")),
            Err(error) => Err(io::Error::other(error.clone())),
        }
    }

    /// A URL that lets its holder `PUT` exactly `size` bytes as object `key` during
    /// `valid_for` (what S3 calls a presigned URL). Keys are made of `A-Z a-z 0-9 . _ - /`.
    pub fn presign_put(
        self: &Arc<Self>,
        key: &str,
        size: u64,
        valid_for: Duration,
    ) -> io::Result<String> {
        if !valid_key(key) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid object key {key:?}"),
            ));
        }
        self.presigned_url(key, size, unix_now() + valid_for.as_secs())
    }

    fn presigned_url(self: &Arc<Self>, key: &str, size: u64, expires: u64) -> io::Result<String> {
        let url = self.url()?;
        let signature = hex(&self.signature(key, size, expires));
        Ok(format!(
            "{url}/{key}?size={size}&expires={expires}&signature={signature}"
        ))
    }

    /// The object stored as `key`.
    pub fn get(&self, key: &str) -> Option<Object> {
        self.lock()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, object)| object.clone())
    }

    /// How many objects it holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds no object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(String, Object)>> {
        self.objects.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn signature(&self, key: &str, size: u64, expires: u64) -> Vec<u8> {
        self.mac(key, size, expires)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    fn mac(&self, key: &str, size: u64, expires: u64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(format!("PUT\n{key}\n{size}\n{expires}").as_bytes());
        mac
    }

    fn start(self: Arc<Self>) -> io::Result<SocketAddr> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let listener = TcpListener::from_std(listener)?;
        tokio::spawn(self.serve(listener));
        tracing::info!(%address, "object store for external uploads listening");
        Ok(address)
    }

    async fn serve(self: Arc<Self>, listener: TcpListener) {
        let connections = Arc::new(Semaphore::new(64));
        loop {
            let Ok(permit) = connections.clone().acquire_owned().await else {
                return;
            };
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "object store: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let store = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let store = store.clone();
                    async move { Ok::<_, Infallible>(store.handle(request).await) }
                });
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                drop(permit);
            });
        }
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        match *request.method() {
            // The CORS preflight of the browser's PUT from the page's origin.
            Method::OPTIONS => {
                let mut response = respond(StatusCode::NO_CONTENT, "");
                let headers = response.headers_mut();
                headers.insert(
                    "access-control-allow-methods",
                    HeaderValue::from_static("PUT"),
                );
                headers.insert(
                    "access-control-allow-headers",
                    HeaderValue::from_static("content-type"),
                );
                headers.insert("access-control-max-age", HeaderValue::from_static("600"));
                response
            }
            Method::PUT => match self.put(request).await {
                Ok(()) => respond(StatusCode::OK, "stored"),
                Err((status, message)) => {
                    tracing::warn!(%status, message, "object store: PUT refused");
                    respond(status, message)
                }
            },
            _ => respond(StatusCode::METHOD_NOT_ALLOWED, "only PUT"),
        }
    }

    async fn put(&self, request: Request<Incoming>) -> Result<(), (StatusCode, &'static str)> {
        let forbidden = (StatusCode::FORBIDDEN, "bad or expired signature");
        let key = request.uri().path().trim_start_matches('/').to_owned();
        let query = request.uri().query().unwrap_or("");
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        };
        let size: u64 = param("size")
            .and_then(|v| v.parse().ok())
            .ok_or(forbidden)?;
        let expires: u64 = param("expires")
            .and_then(|v| v.parse().ok())
            .ok_or(forbidden)?;
        let signature = param("signature").and_then(unhex).ok_or(forbidden)?;
        if !valid_key(&key) || expires < unix_now() {
            return Err(forbidden);
        }
        // Constant-time comparison.
        self.mac(&key, size, expires)
            .verify_slice(&signature)
            .map_err(|_| forbidden)?;
        if size > self.max_object_bytes {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, "larger than the store takes"));
        }
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .chars()
            .take(100)
            .collect();
        let limit = usize::try_from(size).unwrap_or(usize::MAX);
        let bytes = Limited::new(request.into_body(), limit)
            .collect()
            .await
            .map_err(|_| (StatusCode::BAD_REQUEST, "more bytes than signed for"))?
            .to_bytes();
        if bytes.len() as u64 != size {
            return Err((StatusCode::BAD_REQUEST, "fewer bytes than signed for"));
        }
        let mut objects = self.lock();
        objects.retain(|(k, _)| *k != key);
        objects.push_back((
            key,
            Object {
                bytes,
                content_type,
            },
        ));
        while objects.len() > self.max_objects {
            objects.pop_front();
        }
        Ok(())
    }
}

fn respond(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("access-control-allow-origin", HeaderValue::from_static("*"));
    response
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 200
        && !key.contains("..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Sends one raw HTTP/1.1 request to the store (`method` on `url`, with `body`) and returns
/// the status code: what the browser's uploader does, for tests and tools.
pub async fn send(url: &str, method: &str, body: &[u8]) -> io::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let invalid =
        |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {url}"));
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("not an http URL"))?;
    let (host, path) = rest.split_once('/').ok_or_else(|| invalid("no path"))?;
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let head = format!(
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    response
        .get(9..12)
        .and_then(|code| std::str::from_utf8(code).ok()?.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an HTTP response"))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn request(url: &str, method: &str, body: &[u8]) -> u16 {
        send(url, method, body).await.unwrap()
    }

    #[tokio::test]
    async fn a_presigned_put_stores_exactly_what_was_signed() {
        let store = ObjectStore::new(2, 100);
        let url = store
            .presign_put("a/b.txt", 5, Duration::from_secs(60))
            .unwrap();
        assert_eq!(request(&url, "PUT", b"hello").await, 200);
        let object = store.get("a/b.txt").unwrap();
        assert_eq!(
            (object.bytes.as_ref(), object.content_type.as_str()),
            (&b"hello"[..], "text/plain")
        );
        assert_eq!(request(&url, "PUT", b"hello!").await, 400, "too many bytes");
        assert_eq!(request(&url, "PUT", b"hell").await, 400, "too few bytes");
        let forged = url.replace("size=5", "size=4");
        assert_eq!(request(&forged, "PUT", b"hell").await, 403);
        let other_key = url.replace("a/b.txt", "a/c.txt");
        assert_eq!(request(&other_key, "PUT", b"hello").await, 403);
        assert_eq!(request(&url, "OPTIONS", b"").await, 204);
        assert_eq!(request(&url, "GET", b"").await, 405);
    }

    #[tokio::test]
    async fn it_keeps_the_newest_objects_and_refuses_big_ones() {
        let store = ObjectStore::new(2, 10);
        for key in ["one", "two", "three"] {
            let url = store.presign_put(key, 1, Duration::from_secs(60)).unwrap();
            assert_eq!(request(&url, "PUT", b"x").await, 200);
        }
        assert_eq!(store.len(), 2);
        assert!(store.get("one").is_none());
        let url = store
            .presign_put("big", 11, Duration::from_secs(60))
            .unwrap();
        assert_eq!(request(&url, "PUT", &[0; 11]).await, 413);
        let expired = store.presigned_url("old", 1, unix_now() - 1).unwrap();
        assert_eq!(request(&expired, "PUT", b"x").await, 403);
        assert!(store
            .presign_put("../etc", 1, Duration::from_secs(1))
            .is_err());
    }
}
