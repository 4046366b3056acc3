//! The rendered tree: templates (statics), dynamics, nested nodes and comprehensions.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use crate::escape::escape;
use crate::stream::StreamOps;
use crate::text::Text;

/// The static parts of one template: `statics.len() == dynamics + 1`.
///
/// Templates are created at compile time by the `html!` macro and live in `static` items, so the
/// statics are never copied. Two templates with the same fingerprint are the same template on the
/// wire (the client only ever sees the statics).
#[derive(Debug)]
pub struct Template {
    statics: &'static [&'static str],
    fingerprint: u64,
}

impl Template {
    /// Creates a template from its statics and a fingerprint that identifies them.
    ///
    /// The `html!` macro computes the fingerprint at compile time; hand-built templates may use
    /// [`Template::fingerprint_of`].
    pub const fn new(statics: &'static [&'static str], fingerprint: u64) -> Self {
        assert!(!statics.is_empty(), "a template has at least one static");
        Self {
            statics,
            fingerprint,
        }
    }

    /// The static strings; a template with `n` dynamics has `n + 1` statics.
    pub fn statics(&self) -> &'static [&'static str] {
        self.statics
    }

    /// The template's fingerprint.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The number of dynamic slots.
    pub fn arity(&self) -> usize {
        self.statics.len() - 1
    }

    /// A fingerprint of statics (64-bit FNV-1a over the strings and their lengths), usable in
    /// `const` context.
    pub const fn fingerprint_of(statics: &[&str]) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut i = 0;
        while i < statics.len() {
            let bytes = statics[i].as_bytes();
            let mut j = 0;
            while j < bytes.len() {
                hash ^= bytes[j] as u64;
                hash = hash.wrapping_mul(0x0100_0000_01b3);
                j += 1;
            }
            // Separate the strings so that ["ab", ""] and ["a", "b"] differ.
            hash ^= 0xff;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
            hash ^= bytes.len() as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        hash
    }
}

impl PartialEq for Template {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
            || (self.fingerprint == other.fingerprint && self.statics == other.statics)
    }
}

/// A rendered template: its statics plus the value of each dynamic slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    template: &'static Template,
    dynamics: Vec<Dynamic>,
}

impl Rendered {
    /// Creates a rendered node.
    ///
    /// # Panics
    ///
    /// If `dynamics.len()` differs from the template's arity (the `html!` macro never does this).
    pub fn new(template: &'static Template, dynamics: Vec<Dynamic>) -> Self {
        assert_eq!(
            dynamics.len(),
            template.arity(),
            "template arity and dynamics count differ"
        );
        Self { template, dynamics }
    }

    /// The template.
    pub fn template(&self) -> &'static Template {
        self.template
    }

    /// The dynamic values, one per slot.
    pub fn dynamics(&self) -> &[Dynamic] {
        &self.dynamics
    }

    /// Renders the node to HTML, appending to `out`.
    pub fn write_html(&self, out: &mut String) {
        write_slots(self.template.statics, &self.dynamics, out, &mut |_, _| {});
    }

    /// Renders the node to HTML, appending to `out`; `component` writes the HTML of each live
    /// component the tree references (plain [`Rendered::write_html`] writes nothing for them).
    pub fn write_html_with(&self, out: &mut String, component: &mut dyn FnMut(u32, &mut String)) {
        write_slots(self.template.statics, &self.dynamics, out, component);
    }

    /// Renders the node to an HTML string.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_html(&mut out);
        out
    }
}

/// The value of one dynamic slot.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Dynamic {
    /// HTML text, already escaped (or deliberately raw). Sent as a JSON string.
    Text(Text),
    /// A nested template.
    Nested(Box<Rendered>),
    /// A comprehension (loop) whose rows share one template.
    List(Box<Comprehension>),
    /// A live component, by its id (cid): its tree travels in the diff's `"c"` map and is sent as
    /// a JSON number in the slot.
    Component(u32),
}

impl Dynamic {
    /// The empty text, which renders as nothing.
    pub const EMPTY: Dynamic = Dynamic::Text(Text::EMPTY);

    /// Escapes `text` for HTML and wraps it.
    pub fn text(text: &str) -> Self {
        match escape(text) {
            Cow::Borrowed(text) => Dynamic::Text(Text::copy_from(text)),
            Cow::Owned(text) => Dynamic::Text(Text::from(text)),
        }
    }

