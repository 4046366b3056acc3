//! `/chat`: a chat room shared by every tab, on every node (pub/sub), with who is online and
//! who is typing (presence).
//!
//! Messages are a `temp_assign`: after each render the view forgets them, and the page keeps
//! them because their container is `phx-update="append"` (each row has a DOM id, unique
//! across nodes). The server's memory per view stays flat however long the conversation;
//! [`Stats`] records what views held, so tests can check it.
//!
//! With a [`Presence`] ([`Chat::new`]), each connected tab tracks its author name on
//! [`TOPIC`], with `typing` set while its message field is not empty (`phx-change`). The
//! list groups a name's tabs (`ann (2 tabs)`), on whatever node they are. `?name=ann` sets
//! the name; otherwise a tab is a guest.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use liveview_core::pubsub::{Presence, PresenceDiff, PresenceList, Tracked};
use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
use serde::{Deserialize, Serialize};

/// The pub/sub topic of the room's messages, and the presence topic of who is in it.
pub const TOPIC: &str = "chat";

/// The longest name kept (longer ones are cut).
const MAX_NAME: usize = 32;

/// The chat view; the definition holds the room's counters and the node's presence.
#[derive(Debug, Clone)]
pub struct Chat {
    stats: Arc<Stats>,
    presence: Option<Presence>,
    node: Arc<str>,
}

/// Counters shared by the chat views of one server.
#[derive(Debug, Default)]
pub struct Stats {
    /// The next message number on this node.
    next_id: AtomicU64,
    /// The most messages any view held when a new one arrived (0 while `temp_assign` works).
    pub max_retained: AtomicUsize,
    /// Messages rendered by all views.
    pub rendered: AtomicU64,
}

impl Default for Chat {
    /// A chat without presence, its message ids prefixed with a random node name.
    fn default() -> Self {
        Self {
            stats: Arc::default(),
            presence: None,
            node: crate::random_name().into(),
        }
    }
}

impl Chat {
    /// A chat showing who is online through `presence`; message ids are prefixed with the
    /// presence's node name (unique among the nodes).
    pub fn new(presence: Presence) -> Self {
        Self {
            stats: Arc::default(),
            node: presence.node().into(),
            presence: Some(presence),
        }
    }

    /// The room's counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// The prefix of this node's message ids.
    pub fn node(&self) -> &str {
        &self.node
    }
}

/// One chat message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    /// Unique in the room across nodes (`<node>-<n>`); the row's DOM id is `msg-<id>`.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// What they wrote.
    pub text: String,
}

/// What a tab tells the others (its presence metadata; the key is its author name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Online {
    /// Whether the tab's message field holds text not sent yet.
    pub typing: bool,
}

/// A view's state.
#[derive(Debug, Default)]
pub struct State {
    /// The messages not rendered yet (a temp assign: emptied after every render).
    messages: Vec<Message>,
    /// The name this tab is online under (and sends as).
    author: String,
    /// The name field as the user is editing it (the form is re-rendered while they type:
    /// the field must keep what they typed, not jump back to `author`).
    draft: String,
    /// Messages sent from this tab (renames the input, so it comes back empty).
    sent: u64,
    /// Who is online, kept current by presence diffs.
    online: PresenceList<Online>,
    /// This tab's presence entry (leaves when the view ends).
    me: Option<Tracked>,
    typing: bool,
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
    /// `phx-change="typing"`: the form as it is now.
    Typing {
        /// The name field.
        #[serde(default)]
        author: String,
        /// The message being written.
        #[serde(default)]
        text: String,
    },
}

/// What reaches `handle_info`: a message published on [`TOPIC`], or a presence diff.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Info {
    /// Who joined or left, or started or stopped typing.
    Presence(PresenceDiff<Online>),
    /// A new message.
    Message(Message),
}

impl LiveView for Chat {
    type State = State;
    type Event = Event;
    type Info = Info;

