//! Transport behaviour: origin checks on the upgrade, graceful shutdown closing sockets with
//! 1001, the message rate limit, and assets.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use liveview_core::{html, Config, Endpoint, LiveView, Meta, Rendered, Router};
use liveview_hyper::{LiveService, ServeOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

#[derive(Default)]
struct Hello;

impl LiveView for Hello {
    type State = ();
    type Event = ();
    type Info = ();

    fn render(&self, _: &(), _: &Meta<'_>) -> Rendered {
        html! { p { "hello" } }
    }
}

fn endpoint(config: Config) -> std::sync::Arc<Endpoint> {
    Endpoint::builder(Router::new().live("/", Hello))
        .random_secret_key()
        .config(config)
        .build()
        .unwrap()
}

/// A server on a free loopback port with the default [`ServeOptions`]; stopped by sending on
/// the returned channel.
async fn start(
    service: LiveService,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    start_with(service, ServeOptions::default()).await
}

/// Waits (up to `limit`) until the service holds no connection.
async fn wait_for_no_connections(service: &LiveService, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while service.open_connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn raw_get(address: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn foreign_origins_are_refused_and_allowed_ones_pass() {
    let service =
        LiveService::new(endpoint(Config::default())).allow_origins(["https://trusted.example"]);
    let (address, _stop, _server) = start(service).await;
    let url = format!("ws://{address}/live/websocket?vsn=2.0.0");

    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let error = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(error.to_string().contains("403"), "{error}");

    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://trusted.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());

    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", format!("http://{address}").parse().unwrap());
    assert!(
        tokio_tungstenite::connect_async(request).await.is_ok(),
        "same origin passes"
    );
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away_and_returns() {
    let (address, stop, server) = start(LiveService::new(endpoint(Config::default()))).await;
    let url = format!("ws://{address}/live/websocket?vsn=2.0.0");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    stop.send(()).unwrap();
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the socket is closed promptly");
    assert_eq!(close.map(|frame| frame.code), Some(CloseCode::Away));
    tokio::time::timeout(Duration::from_secs(11), server)
        .await
        .expect("the server returns within its grace period")
        .unwrap();
    assert!(
        TcpStream::connect(address).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn flooding_clients_are_disconnected() {
    let mut config = Config::default();
    config.max_messages_per_second = 10;
    config.message_burst = 20;
    let (address, _stop, _server) = start(LiveService::new(endpoint(config))).await;
    let url = format!("ws://{address}/live/websocket?vsn=2.0.0");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    for i in 0..100 {
        let frame = format!(r#"[null,"{i}","phoenix","heartbeat",{{}}]"#);
        if socket.send(Message::text(frame)).await.is_err() {
            break;
        }
    }
    let mut replies = 0;
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Text(_))) => replies += 1,
            Some(Ok(Message::Close(frame))) => break frame.map(|frame| frame.code),
            Some(Ok(_)) => {}
            Some(Err(error)) => panic!("the connection was not closed gracefully: {error}"),
            None => break None,
        }
    };
    // The burst was answered (the replies owed arrive), then a graceful close with 1008: the
    // server drained the unread input instead of resetting the connection.
    assert!(
        (20..=22).contains(&replies),
        "a burst of replies, got {replies}"
    );
    assert_eq!(close, Some(CloseCode::Policy));
    let url = format!("ws://{address}/live/websocket?vsn=2.0.0");
    let (mut fresh, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    fresh
        .send(Message::text(r#"[null,"1","phoenix","heartbeat",{}]"#))
        .await
        .unwrap();
    assert!(
        matches!(fresh.next().await, Some(Ok(Message::Text(_)))),
        "other sockets still work"
    );
}

#[tokio::test]
async fn assets_are_served_without_path_traversal() {
    let dir = std::env::temp_dir().join(format!("lv-assets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("app.js"), "console.log(1)").unwrap();
    let (address, _stop, _server) =
        start(LiveService::new(endpoint(Config::default())).assets_dir(&dir)).await;
    let response = raw_get(address, "/assets/app.js").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("text/javascript"));
    assert!(response.ends_with("console.log(1)"));
    for path in [
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/Cargo.toml",
        "/assets/",
        "/assets/nope.js",
    ] {
        assert!(
            raw_get(address, path).await.starts_with("HTTP/1.1 404"),
            "{path}"
        );
    }
    let page = raw_get(address, "/").await;
    assert!(page.starts_with("HTTP/1.1 200") && page.contains("<p>hello</p>"));
}

#[tokio::test]
async fn silent_sockets_are_closed_after_the_idle_timeout() {
    let mut config = Config::default();
    // Heartbeats every 200 ms against a 1 s timeout: a wide margin for a loaded machine.
    config.idle_timeout = Duration::from_secs(1);
    let service = LiveService::new(endpoint(config));
    let (address, _stop, _server) = start(service.clone()).await;
    let url = format!("ws://{address}/live/websocket?vsn=2.0.0");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // Heartbeats keep it open (for longer than the timeout in total).
    for i in 0..8 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let frame = format!(r#"[null,"{i}","phoenix","heartbeat",{{}}]"#);
        socket.send(Message::text(frame)).await.unwrap();
        assert!(matches!(socket.next().await, Some(Ok(Message::Text(_)))));
    }
    // Silence closes it with 1001, and the server forgets the connection.
    let close = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|frame| frame.code),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("closed after the idle timeout");
    assert_eq!(close, Some(CloseCode::Away));
    // The server lingers briefly for the client's answer to its close frame, then lets go.
    wait_for_no_connections(&service, Duration::from_secs(5)).await;
    assert_eq!(
        service.open_connections(),
        0,
        "no connection is left behind"
    );
}

#[tokio::test]
async fn clients_that_stop_reading_are_disconnected() {
    let mut config = Config::default();
    config.write_timeout = Duration::from_millis(300);
    config.max_messages_per_second = 1_000_000;
    config.message_burst = 1_000_000;
    let service = LiveService::new(endpoint(config));
    let (address, _stop, _server) = start(service.clone()).await;
    let url = format!("ws://{address}/live/websocket?vsn=2.0.0");
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (mut sink, stream) = socket.split();
    // Send heartbeats without ever reading a reply, until the server stops taking them.
    let flood = tokio::spawn(async move {
        let frame = r#"[null,"1","phoenix","heartbeat",{}]"#;
        for _ in 0..2_000_000 {
            let sent =
                tokio::time::timeout(Duration::from_secs(2), sink.send(Message::text(frame))).await;
            if !matches!(sent, Ok(Ok(()))) {
                break;
            }
        }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if service.open_connections() == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled socket was not closed"
        );
    }
    flood.abort();
    drop(stream);
}

async fn start_with(
    service: LiveService,
    options: ServeOptions,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        liveview_hyper::serve_with_options(listener, service, options, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (address, stop, server)
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut response = Vec::new();
    match tokio::time::timeout(wait, stream.read_to_end(&mut response)).await {
        Ok(_) => Some(String::from_utf8_lossy(&response).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn half_sent_requests_are_dropped_and_cannot_lock_out_clients() {
    let service = LiveService::new(endpoint(Config::default()));
    let options = ServeOptions::default()
        .max_connections(4)
        .header_read_timeout(Duration::from_millis(300));
    let (address, _stop, _server) = start_with(service.clone(), options).await;
    // Twice as many half-sent requests as the server serves at once (slowloris).
    let mut attackers = Vec::new();
    for _ in 0..8 {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(format!("GET / HTTP/1.1\r\nHost: {address}\r\nX-Slow: 1\r\n").as_bytes())
            .await
            .unwrap();
        attackers.push(stream);
    }
    // A real client is still served: the header timeout frees the attackers' places.
    let page = tokio::time::timeout(Duration::from_secs(5), raw_get(address, "/"))
        .await
        .expect("served despite the half-sent requests");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    // Every attacker was disconnected (before the fix, they were held forever).
    for stream in &mut attackers {
        assert!(
            read_until_closed(stream, Duration::from_secs(5))
                .await
                .is_some(),
            "a half-sent request was held"
        );
    }
    // An idle kept-alive connection is not held either.
    let mut idle = TcpStream::connect(address).await.unwrap();
    idle.write_all(format!("GET / HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let response = read_until_closed(&mut idle, Duration::from_secs(5))
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    wait_for_no_connections(&service, Duration::from_secs(3)).await;
    assert_eq!(
        service.open_connections(),
        0,
        "no connection is left behind"
    );
}

#[tokio::test]
async fn shutdown_does_not_wait_for_idle_keep_alive_connections() {
    let service = LiveService::new(endpoint(Config::default()));
    let (address, stop, server) = start_with(service, ServeOptions::default()).await;
    let mut idle = TcpStream::connect(address).await.unwrap();
    idle.write_all(format!("GET / HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = [0; 12];
    idle.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let started = tokio::time::Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(11), server)
        .await
        .unwrap()
        .unwrap();
    // The grace period is 10 s; an idle connection must not use it up.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown waited {:?} for an idle connection",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unfinished_fragmented_message_is_not_kept_alive_by_pings() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;

    let mut config = Config::default();
    config.idle_timeout = Duration::from_millis(400);
    let service = LiveService::new(endpoint(config));
    let (address, _stop, _server) = start(service.clone()).await;
    let url = format!("ws://{address}/live/websocket?vsn=2.0.0");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // The first fragment of a text message just under the frame limit, never finished.
    let fragment = Frame::message(vec![b'x'; 1_000_000], OpCode::Data(Data::Text), false);
    socket.send(Message::Frame(fragment)).await.unwrap();
    let started = tokio::time::Instant::now();
    let closed = loop {
        if started.elapsed() > Duration::from_secs(4) {
            break false;
        }
        if socket.send(Message::Ping(vec![1].into())).await.is_err() {
            break true;
        }
        match tokio::time::timeout(Duration::from_millis(100), socket.next()).await {
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => break true,
            _ => {}
        }
    };
    assert!(closed, "pings kept a socket with a partial message alive");
    wait_for_no_connections(&service, Duration::from_secs(3)).await;
    assert_eq!(
        service.open_connections(),
        0,
        "the partial message is freed"
    );
}
