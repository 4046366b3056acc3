//! The shared harness of the fuzz targets: an endpoint serving one view whose events take every
//! serde shape (and whose state, set from event values, is rendered as text, attributes and
//! keyed rows), a page rendered once (its view id, session token and CSRF token), and a driver
//! that feeds frames to a fresh `liveview_core::Connection` and checks every frame it answers.
//!
//! Fuzz inputs may name the page's credentials with placeholders, so that the fuzzer can join a
//! view and reach the event path: `$T` is the view id (the topic is `lv:$T`), `$S` the signed
//! session token and `$C` the CSRF token.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use liveview_core::{
    html, Config, Connection, Endpoint, LiveView, Meta, Outbound, Page, Rendered, Router, Session,
    Socket, ViewError, ViewResult,
};
use serde::Deserialize;
use serde_json::Value;
use tokio::runtime::Runtime;

/// The view under fuzz: its events cover unit, struct, newtype and tuple variants.
#[derive(Debug, Default)]
pub struct Target;

/// The view's state: everything an event can set is rendered.
#[derive(Debug, Default)]
pub struct State {
    count: i64,
    text: String,
    items: Vec<String>,
}

/// Every serde shape a typed event can take.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// A unit variant: the value is ignored.
    Inc,
    /// A struct variant with a number.
    Set {
        /// The new count.
        value: i64,
    },
    /// A struct variant with a string and an optional list.
    Text {
        /// The text, rendered as text and as an attribute.
        text: String,
        /// Rendered as keyed rows (duplicates allowed).
        #[serde(default)]
        items: Vec<String>,
    },
    /// A newtype variant: the title.
    Title(String),
    /// A struct variant: a flash message.
    Flash {
        /// The flash key.
        key: String,
        /// The message.
        message: String,
    },
    /// A newtype variant taking any JSON: pushed back to the client.
    Push(Value),
    /// A tuple variant.
    Pair(String, u32),
    /// A nested form (`user[name]=…&user[tags][]=…`).
    Form {
        /// The user fields.
        user: Option<User>,
    },
    /// The handler fails: the view crashes with `phx_error` (a panic would abort the fuzzer,
    /// whose panic hook runs before `catch_unwind`).
    Fail,
    /// `push_patch` to any path: a `live_patch` push, or a crash for an unrouted path.
    Patch(String),
    /// `redirect` to any location: the reply carries it and the view ends.
    Redirect(String),
}

/// A nested form object.
#[derive(Debug, Deserialize)]
pub struct User {
    /// A name.
    name: String,
    /// Tags.
    #[serde(default)]
    tags: Vec<String>,
}

impl LiveView for Target {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        match event {
            Event::Inc => socket.assign(|s| s.count = s.count.wrapping_add(1)),
            Event::Set { value } => socket.assign(|s| s.count = value),
            Event::Text { text, items } => socket.assign(|s| {
                s.text = text;
                s.items = items;
            }),
            Event::Title(title) => socket.page_title(title),
            Event::Flash { key, message } => socket.put_flash(key, message),
            Event::Push(value) => socket.push_event("pushed", &value),
            Event::Pair(text, count) => socket.assign(|s| {
                s.text = text;
                s.count = i64::from(count);
            }),
            Event::Form { user } => {
                if let Some(user) = user {
                    socket.assign(|s| {
                        s.text = user.name;
                        s.items = user.tags;
                    });
                }
            }
            Event::Fail => return Err(ViewError::msg("the fuzzer asked for it")),
            Event::Patch(to) => socket.push_patch(to, false),
            Event::Redirect(to) => socket.redirect(to),
        }
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Count: " (state.count) }
            p title=(state.text.as_str()) { (state.text.as_str()) }
            @if let Some(info) = meta.flash.get("info") {
                p.info { (info) }
            }
            ul {
                @for item in &state.items, key = item {
                    li id=(item.as_str()) { (item.as_str()) }
                }
            }
            ol {
                @for item in &state.items {
                    li { (item.as_str()) }
                }
            }
        }
    }
}

/// The endpoint, its page credentials and the runtime, built once per fuzz process.
#[derive(Debug)]
pub struct Fixture {
    /// Serves `/` with [`Target`]; no rate limit (the fuzzer sends thousands of messages a
    /// second).
    pub endpoint: Arc<Endpoint>,
    /// The rendered page's view id (topic `lv:<id>`).
    pub id: String,
    /// The page's signed session token.
    pub session: String,
    /// The page's CSRF token.
    pub csrf: String,
    /// A current-thread runtime: view tasks run only while the driver blocks on it.
    pub runtime: Runtime,
}

