//! Streams: collections rendered into the page but not kept on the server (Phoenix's
//! `stream/4`). Each render sends only the items inserted since the last one, plus deletions;
//! the client keeps the items in the DOM (`phx-update="stream"`).

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The next stream reference (see [`Stream::reference`]).
static NEXT_REFERENCE: AtomicU64 = AtomicU64::new(0);

/// A stream of items of type `T` in a view's state.
///
/// Insert, update and delete items in event handlers; render it with
/// `@stream (dom_id, item) in &state.items { li id=(dom_id) { ... } }` inside an element with
/// `phx-update="stream"` and a DOM id. Each render takes the pending operations, so the server
/// holds no items once they are rendered: memory stays flat however many items pass.
///
/// ```
/// use liveview_diff::{html, Stream};
///
/// struct Message { id: u32, text: String }
/// let mut messages = Stream::new("messages", |m: &Message| format!("messages-{}", m.id));
/// messages.insert(Message { id: 1, text: "hello".into() });
/// let page = html! {
///     ul #messages phx-update="stream" {
///         @stream (dom_id, message) in &messages { li id=(dom_id) { (message.text) } }
///     }
/// };
/// assert_eq!(page.to_html(), r#"<ul id="messages" phx-update="stream"><li id="messages-1">hello</li></ul>"#);
/// // Rendered items are gone from the server.
/// let again = html! { ul { @stream (dom_id, m) in &messages { li id=(dom_id) { (m.text) } } } };
/// assert_eq!(again.to_html(), "<ul></ul>");
/// ```
pub struct Stream<T> {
    name: Cow<'static, str>,
    reference: String,
    dom_id: DomId<T>,
    pending: Mutex<Pending<T>>,
}

/// A stream's DOM-id function: any closure, so it can capture (a prefix, a tenant…).
type DomId<T> = Box<dyn Fn(&T) -> String + Send + Sync>;

struct Pending<T> {
    inserts: Vec<(T, Insert)>,
    deletes: Vec<String>,
    reset: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Insert {
    at: i64,
    limit: Option<i64>,
    update_only: bool,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Self {
            inserts: Vec::new(),
            deletes: Vec::new(),
            reset: false,
        }
    }
}

/// The operations of one render of a stream, as the wire's `"stream"` tuple carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOps {
    /// The stream's reference ([`Stream::reference`]), stamped by the client on item elements.
    pub reference: Cow<'static, str>,
    /// `(dom_id, at, limit, update_only)` per inserted or updated item.
    pub inserts: Vec<(String, i64, Option<i64>, bool)>,
    /// DOM ids of deleted items.
    pub deletes: Vec<String>,
    /// Remove every existing item first.
    pub reset: bool,
}

impl StreamOps {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.deletes.is_empty() && !self.reset
    }
}

