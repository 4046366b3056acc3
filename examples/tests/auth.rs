//! The users app (`examples::auth`) and what it stands on, over real HTTP and real sockets:
//! the user's signed session cookie (forged or tampered ones are refused), `on_mount` guards
//! halting in the HTTP render and at the join, live sessions binding a page's token to its
//! own routes, connect params reaching mount, error pages, the axum-mounted service, and
//! patches between routes of one view (`live_action`).

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use examples::auth::{User, COOKIE};
use liveview_core::{html, Halt, LiveSession, LiveView, Meta, Rendered, Router, Signer};
use liveview_hyper::SessionCookie;
use serde_json::{json, Value};
use support::{attribute, Client, Page};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SECRET: &[u8] = b"auth-test-secret-auth-test-secret-0123";

/// The examples app served through axum, as the binary serves it.
async fn start_app() -> SocketAddr {
    let endpoint = examples::app(Some(SECRET)).unwrap();
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

/// A `Cookie` header value with `user`, signed with `secret`.
fn user_cookie(secret: &[u8], name: &str, admin: bool) -> String {
    let cookie = SessionCookie::new(COOKIE, Signer::new(secret).unwrap());
    let header = cookie.set(&User {
        name: name.to_owned(),
        admin,
    });
    header
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// A raw HTTP/1.1 request; returns the status, the lower-cased head and the body.
async fn request(address: SocketAddr, head: &str, body: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!(
        "{head}\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response[9..12].parse().unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (status, head.to_lowercase(), body.to_owned())
}

async fn get(address: SocketAddr, path: &str, cookie: Option<&str>) -> (u16, String, String) {
    let head = match cookie {
        Some(cookie) => format!("GET {path} HTTP/1.1\r\nCookie: {cookie}"),
        None => format!("GET {path} HTTP/1.1"),
    };
    request(address, &head, "").await
}

fn page_of(html: &str) -> Page {
    Page {
        id: attribute(html, " id=\""),
        session: attribute(html, "data-phx-session=\""),
        csrf: attribute(html, "<meta name=\"csrf-token\" content=\""),
        html: html.to_owned(),
    }
}

/// Joins `page`'s view with a payload of its own (connect params, a live navigation).
async fn join_with(
    client: &mut Client,
    page: &Page,
    url_key: &str,
    url: &str,
    params: Value,
) -> Value {
    let topic = format!("lv:{}", page.id);
    let join_ref = client.next_ref();
    let mut all = json!({"_csrf_token": page.csrf, "_mounts": 0});
    for (key, value) in params.as_object().unwrap() {
        all[key] = value.clone();
    }
    let payload = json!({url_key: url, "params": all, "session": page.session, "static": null});
    let frame = json!([join_ref, join_ref, topic, "phx_join", payload]);
    client.send_text(&frame.to_string()).await;
    client.recv().await
}

#[tokio::test]
async fn forged_or_tampered_session_cookies_are_refused() {
    let address = start_app().await;
    // Anonymous: the on_mount guard sends the visitor to /login.
    let (status, head, _) = get(address, "/account", None).await;
    assert_eq!(status, 302);
    assert!(head.contains("location: /login"), "{head}");
    // A cookie signed with another key.
    let forged = user_cookie(b"not-the-server-key-not-the-server-key!!", "alice", true);
    let (status, head, _) = get(address, "/account", Some(&forged)).await;
    assert_eq!(status, 302, "forged cookie accepted");
    assert!(head.contains("location: /login"));
    // The server's cookie with its payload changed (bob made admin, or the name swapped).
    let genuine = user_cookie(SECRET, "bob", false);
    let (name, token) = genuine.split_once('=').unwrap();
    let (payload, mac) = token.split_once('.').unwrap();
    let other = user_cookie(SECRET, "alice", true);
    let other_payload = other.split_once('=').unwrap().1.split_once('.').unwrap().0;
    let tampered = format!("{name}={other_payload}.{mac}");
    assert_ne!(other_payload, payload);
    let (status, _, _) = get(address, "/account", Some(&tampered)).await;
    assert_eq!(status, 302, "tampered cookie accepted");
    // The genuine cookie shows bob's account.
    let (status, _, body) = get(address, "/account", Some(&genuine)).await;
    assert_eq!(status, 200);
    assert!(body.contains("<b id=\"account-name\">bob</b>"), "{body}");
}

#[tokio::test]
async fn a_tampered_page_session_token_is_refused_at_join() {
    let address = start_app().await;
    let cookie = user_cookie(SECRET, "bob", false);
    let (_, _, html) = get(address, "/account", Some(&cookie)).await;
    let mut page = page_of(&html);
    let mut client = Client::connect(address, &page.csrf).await;
    // Swap the token's payload for one naming alice: the MAC no longer matches.
    let (payload, mac) = page.session.split_once('.').unwrap();
    let mut bytes = payload.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    page.session = format!("{}.{mac}", String::from_utf8(bytes).unwrap());
    let reply = join_with(
        &mut client,
        &page,
        "url",
        &format!("http://{address}/account"),
        json!({}),
    )
    .await;
    assert_eq!(reply[4]["status"], json!("error"));
    assert_eq!(reply[4]["response"]["reason"], json!("stale"));
}

#[tokio::test]
async fn a_token_of_one_live_session_cannot_mount_a_view_of_another() {
    let address = start_app().await;
    let cookie = user_cookie(SECRET, "alice", true);
    let (_, _, html) = get(address, "/account", Some(&cookie)).await;
    let page = page_of(&html);
    let mut client = Client::connect(address, &page.csrf).await;
    // Live navigation from /account (live session `account`) to /admin (`admin`): refused, the
    // client loads /admin over HTTP.
    let reply = join_with(
        &mut client,
        &page,
        "redirect",
        &format!("http://{address}/admin"),
        json!({}),
    )
    .await;
    assert_eq!(
        reply[4]["response"]["reason"],
        json!("unauthorized"),
        "{reply}"
    );
    // Nor can the token mount /admin as its own page, nor /login (the default live session).
    for path in ["/admin", "/login"] {
        let reply = join_with(
            &mut client,
            &page,
            "url",
            &format!("http://{address}{path}"),
            json!({}),
        )
        .await;
        assert_eq!(
            reply[4]["response"]["reason"],
            json!("unauthorized"),
            "{path}: {reply}"
        );
    }
    // Its own route joins.
    let reply = join_with(
        &mut client,
        &page,
        "url",
        &format!("http://{address}/account"),
        json!({}),
    )
    .await;
    assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
    // Over HTTP, alice (an administrator) sees /admin with its live session's root layout;
    // bob gets 403 from the second guard, with the error page.
    let (status, _, body) = get(address, "/admin", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"admin-banner\""), "{body}");
    let (status, _, body) = get(address, "/admin", Some(&user_cookie(SECRET, "bob", false))).await;
    assert_eq!(status, 403);
    assert!(body.contains("This page is for administrators."), "{body}");
}

/// A view that shows the connect params it mounted with.
#[derive(Default)]
struct Probe;

impl LiveView for Probe {
    type State = String;
    type Event = ();
    type Info = ();

    async fn mount(
        &self,
        socket: &mut liveview_core::Socket<Self>,
        _: &liveview_core::Params,
        _: &liveview_core::Session,
    ) -> liveview_core::ViewResult {
        let zone = socket
            .connect_params()
            .and_then(|params| params.get("timezone")?.as_str())
            .unwrap_or("none")
            .to_owned();
        let agent = socket
            .connect_info()
            .and_then(|info| info.user_agent.clone())
            .unwrap_or_default();
        let marker = socket
            .assigns()
            .get::<&'static str>()
            .copied()
            .unwrap_or("");
        socket.assign(|state| *state = format!("zone={zone} hook={marker} agent={agent}"));
        Ok(())
    }

    fn render(&self, state: &String, _: &Meta<'_>) -> Rendered {
        html! { p #probe { (state) } }
    }
}

/// `/guarded`: a hook that assigns a marker, and halts the join (only the join: the HTTP
/// render has no connect params) when the client's connect params ask for it.
fn guarded_router() -> Router {
    Router::new().live_session(
        LiveSession::new("guarded").on_mount(|hook| {
            hook.assigns.insert("assigned");
            let deny = hook
                .connect_params
                .and_then(|params| params.get("deny"))
                .is_some();
            if deny {
                return Err(Halt::redirect("/elsewhere"));
            }
            if hook.params.get("halt").is_some() {
                return Err(Halt::redirect("/login"));
            }
            Ok(())
        }),
        |routes| routes.live("/guarded", Probe),
    )
}

#[tokio::test]
async fn on_mount_halts_with_a_redirect_in_the_http_render_and_at_the_join() {
    let address = support::start_router(guarded_router()).await;
    let (status, head, _) = get(address, "/guarded?halt=1", None).await;
    assert_eq!(status, 302);
    assert!(head.contains("location: /login"), "{head}");
    let (status, _, html) = get(address, "/guarded", None).await;
    assert_eq!(status, 200);
    assert!(html.contains("zone=none hook=assigned"), "{html}");
    let page = page_of(&html);
    let mut client = Client::connect(address, &page.csrf).await;
    let url = format!("http://{address}/guarded");
    let reply = join_with(&mut client, &page, "url", &url, json!({"deny": true})).await;
    assert_eq!(reply[4]["status"], json!("error"), "{reply}");
    assert_eq!(
        reply[4]["response"]["redirect"]["to"],
        json!("/elsewhere"),
        "{reply}"
    );
}

#[tokio::test]
async fn connect_params_and_info_reach_the_connected_mount() {
    let address = support::start_router(guarded_router()).await;
    let (_, _, html) = get(address, "/guarded", None).await;
    let page = page_of(&html);
    let mut client = Client::connect(address, &page.csrf).await;
    let url = format!("http://{address}/guarded");
    let reply = join_with(
        &mut client,
        &page,
        "url",
        &url,
        json!({"timezone": "Europe/Paris"}),
    )
    .await;
    assert_eq!(reply[4]["status"], json!("ok"), "{reply}");
    let text = reply[4]["response"]["rendered"].to_string();
    assert!(text.contains("zone=Europe/Paris hook=assigned"), "{text}");
    // The test client's upgrade sends no User-Agent: the info is there, empty.
    assert!(text.contains("agent="), "{text}");
}

#[tokio::test]
async fn login_route_sets_a_signed_cookie_and_logout_clears_it() {
    let address = start_app().await;
    // GET /login is the live page; POST /login is the application's axum handler.
    let (status, _, body) = get(address, "/login", None).await;
    assert_eq!(status, 200);
    assert!(body.contains("phx-submit=\"login\""), "{body}");
    let form = "_csrf_token=x&username=alice&password=wonderland";
    let head = "POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded";
    let (status, response_head, _) = request(address, head, form).await;
    assert_eq!(status, 303);
    assert!(response_head.contains("location: /account"));
    let set_cookie = response_head
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .expect("a cookie");
    assert!(set_cookie.contains("httponly"), "{set_cookie}");
    // Header names were lower-cased: read the cookie from a fresh, case-preserving login.
    let cookie = user_cookie(SECRET, "alice", true);
    let (status, _, body) = get(address, "/account", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(body.contains(">alice</b>"));
    let wrong = "username=alice&password=nope";
    let (status, response_head, _) = request(address, head, wrong).await;
    assert_eq!(status, 303);
    assert!(response_head.contains("location: /login?failed=1"));
    let (status, response_head, _) = request(address, "POST /logout HTTP/1.1", "").await;
    assert_eq!(status, 303);
    assert!(response_head.contains("max-age=0"), "{response_head}");
    // Requests no route owns: 404 (not 405), with the error page; a live route's POST: 405.
    let (status, _, body) = request(address, "POST /nowhere HTTP/1.1", "").await;
    assert_eq!(status, 404);
    assert!(body.contains("404 Not Found"), "{body}");
    let (status, _, _) = request(address, "POST /counter HTTP/1.1", "").await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn not_found_from_mount_is_a_404_page_and_a_failed_route_is_404() {
    let address = start_app().await;
    let (status, _, body) = get(address, "/items/5000", None).await;
    assert_eq!(status, 404);
    assert!(body.contains("There is no item 5000."), "{body}");
    let (status, _, _) = get(address, "/no/such/page", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_patch_between_routes_of_one_view_keeps_it_and_changes_live_action() {
    let address = start_app().await;
    let (status, _, html) = get(address, "/items", None).await;
    assert_eq!(status, 200);
    // The container is the view's own element; the slot is outside it.
    assert!(html.contains("<section id=\"phx-"), "{html}");
    assert!(html.contains("class=\"items-page\""));
    let slot = html.find("id=\"items-slot\"").expect("the root slot");
    assert!(
        slot > html.find("</section>").unwrap(),
        "the slot is outside the container"
    );
    let page = page_of(&html);
    let mut client = Client::connect(address, &page.csrf).await;
    let (join_ref, reply) = client.join(&page, &format!("http://{address}/items")).await;
    assert_eq!(reply[4]["status"], json!("ok"));
    let joined = reply[4]["response"]["rendered"].to_string();
    assert!(joined.contains("\"index\""), "{joined}");
    let topic = format!("lv:{}", page.id);
    let msg_ref = client
        .push(
            Some(&join_ref),
            &topic,
            "live_patch",
            json!({"url": format!("http://{address}/items/42")}),
        )
        .await;
    // One frame: the patch's reply with a diff (action `show`, item 42); no link_redirect,
    // no remount (no new join), nothing else.
    let frame = client.recv().await;
    assert_eq!(frame[1], json!(msg_ref));
    assert_eq!(frame[3], json!("phx_reply"));
    let response = &frame[4]["response"];
    assert!(response.get("link_redirect").is_none(), "{frame}");
    let diff = response["diff"].to_string();
    assert!(diff.contains("\"show\""), "{diff}");
    assert!(diff.contains("Item "), "{diff}");
    assert!(client.try_recv(Duration::from_millis(200)).await.is_none());
    // The mount id (16 hex digits) did not change: it is not in the diff. handle_params ran
    // twice.
    let mount_id = hex_ids(&reply[4]["response"]["rendered"]);
    assert_eq!(mount_id.len(), 1, "{joined}");
    assert!(!diff.contains(&mount_id[0]), "{diff}");
    assert!(diff.contains("\"2\""), "{diff}");
    // A server-side push_patch to another route of the view: the `live_patch` push, then the
    // event's reply with handle_params' changes; still no remount.
    let msg_ref = client
        .push(
            Some(&join_ref),
            &topic,
            "event",
            support::click("next", json!({"value": ""})),
        )
        .await;
    let frame = client.recv().await;
    assert_eq!(frame[3], json!("live_patch"), "{frame}");
    assert_eq!(frame[4]["to"], json!("/items/43"));
    let frame = client.recv().await;
    assert_eq!(frame[1], json!(msg_ref), "{frame}");
    let diff = frame[4]["response"]["diff"].to_string();
    assert!(diff.contains("43"), "{diff}");
    assert!(!diff.contains(&mount_id[0]), "{diff}");
    // A route of another view in the same live session still takes the link_redirect path.
    let msg_ref = client
        .push(
            Some(&join_ref),
            &topic,
            "live_patch",
            json!({"url": format!("http://{address}/counter")}),
        )
        .await;
    let frame = client.recv().await;
    assert_eq!(frame[1], json!(msg_ref));
    assert_eq!(
        frame[4]["response"]["link_redirect"],
        json!(true),
        "{frame}"
    );
}

/// The strings of 16 hex digits in a rendered tree (the items view's mount id).
fn hex_ids(tree: &Value) -> Vec<String> {
    match tree {
        Value::String(text) if text.len() == 16 && text.chars().all(|c| c.is_ascii_hexdigit()) => {
            vec![text.clone()]
        }
        Value::Object(map) => map.values().flat_map(hex_ids).collect(),
        Value::Array(items) => items.iter().flat_map(hex_ids).collect(),
        _ => Vec::new(),
    }
}

/// A view whose mount fails: with a plain error over HTTP, with "forbidden" at the join.
#[derive(Default)]
struct Failing;

impl LiveView for Failing {
    type State = ();
    type Event = ();
    type Info = ();

    async fn mount(
        &self,
        socket: &mut liveview_core::Socket<Self>,
        params: &liveview_core::Params,
        _: &liveview_core::Session,
    ) -> liveview_core::ViewResult {
        if socket.connected() {
            return Err(liveview_core::ViewError::forbidden("not over the socket"));
        }
        if params.get("crash").is_some() {
            return Err(liveview_core::ViewError::msg(
                "database password is hunter2",
            ));
        }
        Ok(())
    }

    fn render(&self, _: &(), _: &Meta<'_>) -> Rendered {
        html! { p { "fine" } }
    }
}

#[tokio::test]
async fn a_failed_mount_is_a_500_page_and_an_error_status_at_join_is_unauthorized() {
    let address = support::start_router(Router::new().live("/failing", Failing)).await;
    let (status, head, body) = get(address, "/failing?crash=1", None).await;
    assert_eq!(status, 500);
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(
        body.contains("<h1>500 Internal Server Error</h1>"),
        "{body}"
    );
    assert!(
        !body.contains("hunter2"),
        "the error's details stay in the log"
    );
    // Rendered fine over HTTP; the connected mount answers 403: the join is refused with
    // `unauthorized` (the client loads the page over HTTP, which shows the error page).
    let (status, _, html) = get(address, "/failing", None).await;
    assert_eq!(status, 200);
    let page = page_of(&html);
    let mut client = Client::connect(address, &page.csrf).await;
    let url = format!("http://{address}/failing");
    let reply = join_with(&mut client, &page, "url", &url, json!({})).await;
    assert_eq!(
        reply[4]["response"]["reason"],
        json!("unauthorized"),
        "{reply}"
    );
}