fn attribute(html: &str, marker: &str) -> String {
    let start = html.find(marker).expect("marker in page") + marker.len();
    let end = html[start..].find('"').expect("attribute ends") + start;
    html[start..end].to_owned()
}

/// The process-wide fixture.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a tokio runtime");
        let mut config = Config::default();
        config.max_messages_per_second = u32::MAX;
        config.message_burst = u32::MAX;
        let endpoint = Endpoint::builder(Router::new().live("/", Target))
            .secret_key(b"fuzzing-secret-key-0123456789abcdef")
            .config(config)
            .build()
            .expect("an endpoint");
        let page = runtime
            .block_on(endpoint.render_page("/", Session::default()))
            .expect("the page renders");
        let Page::Html(html) = page else {
            panic!("not a page: {page:?}")
        };
        Fixture {
            id: attribute(&html, "<div id=\""),
            session: attribute(&html, "data-phx-session=\""),
            csrf: attribute(&html, "name=\"csrf-token\" content=\""),
            endpoint,
            runtime,
        }
    })
}

impl Fixture {
    /// Replaces the placeholders `$T`, `$S` and `$C` with the page's view id, session token
    /// and CSRF token.
    pub fn substitute(&self, text: &str) -> String {
        text.replace("$T", &self.id)
            .replace("$S", &self.session)
            .replace("$C", &self.csrf)
    }

    /// A join frame for the page's view with join ref `join_ref`.
    pub fn join_frame(&self, join_ref: &str) -> String {
        serde_json::json!([join_ref, join_ref, format!("lv:{}", self.id), "phx_join", {
            "url": "http://localhost/",
            "params": {"_csrf_token": self.csrf, "_mounts": 0},
            "session": self.session,
        }])
        .to_string()
    }
}

/// One client frame.
#[derive(Debug, Clone)]
pub enum ClientFrame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Bytes),
}

/// Feeds `frames` to a fresh connection (stopping at the first one that must close the
/// socket), drops the connection, waits until every view it started has ended, and returns
/// every frame the server wrote, each checked to be a Phoenix V2 message (a JSON array of five
/// elements whose topic and event are strings).
///
/// Never hangs unless the runtime does: the outbound queue is drained concurrently, and the
/// drain ends when the connection and all its views have dropped their senders.
pub fn drive(frames: impl IntoIterator<Item = ClientFrame>) -> Vec<Value> {
    let fixture = fixture();
    fixture.runtime.block_on(async {
        let (connection, mut outbound) = fixture.endpoint.connect();
        let drain = tokio::spawn(async move {
            let mut frames = Vec::new();
            while let Some(frame) = outbound.recv().await {
                match frame {
                    Outbound::Text(text) => frames.push(check_frame(&text)),
                    Outbound::Close { code, reason } => {
                        panic!("the connection closed itself: {code} {reason}")
                    }
                }
            }
            frames
        });
        feed(connection, frames).await;
        drain.await.expect("the drain task")
    })
}

async fn feed(mut connection: Connection, frames: impl IntoIterator<Item = ClientFrame>) {
    for frame in frames {
        let result = match frame {
            ClientFrame::Text(text) => connection.handle_text(&text).await,
            ClientFrame::Binary(bytes) => connection.handle_binary(bytes).await,
        };
        if result.is_err() {
            // The transport closes the socket here.
            break;
        }
        // Let the views run between frames, as they would between socket reads.
        tokio::task::yield_now().await;
    }
    drop(connection);
}

/// Parses a server frame and checks its shape.
pub fn check_frame(text: &str) -> Value {
    let value: Value = serde_json::from_str(text)
        .unwrap_or_else(|error| panic!("the server wrote invalid JSON ({error}): {text}"));
    let array = value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {text}"));
    assert_eq!(array.len(), 5, "not a V2 message: {text}");
    assert!(
        array[0].is_string() || array[0].is_null(),
        "join ref: {text}"
    );
    assert!(array[1].is_string() || array[1].is_null(), "ref: {text}");
    assert!(array[2].is_string(), "topic: {text}");
    assert!(array[3].is_string(), "event: {text}");
    assert!(array[4].is_object(), "payload: {text}");
    value
}