impl<T> Stream<T> {
    /// A stream named `name` (unique within its view) whose items get their DOM id from `dom_id`,
    /// a function or a closure (it may capture, e.g. a prefix).
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        dom_id: impl Fn(&T) -> String + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            reference: NEXT_REFERENCE.fetch_add(1, Ordering::Relaxed).to_string(),
            dom_id: Box::new(dom_id),
            pending: Mutex::new(Pending::default()),
        }
    }

    /// Replaces the DOM-id function (Phoenix: `stream_configure(socket, name, dom_id: …)`),
    /// e.g. in `mount` once the view knows what the ids depend on. Items already pending keep
    /// their place; every id is computed at render time with the function set then.
    ///
    /// ```
    /// use liveview_diff::{html, Stream};
    /// struct Song { id: u32 }
    /// let mut songs = Stream::new("songs", |s: &Song| format!("songs-{}", s.id));
    /// let album = String::from("blue");
    /// songs.configure(move |s: &Song| format!("{album}-song-{}", s.id));
    /// songs.insert(Song { id: 7 });
    /// let page = html! { ul #songs phx-update="stream" { @stream (id, _s) in &songs { li id=(id) {} } } };
    /// assert_eq!(page.to_html(), r#"<ul id="songs" phx-update="stream"><li id="blue-song-7"></li></ul>"#);
    /// ```
    pub fn configure(
        &mut self,
        dom_id: impl Fn(&T) -> String + Send + Sync + 'static,
    ) -> &mut Self {
        self.dom_id = Box::new(dom_id);
        self
    }

    /// The stream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The stream's reference on the wire (Phoenix's stream `ref`): the client stamps it on
    /// the stream's elements (`data-phx-stream`) and a reset removes the elements with it.
    /// It is a counter, unique among all the streams of the process — so unique within a view
    /// and its components, however many hold a stream of the same name — and stable for the
    /// stream's life.
    ///
    /// ```
    /// # use liveview_diff::Stream;
    /// let a = Stream::new("items", |n: &u32| format!("items-{n}"));
    /// let b = Stream::new("items", |n: &u32| format!("items-{n}"));
    /// assert_ne!(a.reference(), b.reference());
    /// ```
    pub fn reference(&self) -> &str {
        &self.reference
    }

    fn pending(&mut self) -> &mut Pending<T> {
        self.pending
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends `item` (or updates it in place if its DOM id is already on the page).
    pub fn insert(&mut self, item: T) -> &mut Self {
        self.insert_at(item, -1, None)
    }

    /// Inserts `item` at index `at` (`-1` appends, `0` prepends), keeping at most `limit`
    /// items (positive: the first ones, negative: the last ones).
    pub fn insert_at(&mut self, item: T, at: i64, limit: Option<i64>) -> &mut Self {
        let insert = Insert {
            at,
            limit,
            update_only: false,
        };
        self.pending().inserts.push((item, insert));
        self
    }

    /// Re-renders `item` only if its DOM id is already on the page.
    pub fn update(&mut self, item: T) -> &mut Self {
        let insert = Insert {
            at: -1,
            limit: None,
            update_only: true,
        };
        self.pending().inserts.push((item, insert));
        self
    }

    /// Appends every item.
    pub fn extend(&mut self, items: impl IntoIterator<Item = T>) -> &mut Self {
        for item in items {
            self.insert(item);
        }
        self
    }

    /// Removes `item` from the page.
    pub fn delete(&mut self, item: &T) -> &mut Self {
        let dom_id = (self.dom_id)(item);
        self.delete_by_dom_id(dom_id)
    }

    /// Removes the item with this DOM id from the page.
    pub fn delete_by_dom_id(&mut self, dom_id: impl Into<String>) -> &mut Self {
        self.pending().deletes.push(dom_id.into());
        self
    }

    /// Inserts every item at `at`, in order, keeping at most `limit` items (Phoenix:
    /// `stream(socket, name, items, at: at, limit: limit)`); each item is inserted as
    /// [`insert_at`](Self::insert_at) would, so with `at = 0` the last item ends up first.
    pub fn extend_at(
        &mut self,
        items: impl IntoIterator<Item = T>,
        at: i64,
        limit: Option<i64>,
    ) -> &mut Self {
        for item in items {
            self.insert_at(item, at, limit);
        }
        self
    }

    /// Removes every item from the page, then inserts `items`.
    pub fn reset(&mut self, items: impl IntoIterator<Item = T>) -> &mut Self {
        self.reset_at(items, -1, None)
    }

    /// Removes every item from the page, then inserts `items` at `at` keeping at most `limit`
    /// (Phoenix: `stream(socket, name, items, reset: true, at: at, limit: limit)`).
    ///
    /// ```
    /// use liveview_diff::{html, Stream};
    /// let mut recent = Stream::new("recent", |n: &u32| format!("n-{n}"));
    /// recent.reset_at([1, 2, 3], 0, Some(2));
    /// let (ops, _items) = recent.take();
    /// assert!(ops.reset);
    /// assert_eq!(ops.inserts[2], ("n-3".to_owned(), 0, Some(2), false));
    /// ```
    pub fn reset_at(
        &mut self,
        items: impl IntoIterator<Item = T>,
        at: i64,
        limit: Option<i64>,
    ) -> &mut Self {
        let pending = self.pending();
        pending.inserts.clear();
        pending.deletes.clear();
        pending.reset = true;
        self.extend_at(items, at, limit)
    }

    /// Takes the pending operations and items, for rendering (used by `@stream`).
    #[doc(hidden)]
    pub fn take(&self) -> (StreamOps, Vec<(String, T)>) {
        let pending = {
            let mut guard = self
                .pending
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            std::mem::take(&mut *guard)
        };
        let mut inserts = Vec::with_capacity(pending.inserts.len());
        let mut items = Vec::with_capacity(pending.inserts.len());
        for (item, insert) in pending.inserts {
            let dom_id = (self.dom_id)(&item);
            inserts.push((dom_id.clone(), insert.at, insert.limit, insert.update_only));
            items.push((dom_id, item));
        }
        let ops = StreamOps {
            reference: Cow::Owned(self.reference.clone()),
            inserts,
            deletes: pending.deletes,
            reset: pending.reset,
        };
        (ops, items)
    }
}

impl<T> fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
