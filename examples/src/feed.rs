//! `/feed`: a stream (`Stream`, Phoenix's `stream/4`). Posts are appended, prepended with a
//! limit, updated in place and deleted; the server keeps none of them after rendering (each
//! render sends only the operations since the last), while the page keeps them in a
//! `phx-update="stream"` container.

use liveview_core::{html, LiveView, Meta, Params, Rendered, Session, Socket, Stream, ViewResult};
use serde::Deserialize;

/// The feed view.
#[derive(Debug, Default)]
pub struct Feed;

/// A post.
#[derive(Debug, Clone)]
pub struct Post {
    id: u32,
    text: String,
}

/// The feed's state: the stream holds only operations not yet rendered.
#[derive(Debug)]
pub struct State {
    posts: Stream<Post>,
    next: u32,
}

impl Default for State {
    fn default() -> Self {
        Self {
            // The DOM-id function may capture (here the stream's name as the ids' prefix).
            posts: {
                let name = "posts";
                Stream::new(name, move |post: &Post| format!("{name}-{}", post.id))
            },
            next: 1,
        }
    }
}

/// The feed's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// Append a post.
    Append,
    /// Prepend a post, keeping at most 5 posts on the page.
    Prepend,
    /// Edit a post in place (`phx-value-id`).
    Edit {
        /// The post id.
        id: String,
    },
    /// Delete a post (`phx-value-id`).
    Delete {
        /// The post id.
        id: String,
    },
    /// Replace every post by a fresh one.
    Reset,
}

impl State {
    fn post(&mut self, text: &str) -> Post {
        let id = self.next;
        self.next += 1;
        Post {
            id,
            text: format!("{text} #{id}"),
        }
    }
}

impl LiveView for Feed {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Feed");
        socket.assign(|state| {
            let first = [state.post("hello"), state.post("world")];
            state.posts.extend(first);
        });
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        socket.assign(|state| match event {
            Event::Append => {
                let post = state.post("appended");
                state.posts.insert(post);
            }
            Event::Prepend => {
                let post = state.post("prepended");
                state.posts.extend_at([post], 0, Some(5));
            }
            Event::Edit { id } => {
                let id = id.parse().unwrap_or_default();
                state.posts.update(Post {
                    id,
                    text: format!("edited #{id}"),
                });
            }
            Event::Delete { id } => {
                state.posts.delete_by_dom_id(format!("posts-{id}"));
            }
            Event::Reset => {
                let post = state.post("after reset");
                // Phoenix's `stream(socket, :posts, [post], reset: true, at: 0, limit: 5)`.
                state.posts.reset_at([post], 0, Some(5));
            }
        });
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Feed" }
            button #append phx-click="append" { "append" }
            button #prepend phx-click="prepend" { "prepend (keep 5)" }
            button #reset phx-click="reset" { "reset" }
            ul #posts phx-update="stream" {
                @stream (dom_id, post) in &state.posts {
                    li id=(dom_id) {
                        span.text { (&post.text) }
                        " "
                        button.edit phx-click="edit" phx-value-id=(post.id) { "edit" }
                        button.delete phx-click="delete" phx-value-id=(post.id) { "delete" }
                    }
                }
            }
            (crate::back_link())
        }
    }
}
