//! Change tracking: memoized loop rows that are neither re-rendered nor compared when their
//! inputs did not change.
//!
//! A loop written `@for item in items, key = item.id, memo = item.version { … }` stamps every
//! row with a hash of its memo value ([`stamp`]). Two rows with the same key and the same stamp
//! are *the same row*: the memo value must change whenever anything the row's body shows
//! changes (a version counter, an `updated_at`, or the row's data itself when it is `Hash`).
//!
//! * **Render.** Inside [`with_previous`], the render can see the tree it will be diffed
//!   against. A memoized loop then looks up each row's key and stamp in the previous tree and,
//!   when they match, takes the previous row (an `Arc`, shared, not copied) instead of
//!   evaluating the body. Outside [`with_previous`] every row is rendered.
//! * **Diff.** Rows whose key and stamp match (or that are the very same shared row) are skipped
//!   without comparing their slots; only moves are sent for them.
//!
//! ```
//! use liveview_diff::{html, memo, wire};
//! struct Row { id: u32, version: u32, label: String }
//! fn page(rows: &[Row]) -> liveview_diff::Rendered {
//!     html! { ul { @for row in rows, key = row.id, memo = row.version { li { (&row.label) } } } }
//! }
//! let mut rows: Vec<Row> = (0..3).map(|id| Row { id, version: 0, label: format!("row {id}") }).collect();
//! let before = page(&rows);
//! rows[1].label = "changed".into();
//! rows[1].version += 1;
//! let after = memo::with_previous(Some(&before), || page(&rows));
//! assert_eq!(
//!     wire::diff_to_string(&before, &after),
//!     r#"{"0":{"k":{"1":{"0":"changed"},"kc":3}}}"#
//! );
//! ```

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::tree::{hash_key, Comprehension, Dynamic, Rendered, RowKey, Template};

/// The stamp of a memo value (a 64-bit hash).
pub fn stamp<T: Hash + ?Sized>(value: &T) -> u64 {
    hash_key(value)
}

thread_local! {
    static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
    static NEXT_SCOPE: Cell<u64> = const { Cell::new(1) };
}

/// Runs `render` with `previous` as the tree the result will be diffed against, so that
/// memoized loop rows whose key and stamp did not change are taken from `previous` instead of
/// being rendered again. `None` renders everything.
///
/// Scopes nest (the innermost wins) and end when `render` returns or unwinds.
pub fn with_previous<R>(previous: Option<&Rendered>, render: impl FnOnce() -> R) -> R {
    let scope = previous.map(|previous| Scope {
        id: NEXT_SCOPE.with(|next| {
            let id = next.get();
            next.set(id + 1);
            id
        }),
        previous,
        templates: HashMap::new(),
    });
    let saved = SCOPE.with(|cell| cell.replace(scope));
    let _restore = Restore(Some(saved));
    render()
}

/// Restores the enclosing scope when a [`with_previous`] call ends.
struct Restore(Option<Option<Scope>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let saved = self.0.take().flatten();
        let _ = SCOPE.try_with(|cell| {
            if let Ok(mut scope) = cell.try_borrow_mut() {
                *scope = saved;
            }
        });
    }
}

/// The previous tree of one [`with_previous`] call.
struct Scope {
    id: u64,
    /// Borrowed for the duration of the `with_previous` call that created the scope.
    previous: *const Rendered,
    templates: HashMap<*const Template, TemplateState>,
}

/// The memoized comprehensions of the previous tree that use one row template.
struct TemplateState {
    lists: Vec<*const Comprehension>,
    /// How many loops of this template the current render has started.
    started: usize,
    /// `(key, stamp)` → `(list, row)`, built on the first structural miss.
    index: Option<HashMap<(RowKey, u64), (usize, usize)>>,
}

impl Scope {
    fn state(&mut self, template: &'static Template) -> &mut TemplateState {
        let previous = self.previous;
        self.templates
            .entry(template as *const Template)
            .or_insert_with(|| {
                let mut lists = Vec::new();
                // SAFETY: the scope exists only while `with_previous` borrows the tree.
                collect_rendered(unsafe { &*previous }, template, &mut lists);
                TemplateState {
                    lists,
                    started: 0,
                    index: None,
                }
            })
    }
}

fn collect_rendered(rendered: &Rendered, template: &Template, out: &mut Vec<*const Comprehension>) {
    for dynamic in rendered.dynamics() {
        collect_dynamic(dynamic, template, out);
    }
}

