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
//!   and new rows in full; memoized rows whose key and stamp did not change are skipped without
//!   comparing them (see [`crate::memo`]);
//! * statics that appear more than once in one payload (a nested template in many rows, two
//!   loops over the same row template) are sent once, in a `"p"` table at the top level of the
//!   payload, and referenced by index (`"s": 0`) — only where that makes the payload shorter.

use std::collections::HashMap;

use crate::stream::StreamOps;
use crate::tree::{Comprehension, Dynamic, Rendered, RowKey, Template};

/// Writes the full rendered tree (the join payload's `rendered`) as a JSON object.
pub fn write_full(rendered: &Rendered, out: &mut Vec<u8>) {
    out.push(b'{');
    write_full_members(rendered, out);
    out.push(b'}');
}

/// Writes the members of the full tree (without braces), so that callers can add top-level keys
/// such as `"t"` (title) or `"e"` (events) to the same object.
pub fn write_full_members(rendered: &Rendered, out: &mut Vec<u8>) {
    let mut writer = Writer::new(out);
    write_rendered_members(rendered, &mut writer);
    writer.finish();
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
    let mut writer = Writer::new(out);
    let wrote = if old.template() != new.template() {
        write_rendered_members(new, &mut writer);
        true
    } else {
        diff_slots(old.dynamics(), new.dynamics(), &mut writer)
    };
    writer.finish();
    wrote
}

/// Writes a live component's full tree, for the diff's `"c"` map: with its statics and the root
/// flag `"r": 1` the client needs to find the component in the DOM. A component has no template
/// scope of the view's `"p"` table, so statics are written inline.
pub fn write_component_full(rendered: &Rendered, out: &mut Vec<u8>) {
    out.push(b'{');
    let mut writer = Writer::new(out);
    write_rendered_members(rendered, &mut writer);
    // No `finish`: no shared templates inside components.
    out.extend_from_slice(b",\"r\":1}");
}

/// Writes the diff of a live component from `old` to `new` as a JSON object (in full when its
/// template changed); returns whether anything changed (nothing is written otherwise).
pub fn write_component_diff(old: &Rendered, new: &Rendered, out: &mut Vec<u8>) -> bool {
    if old.template() != new.template() {
        write_component_full(new, out);
        return true;
    }
    let mark = out.len();
    out.push(b'{');
    let mut writer = Writer::new(out);
    if diff_slots(old.dynamics(), new.dynamics(), &mut writer) {
        out.push(b'}');
        true
    } else {
        out.truncate(mark);
        false
    }
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

/// The output buffer of one payload, plus where it wrote statics (to share them afterwards).
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    /// Where this payload starts in `out`.
    base: usize,
    statics: Vec<StaticsAt>,
}

/// An inline statics array written at `out[start..end]`.
struct StaticsAt {
    start: usize,
    end: usize,
    template: &'static Template,
}

