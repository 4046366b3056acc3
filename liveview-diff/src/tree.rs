//! The rendered tree: templates (statics), dynamics, nested nodes and comprehensions.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use crate::escape::escape_into;

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
        Self { statics, fingerprint }
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
        write_slots(self.template.statics, &self.dynamics, out);
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
pub enum Dynamic {
    /// HTML text, already escaped (or deliberately raw). Sent as a JSON string.
    Text(Cow<'static, str>),
    /// A nested template.
    Nested(Box<Rendered>),
    /// A comprehension (loop) whose rows share one template.
    List(Box<Comprehension>),
}

impl Dynamic {
    /// The empty text, which renders as nothing.
    pub const EMPTY: Dynamic = Dynamic::Text(Cow::Borrowed(""));

    /// Escapes `text` for HTML and wraps it.
    pub fn text(text: &str) -> Self {
        let mut out = String::with_capacity(text.len());
        escape_into(text, &mut out);
        Dynamic::Text(Cow::Owned(out))
    }

    /// Wraps HTML that must not be escaped.
    pub fn raw(html: impl Into<Cow<'static, str>>) -> Self {
        Dynamic::Text(html.into())
    }

    /// Renders the value to HTML, appending to `out`.
    pub fn write_html(&self, out: &mut String) {
        match self {
            Dynamic::Text(text) => out.push_str(text),
            Dynamic::Nested(rendered) => rendered.write_html(out),
            Dynamic::List(list) => list.write_html(out),
        }
    }
}

/// A key identifying a comprehension row across renders (a hash of the user's key value).
pub type RowKey = u64;

/// A loop: rows that share one template. Rows may be keyed, so that the diff can send moves.
#[derive(Debug, Clone, PartialEq)]
pub struct Comprehension {
    template: &'static Template,
    /// All rows' dynamics, row after row; each row has `template.arity()` values.
    dynamics: Vec<Dynamic>,
    len: usize,
    keys: Option<Vec<RowKey>>,
}

impl Comprehension {
    /// Creates an empty, unkeyed comprehension with room for `rows` rows.
    pub fn new(template: &'static Template, rows: usize) -> Self {
        Self {
            template,
            dynamics: Vec::with_capacity(rows * template.arity()),
            len: 0,
            keys: None,
        }
    }

    /// Creates an empty, keyed comprehension with room for `rows` rows.
    pub fn keyed(template: &'static Template, rows: usize) -> Self {
        Self {
            keys: Some(Vec::with_capacity(rows)),
            ..Self::new(template, rows)
        }
    }

    /// Appends an unkeyed row (in a keyed comprehension its index becomes its key).
    ///
    /// # Panics
    ///
    /// If the row's length differs from the template's arity.
    pub fn push_row(&mut self, row: impl IntoIterator<Item = Dynamic>) {
        let before = self.dynamics.len();
        self.dynamics.extend(row);
        assert_eq!(
            self.dynamics.len() - before,
            self.template.arity(),
            "row length and template arity differ"
        );
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
        let key = hash_key(key);
        match &mut self.keys {
            Some(keys) => *keys.last_mut().expect("a row was pushed") = key,
            None => {
                let mut keys: Vec<RowKey> = (0..self.len as u64 - 1).map(|i| hash_key(&i)).collect();
                keys.push(key);
                self.keys = Some(keys);
            }
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
        let arity = self.template.arity();
        &self.dynamics[index * arity..(index + 1) * arity]
    }

    /// The row keys, if the comprehension is keyed.
    pub fn keys(&self) -> Option<&[RowKey]> {
        self.keys.as_deref()
    }

    /// Renders every row to HTML, appending to `out`.
    pub fn write_html(&self, out: &mut String) {
        for index in 0..self.len {
            write_slots(self.template.statics, self.row(index), out);
        }
    }
}

fn write_slots(statics: &[&str], dynamics: &[Dynamic], out: &mut String) {
    out.push_str(statics[0]);
    for (dynamic, text) in dynamics.iter().zip(&statics[1..]) {
        dynamic.write_html(out);
        out.push_str(text);
    }
}

/// Hashes a user key into a [`RowKey`] (SipHash with fixed keys: stable within a process).
pub fn hash_key<K: Hash + ?Sized>(key: &K) -> RowKey {
    #[allow(deprecated)]
    let mut hasher = std::hash::SipHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}
