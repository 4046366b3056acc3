//! The wire JSON of rendered trees and diffs, as the Phoenix LiveView 1.2 client merges them.
//!
//! Everything is written straight into a byte buffer: no intermediate JSON values. The server
//! keeps the last tree it sent (which mirrors what the client holds) and diffs the next render
//! against it:
//!
//! * a slot whose value did not change is omitted;
//! * a nested node with the same template sends only its changed slots, a node whose template
//!   changed (or that replaces text) is sent in full, with its statics `"s"`;
//! * text is always a JSON string (a JSON number would mean a component id);
//! * comprehensions are sent as `{"s": [...], "k": {"0": {...}, ..., "kc": n}}`; a diff of a keyed
//!   comprehension sends moves as old indexes (`"km": true`), changed rows as partial objects,
//!   and new rows in full.

use std::collections::HashMap;

use crate::tree::{Comprehension, Dynamic, Rendered, RowKey};

/// Writes the full rendered tree (the join payload's `rendered`) as a JSON object.
pub fn write_full(rendered: &Rendered, out: &mut Vec<u8>) {
    out.push(b'{');
    write_full_members(rendered, out);
    out.push(b'}');
}

/// Writes the members of the full tree (without braces), so that callers can add top-level keys
/// such as `"t"` (title) or `"e"` (events) to the same object.
pub fn write_full_members(rendered: &Rendered, out: &mut Vec<u8>) {
    write_slots_full(rendered.dynamics(), out);
    if !rendered.dynamics().is_empty() {
        out.push(b',');
    }
    write_statics(rendered.template().statics(), out);
}

/// Writes the diff that turns `old` into `new` as a JSON object (`{}` when nothing changed).
/// Returns whether anything changed.
pub fn write_diff(old: &Rendered, new: &Rendered, out: &mut Vec<u8>) -> bool {
    out.push(b'{');
    let changed = write_diff_members(old, new, out);
    out.push(b'}');
    changed
}

/// Writes the members of the diff from `old` to `new` (without braces); returns whether any
/// member was written. When the root template changed, the full tree is written (with `"s"`).
pub fn write_diff_members(old: &Rendered, new: &Rendered, out: &mut Vec<u8>) -> bool {
    if old.template() != new.template() {
        write_full_members(new, out);
        return true;
    }
    diff_slots(old.dynamics(), new.dynamics(), out)
}

/// The diff from `old` to `new` as a string (for tests and tools; servers use [`write_diff`]).
pub fn diff_to_string(old: &Rendered, new: &Rendered) -> String {
    let mut out = Vec::with_capacity(64);
    write_diff(old, new, &mut out);
    String::from_utf8(out).expect("the diff writer produces UTF-8")
}

/// The full tree as a string (for tests and tools; servers use [`write_full`]).
pub fn full_to_string(rendered: &Rendered) -> String {
    let mut out = Vec::with_capacity(256);
    write_full(rendered, &mut out);
    String::from_utf8(out).expect("the tree writer produces UTF-8")
}

/// Writes `text` as a JSON string literal.
pub fn write_json_str(text: &str, out: &mut Vec<u8>) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..index]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(byte >> 4) as usize]);
                out.push(HEX[(byte & 0xf) as usize]);
                start = index + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        out.extend_from_slice(escape);
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn write_key(index: usize, out: &mut Vec<u8>) {
    let mut buf = itoa::Buffer::new();
    out.push(b'"');
    out.extend_from_slice(buf.format(index).as_bytes());
    out.extend_from_slice(b"\":");
}

fn write_statics(statics: &[&str], out: &mut Vec<u8>) {
    out.extend_from_slice(b"\"s\":[");
    for (index, text) in statics.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_json_str(text, out);
    }
    out.push(b']');
}

fn write_slots_full(dynamics: &[Dynamic], out: &mut Vec<u8>) {
    for (index, dynamic) in dynamics.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_key(index, out);
        write_dynamic_full(dynamic, out);
    }
}

fn write_dynamic_full(dynamic: &Dynamic, out: &mut Vec<u8>) {
    match dynamic {
        Dynamic::Text(text) => write_json_str(text, out),
        Dynamic::Nested(rendered) => write_full(rendered, out),
        Dynamic::List(list) => write_list_full(list, out),
    }
}