impl<'a> Writer<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        let base = out.len();
        Writer {
            out,
            base,
            statics: Vec::new(),
        }
    }

    fn push(&mut self, byte: u8) {
        self.out.push(byte);
    }

    fn extend(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    fn mark(&self) -> usize {
        self.out.len()
    }

    /// Rolls back to `mark`, forgetting the statics written since.
    fn truncate(&mut self, mark: usize) {
        self.out.truncate(mark);
        while self.statics.last().is_some_and(|at| at.start >= mark) {
            self.statics.pop();
        }
    }

    /// Writes `"s":[...]`.
    fn statics(&mut self, template: &'static Template) {
        self.extend(b"\"s\":");
        let start = self.mark();
        self.push(b'[');
        for (index, text) in template.statics().iter().enumerate() {
            if index > 0 {
                self.push(b',');
            }
            write_json_str(text, self.out);
        }
        self.push(b']');
        let end = self.mark();
        self.statics.push(StaticsAt {
            start,
            end,
            template,
        });
    }

    /// Replaces the statics that appear more than once by references into a top-level `"p"`
    /// table, where that is shorter.
    fn finish(self) {
        if self.statics.len() < 2 {
            return;
        }
        // Group the arrays by template (fingerprint, then statics), in order of appearance.
        // (template, count, bytes, first array)
        let mut groups: Vec<(&'static Template, usize, usize, usize)> = Vec::new();
        let mut by_fingerprint: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut group_of = Vec::with_capacity(self.statics.len());
        for (position, at) in self.statics.iter().enumerate() {
            let candidates = by_fingerprint.entry(at.template.fingerprint()).or_default();
            let found = candidates
                .iter()
                .copied()
                .find(|&group| *groups[group].0 == *at.template);
            let group = match found {
                Some(group) => group,
                None => {
                    groups.push((at.template, 0, at.end - at.start, position));
                    candidates.push(groups.len() - 1);
                    groups.len() - 1
                }
            };
            groups[group].1 += 1;
            group_of.push(group);
        }
        // Share a template when the references plus its table entry are shorter.
        let mut table: Vec<Option<usize>> = vec![None; groups.len()];
        let mut shared = 0;
        for (group, &(_, count, bytes, _)) in groups.iter().enumerate() {
            if count < 2 {
                continue;
            }
            let digits = decimal_digits(shared);
            let inline = count * bytes;
            let referenced = count * digits + digits + 4 + bytes;
            if referenced < inline {
                table[group] = Some(shared);
                shared += 1;
            }
        }
        if shared == 0 {
            return;
        }
        let tail = self.out.split_off(self.base);
        self.out.reserve(tail.len());
        let mut copied = 0;
        let mut buf = itoa::Buffer::new();
        for (at, &group) in self.statics.iter().zip(&group_of) {
            if let Some(index) = table[group] {
                let (start, end) = (at.start - self.base, at.end - self.base);
                self.out.extend_from_slice(&tail[copied..start]);
                self.out.extend_from_slice(buf.format(index).as_bytes());
                copied = end;
            }
        }
        self.out.extend_from_slice(&tail[copied..]);
        self.out.extend_from_slice(b",\"p\":{");
        let mut first = true;
        for (group, index) in table.iter().enumerate() {
            let Some(index) = index else { continue };
            if !first {
                self.out.push(b',');
            }
            first = false;
            write_key(*index, self.out);
            let at = &self.statics[groups[group].3];
            self.out
                .extend_from_slice(&tail[at.start - self.base..at.end - self.base]);
        }
        self.out.push(b'}');
    }
}

fn decimal_digits(mut value: usize) -> usize {
    let mut digits = 1;
    while value >= 10 {
        value /= 10;
        digits += 1;
    }
    digits
}

fn write_key(index: usize, out: &mut Vec<u8>) {
    let mut buf = itoa::Buffer::new();
    out.push(b'"');
    out.extend_from_slice(buf.format(index).as_bytes());
    out.extend_from_slice(b"\":");
}

fn write_rendered_members(rendered: &Rendered, w: &mut Writer<'_>) {
    write_slots_full(rendered.dynamics(), w);
    if !rendered.dynamics().is_empty() {
        w.push(b',');
    }
    w.statics(rendered.template());
}

fn write_slots_full(dynamics: &[Dynamic], w: &mut Writer<'_>) {
    for (index, dynamic) in dynamics.iter().enumerate() {
        if index > 0 {
            w.push(b',');
        }
        write_key(index, w.out);
        write_dynamic_full(dynamic, w);
    }
}

fn write_dynamic_full(dynamic: &Dynamic, w: &mut Writer<'_>) {
    match dynamic {
        Dynamic::Text(text) => write_json_str(text, w.out),
        Dynamic::Nested(rendered) => {
            w.push(b'{');
            write_rendered_members(rendered, w);
            w.push(b'}');
        }
        Dynamic::List(list) => write_list_full(list, w),
        Dynamic::Component(cid) => {
            let mut buf = itoa::Buffer::new();
            w.extend(buf.format(*cid).as_bytes());
        }
    }
}

fn write_list_full(list: &Comprehension, w: &mut Writer<'_>) {
    w.push(b'{');
    w.statics(list.template());
    w.extend(b",\"k\":{");
    for index in 0..list.len() {
        write_key(index, w.out);
        write_row_full(list.row(index), w);
        w.push(b',');
    }
    write_count(list.len(), false, w.out);
    w.push(b'}');
    if let Some(ops) = list.stream_ops() {
        write_stream_ops(ops, w.out);
    }
    w.push(b'}');
}

/// Writes `,"stream":[ref, [[dom_id, at, limit, update_only], ...], [deletes], reset?]`.
fn write_stream_ops(ops: &StreamOps, out: &mut Vec<u8>) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(b",\"stream\":[");
    write_json_str(&ops.reference, out);
    out.extend_from_slice(b",[");
    for (index, (dom_id, at, limit, update_only)) in ops.inserts.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.push(b'[');
        write_json_str(dom_id, out);
        out.push(b',');
        out.extend_from_slice(buf.format(*at).as_bytes());
        out.push(b',');
        match limit {
            Some(limit) => out.extend_from_slice(buf.format(*limit).as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(if *update_only { b",true]" } else { b",false]" });
    }
    out.extend_from_slice(b"],[");
    for (index, dom_id) in ops.deletes.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_json_str(dom_id, out);
    }
    out.push(b']');
    if ops.reset {
        out.extend_from_slice(b",true");
    }
    out.push(b']');
}