fn collect_dynamic(dynamic: &Dynamic, template: &Template, out: &mut Vec<*const Comprehension>) {
    match dynamic {
        Dynamic::Text(_) | Dynamic::Component(_) => {}
        Dynamic::Nested(rendered) => collect_rendered(rendered, template, out),
        Dynamic::List(list) => {
            if list.is_memoized() && std::ptr::eq(list.template(), template) {
                out.push(&**list);
            }
            if list.has_nested() {
                for index in 0..list.len() {
                    for dynamic in list.row(index) {
                        collect_dynamic(dynamic, template, out);
                    }
                }
            }
        }
    }
}

/// One memoized loop's access to the previous tree (used by the code `html!` generates).
#[doc(hidden)]
#[derive(Debug)]
pub struct Reuse {
    /// The scope this loop runs in (0: none).
    scope: u64,
    template: *const Template,
    /// The previous comprehension this loop most likely continues.
    list: *const Comprehension,
    /// Previous row index minus new row index, for the positional guess.
    offset: isize,
    _not_send: PhantomData<*const ()>,
}

impl Reuse {
    /// Starts a memoized loop of `template`.
    pub fn new(template: &'static Template) -> Self {
        let mut reuse = Reuse {
            scope: 0,
            template,
            list: std::ptr::null(),
            offset: 0,
            _not_send: PhantomData,
        };
        SCOPE.with(|cell| {
            let Ok(mut scope) = cell.try_borrow_mut() else {
                return;
            };
            let Some(scope) = scope.as_mut() else {
                return;
            };
            reuse.scope = scope.id;
            let state = scope.state(template);
            // The n-th loop of a template in this render most likely continues the n-th list
            // of the previous tree (both are in document order).
            let guess = state.lists.get(state.started).or(state.lists.last());
            reuse.list = guess.copied().unwrap_or(std::ptr::null());
            state.started += 1;
        });
        reuse
    }

    /// Appends the previous render's row `key` to `list` if its stamp is `stamp` and returns
    /// `true`; else returns `false` (the caller renders the row and pushes it with
    /// [`Comprehension::push_memo_row`]).
    pub fn push(&mut self, list: &mut Comprehension, key: RowKey, stamp: u64) -> bool {
        match self.take(list.len(), key, stamp) {
            Some((row, nested)) => {
                list.push_shared(key, stamp, row, nested);
                true
            }
            None => false,
        }
    }

    /// The previous render's row `key` if its stamp is `stamp` (and whether its list has nested
    /// rows); `position` is the row's index in the new comprehension.
    fn take(&mut self, position: usize, key: RowKey, stamp: u64) -> Option<(Arc<[Dynamic]>, bool)> {
        if self.scope == 0 {
            return None;
        }
        SCOPE.with(|cell| {
            let mut scope = cell.try_borrow_mut().ok()?;
            let scope = scope.as_mut().filter(|scope| scope.id == self.scope)?;
            // SAFETY: `self.list` points into the previous tree of the scope `self.scope`, which
            // is still the current scope, so `with_previous` still borrows that tree.
            if let Some(list) = unsafe { self.list.as_ref() } {
                let guess = position as isize + self.offset;
                if guess >= 0 && (guess as usize) < list.len() {
                    let guess = guess as usize;
                    if list.keys().map(|keys| keys[guess]) == Some(key) {
                        // Same row in the same place: reuse it if its stamp did not change.
                        return if list.stamp(guess) == Some(stamp) {
                            list.shared_row(guess)
                                .cloned()
                                .map(|row| (row, list.has_nested()))
                        } else {
                            None
                        };
                    }
                }
            }
            // Rows were inserted, removed or moved: look the row up by key and stamp.
            let state = scope.templates.get_mut(&self.template)?;
            let lists = &state.lists;
            let index = state.index.get_or_insert_with(|| {
                let mut index = HashMap::new();
                for (list_index, &list) in lists.iter().enumerate() {
                    // SAFETY: as above.
                    let list = unsafe { &*list };
                    let Some(keys) = list.keys() else { continue };
                    for (row, &key) in keys.iter().enumerate() {
                        if let Some(stamp) = list.stamp(row) {
                            index.entry((key, stamp)).or_insert((list_index, row));
                        }
                    }
                }
                index
            });
            let &(list_index, row) = index.get(&(key, stamp))?;
            let list = state.lists[list_index];
            if list == self.list {
                self.offset = row as isize - position as isize;
            }
            // SAFETY: as above.
            let list = unsafe { &*list };
            list.shared_row(row)
                .cloned()
                .map(|row| (row, list.has_nested()))
        })
    }
}
