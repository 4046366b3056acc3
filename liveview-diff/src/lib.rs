//! The rendered tree of a LiveView template, HTML escaping, diffing, and the wire JSON of diffs.
//!
//! This is the innermost crate of the workspace: it does no IO, never fails, and depends on no
//! other crate of ours. Depend on it if you build templates by hand, write a template engine, or
//! need the Phoenix LiveView diff format; application authors use it through `liveview-core`.
//!
//! A template is split into **statics** (the literal HTML, known at compile time) and
//! **dynamics** (values computed per render). [`Rendered`] is one rendered template;
//! [`Dynamic`] is the value of one slot: escaped text, a nested template, or a
//! [`Comprehension`] (a loop whose rows share statics).
//!
//! ```
//! use liveview_diff::{Dynamic, IntoDynamic, Rendered, Template};
//!
//! static COUNTER: Template = Template::new(&["<h1>Count: ", "</h1>"], 1);
//! let before = Rendered::new(&COUNTER, vec![0.into_dynamic()]);
//! let after = Rendered::new(&COUNTER, vec![1.into_dynamic()]);
//! assert_eq!(after.to_html(), "<h1>Count: 1</h1>");
//! assert_eq!(liveview_diff::wire::diff_to_string(&before, &after), r#"{"0":"1"}"#);
//! ```
//!
//! Stability: the wire JSON follows the Phoenix LiveView 1.2 client; the exact bytes (key
//! order, whether templates are shared with `"p"`) are not promised, only that the client
//! merges them into the same HTML as [`Rendered::to_html`].

mod attr;
pub mod client;
mod dynamic;
mod escape;
pub mod memo;
mod stream;
mod text;
mod tree;
pub mod wire;

pub use attr::{attr, spread, AttrPair, AttrValue};
pub use dynamic::IntoDynamic;
pub use escape::{escape, escape_into, Raw};
pub use stream::{Stream, StreamOps};
pub use text::Text;
pub use tree::{hash_key, Comprehension, Dynamic, Rendered, RowKey, Template};

#[doc(hidden)]
pub mod __private {
    pub use crate::attr::{attr, spread};
    pub use crate::dynamic::IntoDynamic;
    pub use crate::memo::Reuse;
    pub use liveview_macros::html_impl;
    pub use std::sync::Arc;
    pub use std::vec;
    pub use std::vec::Vec;
}