fn write_row_full(row: &[Dynamic], w: &mut Writer<'_>) {
    w.push(b'{');
    write_slots_full(row, w);
    w.push(b'}');
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
fn diff_slots(old: &[Dynamic], new: &[Dynamic], w: &mut Writer<'_>) -> bool {
    let mut wrote = false;
    for (index, (old, new)) in old.iter().zip(new).enumerate() {
        if let (Dynamic::Text(old), Dynamic::Text(new)) = (old, new) {
            // The common case, without speculative writes.
            if old != new {
                if wrote {
                    w.push(b',');
                }
                write_key(index, w.out);
                write_json_str(new, w.out);
                wrote = true;
            }
            continue;
        }
        let mark = w.mark();
        if wrote {
            w.push(b',');
        }
        write_key(index, w.out);
        if diff_dynamic(old, new, w) {
            wrote = true;
        } else {
            w.truncate(mark);
        }
    }
    wrote
}

/// Writes the value that turns `old` into `new` if they differ; returns whether it wrote.
fn diff_dynamic(old: &Dynamic, new: &Dynamic, w: &mut Writer<'_>) -> bool {
    match (old, new) {
        (Dynamic::Text(old), Dynamic::Text(new)) => {
            if old == new {
                return false;
            }
            write_json_str(new, w.out);
            true
        }
        (Dynamic::Nested(old), Dynamic::Nested(new)) if old.template() == new.template() => {
            diff_object(w, |w| diff_slots(old.dynamics(), new.dynamics(), w))
        }
        (Dynamic::List(old), Dynamic::List(new)) if old.template() == new.template() => {
            diff_list(old, new, w)
        }
        // The component's own changes travel in `"c"`; the slot only changes with the cid.
        (Dynamic::Component(old), Dynamic::Component(new)) if old == new => false,
        (_, new) => {
            write_dynamic_full(new, w);
            true
        }
    }
}

/// Writes `{members}` if `members` writes anything, else nothing; returns whether it wrote.
fn diff_object(w: &mut Writer<'_>, members: impl FnOnce(&mut Writer<'_>) -> bool) -> bool {
    let mark = w.mark();
    w.push(b'{');
    if members(w) {
        w.push(b'}');
        true
    } else {
        w.truncate(mark);
        false
    }
}

fn diff_list(old: &Comprehension, new: &Comprehension, w: &mut Writer<'_>) -> bool {
    if let Some(ops) = new.stream_ops() {
        // The client keeps no stream items in its tree (it resets them to none after each
        // render): a render with operations sends them all, one without sends nothing.
        if ops.is_empty() && new.is_empty() {
            return false;
        }
        write_list_full(new, w);
        return true;
    }
    let mark = w.mark();
    w.extend(b"{\"k\":{");
    let mut entries = Entries { w, wrote: false };
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
        w.truncate(mark);
        return false;
    }
    if wrote {
        w.push(b',');
    }
    write_count(new.len(), moved, w.out);
    w.extend(b"}}");
    true
}