fn write_list_full(list: &Comprehension, out: &mut Vec<u8>) {
    out.push(b'{');
    write_statics(list.template().statics(), out);
    out.extend_from_slice(b",\"k\":{");
    for index in 0..list.len() {
        write_key(index, out);
        write_row_full(list.row(index), out);
        out.push(b',');
    }
    write_count(list.len(), false, out);
    out.extend_from_slice(b"}}");
}

fn write_row_full(row: &[Dynamic], out: &mut Vec<u8>) {
    out.push(b'{');
    write_slots_full(row, out);
    out.push(b'}');
}

fn write_count(len: usize, moved: bool, out: &mut Vec<u8>) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(b"\"kc\":");
    out.extend_from_slice(buf.format(len).as_bytes());
    if moved {
        out.extend_from_slice(b",\"km\":true");
    }
}

/// Writes `"i":value` for every slot that changed; returns whether any was written.
fn diff_slots(old: &[Dynamic], new: &[Dynamic], out: &mut Vec<u8>) -> bool {
    let mut wrote = false;
    for (index, (old, new)) in old.iter().zip(new).enumerate() {
        let mark = out.len();
        if wrote {
            out.push(b',');
        }
        write_key(index, out);
        if diff_dynamic(old, new, out) {
            wrote = true;
        } else {
            out.truncate(mark);
        }
    }
    wrote
}

/// Writes the value that turns `old` into `new` if they differ; returns whether it wrote.
fn diff_dynamic(old: &Dynamic, new: &Dynamic, out: &mut Vec<u8>) -> bool {
    match (old, new) {
        (Dynamic::Text(old), Dynamic::Text(new)) => {
            if old == new {
                return false;
            }
            write_json_str(new, out);
            true
        }
        (Dynamic::Nested(old), Dynamic::Nested(new)) if old.template() == new.template() => {
            diff_object(out, |out| diff_slots(old.dynamics(), new.dynamics(), out))
        }
        (Dynamic::List(old), Dynamic::List(new)) if old.template() == new.template() => {
            diff_list(old, new, out)
        }
        (_, new) => {
            write_dynamic_full(new, out);
            true
        }
    }
}

/// Writes `{members}` if `members` writes anything, else nothing; returns whether it wrote.
fn diff_object(out: &mut Vec<u8>, members: impl FnOnce(&mut Vec<u8>) -> bool) -> bool {
    let mark = out.len();
    out.push(b'{');
    if members(out) {
        out.push(b'}');
        true
    } else {
        out.truncate(mark);
        false
    }
}

fn diff_list(old: &Comprehension, new: &Comprehension, out: &mut Vec<u8>) -> bool {
    let mark = out.len();
    out.extend_from_slice(b"{\"k\":{");
    let mut entries = Entries { out, wrote: false };
    let moved = match (old.keys(), new.keys()) {
        (Some(old_keys), Some(new_keys)) if old_keys != new_keys => {
            diff_keyed(old, new, old_keys, new_keys, &mut entries)
        }
        _ => {
            diff_by_index(old, new, &mut entries);
            false
        }
    };
    let wrote = entries.wrote;
    if !wrote && old.len() == new.len() {
        out.truncate(mark);
        return false;
    }
    if wrote {
        out.push(b',');
    }
    write_count(new.len(), moved, out);
    out.extend_from_slice(b"}}");
    true
}

struct Entries<'a> {
    out: &'a mut Vec<u8>,
    wrote: bool,
}

impl Entries<'_> {
    /// Starts entry `index`; returns the mark to roll back to.
    fn begin(&mut self, index: usize) -> usize {
        let mark = self.out.len();
        if self.wrote {
            self.out.push(b',');
        }
        write_key(index, self.out);
        mark
    }

    fn row_diff(&mut self, index: usize, old: &[Dynamic], new: &[Dynamic]) {
        let mark = self.begin(index);
        if diff_object(self.out, |out| diff_slots(old, new, out)) {
            self.wrote = true;
        } else {
            self.out.truncate(mark);
        }
    }

    fn row_full(&mut self, index: usize, row: &[Dynamic]) {
        self.begin(index);
        write_row_full(row, self.out);
        self.wrote = true;
    }

    fn row_moved(&mut self, index: usize, from: usize, old: &[Dynamic], new: &[Dynamic]) {
        self.begin(index);
        let mut buf = itoa::Buffer::new();
        let from = buf.format(from).as_bytes();
        let open = self.out.len();
        self.out.push(b'[');
        self.out.extend_from_slice(from);
        self.out.push(b',');
        if !diff_object(self.out, |out| diff_slots(old, new, out)) {
            // Unchanged: a bare index moves the entry as it is.
            self.out.truncate(open);
            self.out.extend_from_slice(from);
        } else {
            self.out.push(b']');
        }
        self.wrote = true;
    }
}