    /// Wraps HTML that must not be escaped.
    pub fn raw(html: impl Into<Cow<'static, str>>) -> Self {
        Dynamic::Text(Text::from(html.into()))
    }

    /// Renders the value to HTML, appending to `out`.
    pub fn write_html(&self, out: &mut String) {
        self.write_html_with(out, &mut |_, _| {});
    }

    fn write_html_with(&self, out: &mut String, component: &mut dyn FnMut(u32, &mut String)) {
        match self {
            Dynamic::Text(text) => out.push_str(text),
            Dynamic::Nested(rendered) => rendered.write_html_with(out, component),
            Dynamic::List(list) => list.write_html_with(out, component),
            Dynamic::Component(cid) => component(*cid, out),
        }
    }

    fn is_text(&self) -> bool {
        matches!(self, Dynamic::Text(_))
    }
}

/// A key identifying a comprehension row across renders (a hash of the user's key value).
pub type RowKey = u64;

/// A loop: rows that share one template. Rows may be keyed, so that the diff can send moves, and
/// memoized (see [`Comprehension::push_memo_row`]), so that unchanged rows cost nothing.
#[derive(Debug, Clone)]
pub struct Comprehension {
    template: &'static Template,
    rows: Rows,
    len: usize,
    keys: Option<Vec<RowKey>>,
    /// Whether some row holds a nested node or comprehension (else rows are only text).
    nested: bool,
    /// For a stream: this render's operations (the rows are this render's items only).
    stream: Option<Box<StreamOps>>,
}

#[derive(Debug, Clone)]
enum Rows {
    /// All rows' dynamics, row after row; each row has `template.arity()` values.
    Flat(Vec<Dynamic>),
    /// Memoized rows: each row shared (with the previous render's tree, when reused) and its
    /// memo stamp (`None` for a row pushed without one).
    Shared {
        rows: Vec<Arc<[Dynamic]>>,
        stamps: Vec<Option<u64>>,
    },
}

impl PartialEq for Comprehension {
    fn eq(&self, other: &Self) -> bool {
        self.template == other.template
            && self.len == other.len
            && self.keys == other.keys
            && (0..self.len).all(|index| self.row(index) == other.row(index))
    }
}

impl Comprehension {
    /// Creates an empty, unkeyed comprehension with room for `rows` rows.
    pub fn new(template: &'static Template, rows: usize) -> Self {
        Self {
            template,
            rows: Rows::Flat(Vec::with_capacity(rows * template.arity())),
            len: 0,
            keys: None,
            nested: false,
            stream: None,
        }
    }

    /// Creates the comprehension of one render of a stream: its rows are the items inserted
    /// since the last render, `ops` its inserts, deletes and reset (see [`crate::Stream`]).
    pub fn stream(template: &'static Template, ops: StreamOps, rows: usize) -> Self {
        Self {
            stream: Some(Box::new(ops)),
            ..Self::new(template, rows)
        }
    }

    /// The stream operations, for a stream's comprehension.
    pub fn stream_ops(&self) -> Option<&StreamOps> {
        self.stream.as_deref()
    }

    /// Creates an empty, keyed comprehension with room for `rows` rows.
    pub fn keyed(template: &'static Template, rows: usize) -> Self {
        Self {
            keys: Some(Vec::with_capacity(rows)),
            ..Self::new(template, rows)
        }
    }

    /// Creates an empty, keyed comprehension of memoized rows (see
    /// [`Comprehension::push_memo_row`]) with room for `rows` rows.
    pub fn memoized(template: &'static Template, rows: usize) -> Self {
        Self {
            template,
            rows: Rows::Shared {
                rows: Vec::with_capacity(rows),
                stamps: Vec::with_capacity(rows),
            },
            len: 0,
            keys: Some(Vec::with_capacity(rows)),
            nested: false,
            stream: None,
        }
    }