struct Entries<'w, 'a> {
    w: &'w mut Writer<'a>,
    wrote: bool,
}

impl Entries<'_, '_> {
    /// Starts entry `index`; returns the mark to roll back to.
    fn begin(&mut self, index: usize) -> usize {
        let mark = self.w.mark();
        if self.wrote {
            self.w.push(b',');
        }
        write_key(index, self.w.out);
        mark
    }

    fn row_diff(&mut self, index: usize, old: &[Dynamic], new: &[Dynamic]) {
        let mark = self.begin(index);
        if diff_object(self.w, |w| diff_slots(old, new, w)) {
            self.wrote = true;
        } else {
            self.w.truncate(mark);
        }
    }

    fn row_full(&mut self, index: usize, row: &[Dynamic]) {
        self.begin(index);
        write_row_full(row, self.w);
        self.wrote = true;
    }

    /// Moves old entry `from` to `index`, merging the diff from `old` to `new` unless `new` is
    /// `None` (known unchanged).
    fn row_moved(&mut self, index: usize, from: usize, rows: Option<(&[Dynamic], &[Dynamic])>) {
        self.begin(index);
        let mut buf = itoa::Buffer::new();
        let from = buf.format(from).as_bytes();
        let open = self.w.mark();
        self.w.push(b'[');
        self.w.extend(from);
        self.w.push(b',');
        let changed = match rows {
            Some((old, new)) => diff_object(self.w, |w| diff_slots(old, new, w)),
            None => false,
        };
        if changed {
            self.w.push(b']');
        } else {
            // Unchanged: a bare index moves the entry as it is.
            self.w.truncate(open);
            self.w.extend(from);
        }
        self.wrote = true;
    }
}

fn diff_by_index(old: &Comprehension, new: &Comprehension, entries: &mut Entries<'_, '_>) {
    for index in 0..new.len() {
        if index < old.len() {
            if !new.unchanged_since(index, old, index) {
                entries.row_diff(index, old.row(index), new.row(index));
            }
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
    entries: &mut Entries<'_, '_>,
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
                let unchanged = new.unchanged_since(index, old, from);
                if from == index {
                    if !unchanged {
                        entries.row_diff(index, old.row(from), new.row(index));
                    }
                } else {
                    let rows = (!unchanged).then(|| (old.row(from), new.row(index)));
                    entries.row_moved(index, from, rows);
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
    fn components_are_numbers_and_unchanged_cids_are_omitted() {
        static SLOT: Template = Template::new(&["<div>", "</div>"], 9);
        let one = Rendered::new(&SLOT, vec![Dynamic::Component(1)]);
        let two = Rendered::new(&SLOT, vec![Dynamic::Component(2)]);
        assert_eq!(full_to_string(&one), r#"{"0":1,"s":["<div>","</div>"]}"#);
        assert_eq!(diff_to_string(&one, &one.clone()), "{}");
        assert_eq!(diff_to_string(&one, &two), r#"{"0":2}"#);
        let mut out = Vec::new();
        write_component_full(&Rendered::new(&COUNT, vec![3.into_dynamic()]), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"0":"3","s":["<p>","</p>"],"r":1}"#
        );
        let mut out = Vec::new();
        let (a, b) = (
            Rendered::new(&COUNT, vec![3.into_dynamic()]),
            Rendered::new(&COUNT, vec![4.into_dynamic()]),
        );
        assert!(!write_component_diff(&a, &a.clone(), &mut out));
        assert!(out.is_empty());
        assert!(write_component_diff(&a, &b, &mut out));
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"0":"4"}"#);
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = Vec::new();
        write_json_str("a\"b\\c\nd\u{1}", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\nd\u0001""#);
    }
}