    async fn mount(&self, socket: &mut Socket<Self>, params: &Params, _: &Session) -> ViewResult {
        socket.page_title("Chat");
        socket.temp_assign(|state| state.messages.clear());
        socket.subscribe(TOPIC).await?;
        let author = params
            .get("name")
            .map(clean_name)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| guest_name(socket.id()));
        if let Some(presence) = &self.presence {
            let mut me = None;
            if socket.connected() {
                // Subscribe before listing: no change falls between the two.
                socket.forward(presence.subscribe(TOPIC).await?);
                me = Some(presence.track(TOPIC, &author, &Online::default()).await?);
            }
            let online = presence.list(TOPIC)?;
            socket.assign(|state| {
                state.online = online;
                state.me = me;
            });
        }
        socket.assign(|state| {
            state.draft = author.clone();
            state.author = author;
        });
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let (author, text) = match event {
            Event::Typing { author, text } => {
                if author != socket.context().draft {
                    socket.assign(|state| state.draft = author);
                }
                return self.typing(socket, !text.trim().is_empty());
            }
            Event::Send { author, text } => (author, text),
        };
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        let author = match clean_name(&author) {
            name if name.is_empty() => socket.context().author.clone(),
            name => name,
        };
        if author != socket.context().author {
            if let Some(presence) = &self.presence {
                if socket.connected() {
                    // A new name is a new entry; the old one leaves when replaced.
                    let me = presence.track(TOPIC, &author, &Online::default()).await?;
                    socket.assign(|state| state.me = Some(me));
                }
            }
        }
        let number = self.stats.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let message = Message {
            id: format!("{}-{number}", self.node),
            author: author.clone(),
            text: text.to_owned(),
        };
        socket.assign(|state| {
            state.draft = author.clone();
            state.author = author;
        });
        if let Err(error) = socket.broadcast(TOPIC, &message).await {
            // Redis is unreachable: keep the text in the field and say so.
            tracing::warn!(%error, "chat: message not sent");
            socket.put_flash("error", "Not sent: the chat is unavailable. Try again.");
            return Ok(());
        }
        socket.clear_flash(Some("error"));
        socket.assign(|state| state.sent += 1);
        self.typing(socket, false)
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: Info) -> ViewResult {
        match info {
            Info::Message(message) => {
                let held = socket.context().messages.len();
                self.stats.max_retained.fetch_max(held, Ordering::SeqCst);
                self.stats.rendered.fetch_add(1, Ordering::SeqCst);
                socket.assign(|state| state.messages.push(message));
            }
            Info::Presence(diff) => {
                socket.assign(|state| state.online.apply(diff));
            }
        }
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        let typing: Vec<&str> = state
            .online
            .iter()
            .filter(|(name, _)| *name != state.author)
            .filter_map(|(name, mut metas)| metas.any(|meta| meta.typing).then_some(name))
            .collect();
        html! {
            div.chat {
                div.chat-log {
                    h1 { "Chat" }
                    div #messages phx-update="append" {
                        @for m in &state.messages, key = &m.id {
                            p.message id=(format!("msg-{}", m.id)) { b { (&m.author) } ": " (&m.text) }
                        }
                    }
                    p #typing.typing { (typing_line(&typing)) }
                    form #chat-form phx-submit="send" phx-change="typing" {
                        input #author type="text" name="author" value=(&state.draft) placeholder="Name";
                        input type="text" name="text" id=(format!("text-{}", state.sent)) placeholder="Message" autocomplete="off" phx-mounted=r#"[["focus",{}]]"#;
                        button type="submit" { "Send" }
                    }
                    (crate::flash_messages(meta.flash))
                }
                @if self.presence.is_some() {
                    aside #online.online {
                        h2 { "Online: " span #online-count { (state.online.len()) } }
                        ul {
                            @for (name, metas) in state.online.iter(), key = name {
                                (user_row(name, metas.collect(), name == state.author))
                            }
                        }
                    }
                }
            }
            (crate::back_link())
        }
    }
}

impl Chat {
    /// Tells the others whether this tab is typing (when that changed).
    fn typing(&self, socket: &mut Socket<Self>, typing: bool) -> ViewResult {
        if socket.context().typing == typing {
            return Ok(());
        }
        if let Some(me) = &socket.context().me {
            me.update(&Online { typing })?;
        }
        socket.assign(|state| state.typing = typing);
        Ok(())
    }
}

/// One line of the online list.
fn user_row(name: &str, metas: Vec<&Online>, me: bool) -> Rendered {
    let tabs = metas.len();
    let typing = metas.iter().any(|meta| meta.typing);
    html! {
        li.user data-name=(name) {
            span.dot {}
            (name)
            @if me { " (you)" }
            @if tabs > 1 { small.tabs { " " (tabs) " tabs" } }
            @if typing { small.typing-mark { " typing…" } }
        }
    }
}

/// `ann is typing…`, `ann and bob are typing…`, `3 people are typing…`, or nothing.
fn typing_line(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("{one} is typing…"),
        [one, two] => format!("{one} and {two} are typing…"),
        many => format!("{} people are typing…", many.len()),
    }
}

/// A name as typed: trimmed, control characters dropped, at most [`MAX_NAME`] characters.
fn clean_name(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect()
}

/// `guest-` and the end of the view id: distinct per tab.
fn guest_name(view_id: &str) -> String {
    let tail: String = view_id
        .chars()
        .rev()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect();
    format!("guest-{}", tail.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_guests_are_distinct() {
        assert_eq!(clean_name("  ann\u{7}  "), "ann");
        assert_eq!(clean_name(&"x".repeat(100)).len(), MAX_NAME);
        assert_eq!(guest_name("phx-AbCd1234wxyz"), "guest-zyxw");
        assert_ne!(guest_name("phx-aaaa1111"), guest_name("phx-aaaa2222"));
    }

    #[test]
    fn the_typing_line_names_who_types() {
        assert_eq!(typing_line(&[]), "");
        assert_eq!(typing_line(&["ann"]), "ann is typing…");
        assert_eq!(typing_line(&["ann", "bob"]), "ann and bob are typing…");
        assert_eq!(typing_line(&["a", "b", "c"]), "3 people are typing…");
    }
}