fn diff_by_index(old: &Comprehension, new: &Comprehension, entries: &mut Entries<'_>) {
    for index in 0..new.len() {
        if index < old.len() {
            entries.row_diff(index, old.row(index), new.row(index));
        } else {
            entries.row_full(index, new.row(index));
        }
    }
}

/// Diffs keyed rows, sending moves; returns whether any row moved.
fn diff_keyed(
    old: &Comprehension,
    new: &Comprehension,
    old_keys: &[RowKey],
    new_keys: &[RowKey],
    entries: &mut Entries<'_>,
) -> bool {
    let mut positions: HashMap<RowKey, usize> = HashMap::with_capacity(old_keys.len());
    for (index, key) in old_keys.iter().enumerate().rev() {
        // With duplicate keys the first occurrence wins.
        positions.insert(*key, index);
    }
    let mut used = vec![false; old_keys.len()];
    let mut moved = false;
    for (index, key) in new_keys.iter().enumerate() {
        match positions.get(key).copied() {
            Some(from) if !used[from] => {
                used[from] = true;
                if from == index {
                    entries.row_diff(index, old.row(from), new.row(index));
                } else {
                    entries.row_moved(index, from, old.row(from), new.row(index));
                    moved = true;
                }
            }
            _ => entries.row_full(index, new.row(index)),
        }
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IntoDynamic, Template};

    static COUNT: Template = Template::new(&["<p>", "</p>"], 1);
    static ROW: Template = Template::new(&["<li>", "</li>"], 2);
    static LIST: Template = Template::new(&["<ul>", "</ul>"], 3);

    fn list(items: &[(u32, &str)]) -> Rendered {
        let mut rows = Comprehension::keyed(&ROW, items.len());
        for (key, text) in items {
            rows.push_keyed_row(key, [text.into_dynamic()]);
        }
        Rendered::new(&LIST, vec![rows.into_dynamic()])
    }

    #[test]
    fn full_render_has_statics_and_string_dynamics() {
        let rendered = Rendered::new(&COUNT, vec![5.into_dynamic()]);
        assert_eq!(full_to_string(&rendered), r#"{"0":"5","s":["<p>","</p>"]}"#);
    }

    #[test]
    fn unchanged_render_is_an_empty_diff() {
        let a = Rendered::new(&COUNT, vec![5.into_dynamic()]);
        assert_eq!(diff_to_string(&a, &a.clone()), "{}");
    }

    #[test]
    fn keyed_swap_sends_moves() {
        let before = list(&[(1, "a"), (2, "b")]);
        let after = list(&[(2, "b"), (1, "a")]);
        assert_eq!(
            diff_to_string(&before, &after),
            r#"{"0":{"k":{"0":1,"1":0,"kc":2,"km":true}}}"#
        );
    }

    #[test]
    fn keyed_change_sends_only_the_changed_row() {
        let before = list(&[(1, "a"), (2, "b"), (3, "c")]);
        let after = list(&[(1, "a"), (2, "B"), (3, "c")]);
        assert_eq!(
            diff_to_string(&before, &after),
            r#"{"0":{"k":{"1":{"0":"B"},"kc":3}}}"#
        );
    }

    #[test]
    fn move_with_change_and_insert() {
        let before = list(&[(1, "a"), (2, "b")]);
        let after = list(&[(2, "B"), (3, "c"), (1, "a")]);
        assert_eq!(
            diff_to_string(&before, &after),
            r#"{"0":{"k":{"0":[1,{"0":"B"}],"1":{"0":"c"},"2":0,"kc":3,"km":true}}}"#
        );
    }

    #[test]
    fn shrink_sends_count() {
        let before = list(&[(1, "a"), (2, "b")]);
        let after = list(&[(1, "a")]);
        assert_eq!(diff_to_string(&before, &after), r#"{"0":{"k":{"kc":1}}}"#);
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = Vec::new();
        write_json_str("a\"b\\c\nd\u{1}", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\nd\u0001""#);
    }
}
