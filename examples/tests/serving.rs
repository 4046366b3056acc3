//! Serving beside the live routes: plain routes, several static directories with `ETag`,
//! `Cache-Control` and conditional GET, a template rendered outside a view, and `LiveService`
//! as a tower `Service` (what axum mounts).

use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response};
use liveview_core::Router;
use liveview_hyper::LiveService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower_service::Service;

async fn start_app() -> SocketAddr {
    let endpoint = examples::app(None).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (app, live) = examples::web::app(endpoint, PathBuf::from("/nonexistent"));
    tokio::spawn(examples::web::serve(
        listener,
        app,
        live,
        std::future::pending(),
    ));
    address
}

async fn get(address: SocketAddr, path: &str, extra: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let status = response[9..12].parse().unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (status, head.to_lowercase(), body.to_owned())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
}

#[tokio::test]
async fn a_second_static_directory_answers_with_etag_and_304() {
    let address = start_app().await;
    let (status, head, body) = get(address, "/static/robots.txt", "").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("User-agent: *"));
    assert_eq!(
        header(&head, "cache-control"),
        Some("public, max-age=0, must-revalidate")
    );
    // The head was lower-cased: the weak tag's `W/` back, its hex digits are lower-case anyway.
    let etag = header(&head, "etag")
        .expect("an etag")
        .replacen("w/", "W/", 1);
    let (status, head, body) = get(
        address,
        "/static/robots.txt",
        &format!("If-None-Match: {etag}\r\n"),
    )
    .await;
    assert_eq!(status, 304);
    assert!(body.is_empty());
    assert_eq!(header(&head, "etag"), Some(etag.to_lowercase().as_str()));
    let (status, _, _) = get(address, "/static/../Cargo.toml", "").await;
    assert_eq!(status, 404);
    let (status, _, _) = get(address, "/static/missing.txt", "").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_plain_route_serves_a_template_rendered_outside_a_view() {
    let address = start_app().await;
    let (status, head, body) = get(address, "/about", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&head, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(body.contains("<h1>About these examples</h1>"), "{body}");
    assert!(!body.contains("data-phx-main"), "not a live page");
    // The live routes still answer.
    let (status, _, body) = get(address, "/counter", "").await;
    assert_eq!(status, 200);
    assert!(body.contains("data-phx-main"));
}

#[tokio::test]
async fn live_service_is_a_tower_service_with_plain_post_routes() {
    let endpoint =
        examples::endpoint(Router::new().live("/", examples::index::Index), None).unwrap();
    let mut live = LiveService::new(endpoint).route(Method::POST, "/echo", |request| async move {
        let body = request.into_body();
        Response::new(Full::new(Bytes::from(format!("got {} bytes", body.len()))))
    });
    let call = |method: Method, path: &str, body: &'static str| {
        Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap()
    };
    let response = live
        .call(call(Method::POST, "/echo", "hello"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"got 5 bytes");
    // A method the plain route does not take, on a path no live route owns: 404.
    let response = live.call(call(Method::GET, "/echo", "")).await.unwrap();
    assert_eq!(response.status(), 404);
    // Another method on a live route: 405; the live page itself: 200.
    let response = live.call(call(Method::DELETE, "/", "")).await.unwrap();
    assert_eq!(response.status(), 405);
    let response = live.call(call(Method::GET, "/", "")).await.unwrap();
    assert_eq!(response.status(), 200);
    // A body larger than the plain routes' limit: 413.
    let big = Request::builder()
        .method(Method::POST)
        .uri("/echo")
        .body(Full::new(Bytes::from(vec![
            b'x';
            liveview_hyper::MAX_PLAIN_BODY
                + 1
        ])))
        .unwrap();
    assert_eq!(live.call(big).await.unwrap().status(), 413);
}