/// Builds a [`Rendered`] template from maud-like markup.
///
/// The markup is split at compile time into statics (HTML-escaped, adjacent pieces merged) and
/// dynamic slots. Every template — the root, each `@if`/`@match` branch and each `@for` body —
/// becomes a `static` [`Template`] whose fingerprint is [`Template::fingerprint_of`] its statics,
/// so the diff only ever sends the dynamics that changed. The expression has type [`Rendered`].
///
/// # Syntax
///
/// **Text.** String literals are static text, escaped at compile time; numbers, chars and bools
/// are written as they read. Adjacent statics are merged.
///
/// ```
/// use liveview_diff::html;
/// let page = html! { p { "Fish & " "chips: " 3 } };
/// assert_eq!(page.to_html(), "<p>Fish &amp; chips: 3</p>");
/// assert_eq!(page.template().statics(), ["<p>Fish &amp; chips: 3</p>"]);
/// ```
///
/// **Splices.** `(expr)` is one dynamic slot, filled with [`IntoDynamic::into_dynamic`]: text is
/// HTML-escaped at runtime, [`Raw`] is inserted as is, a nested [`Rendered`] (another `html!`)
/// nests, and `None`/`false` render nothing.
///
/// ```
/// use liveview_diff::{html, Raw};
/// let name = "<script>alert('hi')</script>";
/// let page = html! { h1 { "Hello, " (name) "!" } (Raw("<hr>")) (None::<&str>) };
/// assert_eq!(
///     page.to_html(),
///     "<h1>Hello, &lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt;!</h1><hr>"
/// );
/// assert_eq!(page.template().statics(), ["<h1>Hello, ", "!</h1>", "", ""]);
/// ```
///
/// **Elements.** `name { children }` renders an element with a closing tag; `name;` renders only
/// the opening tag. The void elements `area base br col embed hr img input link meta source
/// track wbr` never get a closing tag (and cannot have children). Names are identifiers — Rust
/// keywords such as `type`, `for` or `loop` included — joined by `-` or `:`, like `phx-click`,
/// `phx-value-id`, `data-phx-link` or `xml:lang`. The shorthands `.class-name` (repeatable) and
/// `#id` may follow the element name; they are rendered as `id="…" class="…"` before the other
/// attributes.
///
/// ```
/// use liveview_diff::html;
/// let page = html! {
///     div.card.wide #main { br; hr {} my-widget {} }
///     label for="email" { "Email" }
/// };
/// assert_eq!(
///     page.to_html(),
///     r#"<div id="main" class="card wide"><br><hr><my-widget></my-widget></div><label for="email">Email</label>"#
/// );
/// ```
///
/// **Attributes.** `name="literal"` is static (escaped at compile time); `name=(expr)` is a
/// dynamic value ([`AttrValue`]), escaped at runtime, rendered as `name="…"`, omitted when the
/// value is `None` or `false` and bare when it is `true` (the whole attribute is one dynamic
/// slot, as in HEEx); a bare `name` is a boolean attribute; `name[cond]` is a boolean attribute
/// present only when the `bool` `cond` is true; `..(pairs)` (or `..name`) spreads a list or
/// map of `(name, value)` pairs ([`spread`], HEEx's `{@rest}`).
///
/// ```
/// use liveview_diff::html;
/// let (value, done) = ("\"quoted\" & more", true);
/// let page = html! {
///     input type="checkbox" phx-click="toggle" value=(value) checked[done] disabled[!done] required;
/// };
/// assert_eq!(
///     page.to_html(),
///     r#"<input type="checkbox" phx-click="toggle" value="&quot;quoted&quot; &amp; more" checked required>"#
/// );
/// ```
///
/// **Conditionals.** `@if cond { … } @else if cond { … } @else { … }` (conditions may be
/// `let PAT = expr`) and `@match expr { PAT if guard => { … }, … }` are one dynamic slot each;
/// every branch is a template of its own, and a missing `@else` renders nothing. A `@match` arm
/// may also be a single node followed by `,`.
///
/// ```
/// use liveview_diff::html;
/// fn badge(count: Option<u32>) -> String {
///     html! {
///         @if let Some(n) = count {
///             @match n {
///                 0 => "none",
///                 n if n > 99 => { "99+" },
///                 n => { b { (n) } }
///             }
///         } @else {
///             "loading"
///         }
///     }
///     .to_html()
/// }
/// assert_eq!(badge(None), "loading");
/// assert_eq!(badge(Some(0)), "none");
/// assert_eq!(badge(Some(7)), "<b>7</b>");
/// assert_eq!(badge(Some(120)), "99+");
/// ```
///
/// **Loops.** `@for PAT in expr { … }` is one slot holding a [`Comprehension`] whose rows share
/// the body's template. `@for PAT in expr, key = KEY { … }` makes it keyed: each row is pushed
/// with [`Comprehension::push_keyed_row`] so the diff can move rows. The key is evaluated before
/// the row's body (write `key = &item.id` to borrow rather than move).
///
/// ```
/// use liveview_diff::{html, Dynamic};
/// struct Todo { id: u32, title: &'static str }
/// let todos = [Todo { id: 7, title: "milk" }, Todo { id: 9, title: "eggs" }];
/// let page = html! {
///     ul { @for todo in &todos, key = todo.id { li id=(todo.id) { (todo.title) } } }
///     ol { @for n in 1..=2 { li { (n) } } }
/// };
/// assert_eq!(
///     page.to_html(),
///     r#"<ul><li id="7">milk</li><li id="9">eggs</li></ul><ol><li>1</li><li>2</li></ol>"#
/// );
/// let Dynamic::List(list) = &page.dynamics()[0] else { panic!("a comprehension") };
/// assert_eq!(list.len(), 2);
/// assert!(list.keys().is_some());
/// ```
///
/// **Memoized loops.** `@for PAT in expr, key = KEY, memo = MEMO { … }` also stamps each row
/// with a hash of `MEMO` (any `Hash` value that changes whenever anything the row shows
/// changes, e.g. a version counter). A row whose key and memo did not change is skipped by the
/// diff without comparing it and, when rendered inside [`memo::with_previous`], not rendered at
/// all: its previous dynamics are reused. `memo` needs `key`; `KEY` and `MEMO` are evaluated
/// before the body, and the body only for rows that changed.
///
/// ```
/// use liveview_diff::{html, memo, wire};
/// struct Item { id: u32, version: u64, name: String }
/// let view = |items: &[Item]| html! {
///     @for item in items, key = item.id, memo = item.version { p { (&item.name) } }
/// };
/// let mut items = vec![Item { id: 1, version: 1, name: "a".into() }];
/// let before = view(&items);
/// items[0].name = "b".into(); // …but the version did not change: not re-rendered
/// let after = memo::with_previous(Some(&before), || view(&items));
/// assert_eq!(wire::diff_to_string(&before, &after), "{}");
/// ```
///
/// **Bindings.** `@let PAT = expr;` binds a local for the rest of the enclosing block (element
/// body, `{ … }` group, branch or loop body); dynamics are evaluated in source order.
///
/// ```
/// use liveview_diff::html;
/// let items = ["a", "b", "c"];
/// let page = html! {
///     @let count = items.len();
///     p { @let plural = if count == 1 { "" } else { "s" }; (count) " item" (plural) }
/// };
/// assert_eq!(page.to_html(), "<p>3 items</p>");
/// ```
///
/// Malformed markup is a compile error pointing at the offending token:
///
/// ```compile_fail
/// let page = liveview_diff::html! { div "missing braces" };
/// ```
///
/// ```compile_fail
/// let page = liveview_diff::html! { br { "void elements have no children" } };
/// ```
///
/// ```compile_fail
/// let checked = 1;
/// let page = liveview_diff::html! { input checked[checked]; }; // not a bool
/// ```
#[macro_export]
macro_rules! html {
    ($($tt:tt)*) => {
        $crate::__private::html_impl!($crate; $($tt)*)
    };
}
