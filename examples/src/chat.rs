//! `/chat`: a chat room shared by every tab (pub/sub). Messages are a `temp_assign`: after
//! each render the view forgets them, and the page keeps them because their container is
//! `phx-update="append"` (each row has a DOM id). The server's memory per view stays flat
//! however long the conversation; [`Stats`] records what views held, so tests can check it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
use serde::{Deserialize, Serialize};

/// The pub/sub topic of the room.
pub const TOPIC: &str = "chat";

/// The chat view; the definition holds the room's counters.
#[derive(Debug, Default, Clone)]
pub struct Chat {
    stats: Arc<Stats>,
}

/// Counters shared by the chat views of one server.
#[derive(Debug, Default)]
pub struct Stats {
    /// The next message id.
    next_id: AtomicU64,
    /// The most messages any view held when a new one arrived (0 while `temp_assign` works).
    pub max_retained: AtomicUsize,
    /// Messages rendered by all views.
    pub rendered: AtomicU64,
}

impl Chat {
    /// The room's counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }
}

/// One chat message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    /// Unique in the room; the row's DOM id is `msg-<id>`.
    pub id: u64,
    /// Who wrote it.
    pub author: String,
    /// What they wrote.
    pub text: String,
}

/// A view's state.
#[derive(Debug, Default)]
pub struct State {
    /// The messages not rendered yet (a temp assign: emptied after every render).
    messages: Vec<Message>,
    author: String,
    /// Messages sent from this tab (renames the input, so it comes back empty).
    sent: u64,
}

/// The chat's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// `phx-submit="send"`.
    Send {
        /// The author's name.
        #[serde(default)]
        author: String,
        /// The message.
        #[serde(default)]
        text: String,
    },
}

impl LiveView for Chat {
    type State = State;
    type Event = Event;
    /// A message published on [`TOPIC`].
    type Info = Message;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Chat");
        socket.temp_assign(|state| state.messages.clear());
        socket.subscribe(TOPIC).await?;
        socket.assign(|state| state.author = "anonymous".into());
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let Event::Send { author, text } = event;
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        let author = match author.trim() {
            "" => "anonymous".to_owned(),
            author => author.to_owned(),
        };
        let message = Message {
            id: self.stats.next_id.fetch_add(1, Ordering::SeqCst) + 1,
            author: author.clone(),
            text: text.to_owned(),
        };
        socket.assign(|state| {
            state.author = author;
            state.sent += 1;
        });
        socket.broadcast(TOPIC, &message).await?;
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, message: Message) -> ViewResult {
        let held = socket.context().messages.len();
        self.stats.max_retained.fetch_max(held, Ordering::SeqCst);
        self.stats.rendered.fetch_add(1, Ordering::SeqCst);
        socket.assign(|state| state.messages.push(message));
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Chat" }
            div #messages phx-update="append" {
                @for m in &state.messages, key = m.id {
                    p.message id=(format!("msg-{}", m.id)) { b { (&m.author) } ": " (&m.text) }
                }
            }
            form #chat-form phx-submit="send" {
                input #author type="text" name="author" value=(&state.author) placeholder="Name";
                input type="text" name="text" id=(format!("text-{}", state.sent)) placeholder="Message" autocomplete="off" phx-mounted=r#"[["focus",{}]]"#;
                button type="submit" { "Send" }
            }
            (crate::back_link())
        }
    }
}