    /// Appends an unkeyed row (in a keyed comprehension its index becomes its key).
    ///
    /// # Panics
    ///
    /// If the row's length differs from the template's arity.
    pub fn push_row(&mut self, row: impl IntoIterator<Item = Dynamic>) {
        let arity = self.template.arity();
        match &mut self.rows {
            Rows::Flat(dynamics) => {
                let before = dynamics.len();
                dynamics.extend(row);
                assert_eq!(
                    dynamics.len() - before,
                    arity,
                    "row length and template arity differ"
                );
                self.nested |= dynamics[before..].iter().any(|d| !d.is_text());
            }
            Rows::Shared { rows, stamps } => {
                let row: Arc<[Dynamic]> = row.into_iter().collect();
                assert_eq!(row.len(), arity, "row length and template arity differ");
                self.nested |= row.iter().any(|d| !d.is_text());
                rows.push(row);
                stamps.push(None);
            }
        }
        if let Some(keys) = &mut self.keys {
            keys.push(hash_key(&(self.len as u64)));
        }
        self.len += 1;
    }

    /// Appends a row identified by `key`.
    ///
    /// # Panics
    ///
    /// If the row's length differs from the template's arity.
    pub fn push_keyed_row<K: Hash + ?Sized>(
        &mut self,
        key: &K,
        row: impl IntoIterator<Item = Dynamic>,
    ) {
        self.push_row(row);
        self.set_last_key(hash_key(key));
    }

    fn set_last_key(&mut self, key: RowKey) {
        match &mut self.keys {
            Some(keys) => *keys.last_mut().expect("a row was pushed") = key,
            None => {
                let mut keys: Vec<RowKey> =
                    (0..self.len as u64 - 1).map(|i| hash_key(&i)).collect();
                keys.push(key);
                self.keys = Some(keys);
            }
        }
    }

    /// Appends a memoized row: `key` is the row's hashed key ([`hash_key`]) and `stamp` the hash
    /// of everything the row shows ([`crate::memo::stamp`]). The diff treats two rows with the
    /// same key and the same stamp as equal without comparing them, and a render inside
    /// [`crate::memo::with_previous`] reuses the previous tree's row instead of rendering it
    /// (the `html!` macro's `@for …, key = …, memo = …` does both).
    ///
    /// A flat comprehension (made by [`Comprehension::new`] or [`Comprehension::keyed`]) is
    /// converted to shared rows first.
    ///
    /// # Panics
    ///
    /// If the row's length differs from the template's arity.
    pub fn push_memo_row(&mut self, key: RowKey, stamp: u64, row: Arc<[Dynamic]>) {
        let nested = row.iter().any(|d| !d.is_text());
        self.push_shared(key, stamp, row, nested);
    }

    /// [`Comprehension::push_memo_row`] of a row taken from the previous tree, whose
    /// comprehension says whether its rows hold nested nodes (so the row is not read again).
    pub(crate) fn push_shared(
        &mut self,
        key: RowKey,
        stamp: u64,
        row: Arc<[Dynamic]>,
        nested: bool,
    ) {
        assert_eq!(
            row.len(),
            self.template.arity(),
            "row length and template arity differ"
        );
        if let Rows::Flat(dynamics) = &mut self.rows {
            let arity = self.template.arity();
            let mut flat = std::mem::take(dynamics).into_iter();
            let rows = (0..self.len)
                .map(|_| flat.by_ref().take(arity).collect())
                .collect();
            self.rows = Rows::Shared {
                rows,
                stamps: vec![None; self.len],
            };
        }
        let Rows::Shared { rows, stamps } = &mut self.rows else {
            unreachable!("converted above")
        };
        self.nested |= nested;
        rows.push(row);
        stamps.push(Some(stamp));
        if let Some(keys) = &mut self.keys {
            keys.push(key);
            self.len += 1;
        } else {
            self.len += 1;
            self.set_last_key(key);
        }
    }

    /// The rows' template.
    pub fn template(&self) -> &'static Template {
        self.template
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The dynamics of row `index`.
    pub fn row(&self, index: usize) -> &[Dynamic] {
        match &self.rows {
            Rows::Flat(dynamics) => {
                let arity = self.template.arity();
                &dynamics[index * arity..(index + 1) * arity]
            }
            Rows::Shared { rows, .. } => &rows[index],
        }
    }

    /// The memo stamp of row `index`, if it was pushed with [`Comprehension::push_memo_row`].
    pub fn stamp(&self, index: usize) -> Option<u64> {
        match &self.rows {
            Rows::Flat(_) => None,
            Rows::Shared { stamps, .. } => stamps[index],
        }
    }

    /// The shared row `index` of a memoized comprehension.
    pub(crate) fn shared_row(&self, index: usize) -> Option<&Arc<[Dynamic]>> {
        match &self.rows {
            Rows::Flat(_) => None,
            Rows::Shared { rows, .. } => Some(&rows[index]),
        }
    }

    /// Whether the comprehension holds memoized rows.
    pub(crate) fn is_memoized(&self) -> bool {
        matches!(self.rows, Rows::Shared { .. })
    }

    /// Whether some row holds a nested node or comprehension.
    pub(crate) fn has_nested(&self) -> bool {
        self.nested
    }

    /// Whether row `old_index` of `old` and row `new_index` of `self` are known to be equal
    /// without comparing them: the same shared row, or the same memo stamp (the rows' keys are
    /// equal: the caller matched them by key).
    pub(crate) fn unchanged_since(
        &self,
        new_index: usize,
        old: &Comprehension,
        old_index: usize,
    ) -> bool {
        match (&self.rows, &old.rows) {
            (
                Rows::Shared { rows, stamps },
                Rows::Shared {
                    rows: old_rows,
                    stamps: old_stamps,
                },
            ) => {
                Arc::ptr_eq(&rows[new_index], &old_rows[old_index])
                    || (stamps[new_index].is_some() && stamps[new_index] == old_stamps[old_index])
            }
            _ => false,
        }
    }

    /// The row keys, if the comprehension is keyed.
    pub fn keys(&self) -> Option<&[RowKey]> {
        self.keys.as_deref()
    }

    /// Renders every row to HTML, appending to `out`.
    pub fn write_html(&self, out: &mut String) {
        self.write_html_with(out, &mut |_, _| {});
    }

    fn write_html_with(&self, out: &mut String, component: &mut dyn FnMut(u32, &mut String)) {
        for index in 0..self.len {
            write_slots(self.template.statics, self.row(index), out, component);
        }
    }
}

fn write_slots(
    statics: &[&str],
    dynamics: &[Dynamic],
    out: &mut String,
    component: &mut dyn FnMut(u32, &mut String),
) {
    out.push_str(statics[0]);
    for (dynamic, text) in dynamics.iter().zip(&statics[1..]) {
        dynamic.write_html_with(out, component);
        out.push_str(text);
    }
}

/// Hashes a user key into a [`RowKey`] (a fast 64-bit hash with a random per-process seed:
/// stable within a process, not across processes).
pub fn hash_key<K: Hash + ?Sized>(key: &K) -> RowKey {
    let mut hasher = KeyHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// The seed of [`hash_key`], random per process (so that colliding keys cannot be precomputed).
fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(0x6c69_7665_7669_6577_u64) | 1
    })
}

const MUL: u64 = 0x9e37_79b9_7f4a_7c15;

/// The 64×64→128-bit multiply, folded (the mixing step of foldhash and wyhash).
#[inline]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The hasher of [`hash_key`]: a folded-multiply hash (foldhash-like), much faster than SipHash
/// on the integers and short strings rows are keyed by.
struct KeyHasher {
    state: u64,
    seed: u64,
}

impl KeyHasher {
    fn new() -> Self {
        let seed = seed();
        KeyHasher { state: seed, seed }
    }

    #[inline]
    fn mix(&mut self, value: u64) {
        self.state = folded_multiply(self.state ^ value, MUL ^ self.seed.rotate_left(17));
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.mix(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(last) ^ ((bytes.len() as u64) << 56));
    }

    fn write_u8(&mut self, value: u8) {
        self.mix(u64::from(value));
    }

    fn write_u16(&mut self, value: u16) {
        self.mix(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.mix(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }

    fn finish(&self) -> u64 {
        folded_multiply(self.state, self.seed ^ MUL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hashes_are_stable_and_distinct() {
        assert_eq!(hash_key(&42u64), hash_key(&42u64));
        assert_eq!(hash_key("abc"), hash_key(&String::from("abc")));
        let mut seen = std::collections::HashSet::new();
        for i in 0..10_000u64 {
            assert!(seen.insert(hash_key(&i)));
            assert!(seen.insert(hash_key(&(i, 1u8))));
            assert!(seen.insert(hash_key(&format!("key-{i}"))));
        }
        assert_ne!(hash_key(&(1u32, 2u32)), hash_key(&(2u32, 1u32)));
        assert_ne!(hash_key(&["ab", ""][..]), hash_key(&["a", "b"][..]));
    }
}
