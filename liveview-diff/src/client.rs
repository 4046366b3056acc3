//! The client's side of the diff protocol: [`ClientTree`] holds a view's rendered tree as the
//! Phoenix LiveView 1.2 JavaScript client holds it, merges the server's diffs into it with the
//! client's rules, and renders the HTML the browser would show.
//!
//! It is what a test toolkit (or a headless client) needs to follow a view without a browser:
//! nested nodes, template sharing (`"p"`), keyed comprehensions with moves (`"k"`, `"km"`),
//! components (`"c"`, including statics shared with another component by cid), and streams,
//! whose items — like in the browser's DOM — outlive the diff that inserted them
//! (`phx-update="stream"`: inserts at a position, updates in place, deletes, resets, limits).
//! It is checked against the real client (node + jsdom) on the diff property test's cases.
//!
//! ```
//! use liveview_diff::client::ClientTree;
//! use serde_json::json;
//!
//! let (mut tree, _) = ClientTree::join(json!({"0": "0", "s": ["<p>Count: ", "</p>"], "t": "Counter"})).unwrap();
//! assert_eq!(tree.html(), "<p>Count: 0</p>");
//! let applied = tree.apply(json!({"0": "1", "e": [["bumped", {"by": 1}]]})).unwrap();
//! assert_eq!(tree.html(), "<p>Count: 1</p>");
//! assert_eq!(applied.events[0].0, "bumped");
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::{Map, Value};

/// Keys of the wire format (the client's `constants.js`).
const STATIC: &str = "s";
const KEYED: &str = "k";
const KEYED_COUNT: &str = "kc";
const KEYED_MOVED: &str = "km";
const TEMPLATES: &str = "p";
const STREAM: &str = "stream";
const COMPONENTS: &str = "c";
const REPLY: &str = "r";
const EVENTS: &str = "e";
const TITLE: &str = "t";
/// Where this tree remembers which stream a comprehension renders after the client has
/// dropped the comprehension's `"stream"` member (never sent on the wire).
const STREAM_REF: &str = "\u{0}stream_ref";

/// A diff the client cannot merge or render (the browser would throw or print `undefined`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError(String);

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MergeError {}

fn error<T>(message: impl Into<String>) -> Result<T, MergeError> {
    Err(MergeError(message.into()))
}

/// What a join render or a diff carried besides the tree: the client extracts these before
/// merging.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// The new page title (`"t"`), when the diff set one.
    pub title: Option<String>,
    /// Pushed events (`"e"`) in order: name and payload.
    pub events: Vec<(String, Value)>,
    /// The hook reply (`"r"` of an event reply's diff).
    pub reply: Option<Value>,
}

/// One item of a stream as the DOM holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StreamItem {
    dom_id: String,
    html: String,
}

/// A view's rendered tree as the 1.2 client holds it; see the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct ClientTree {
    rendered: Map<String, Value>,
    components: Map<String, Value>,
    streams: HashMap<String, Vec<StreamItem>>,
    html: String,
    rendered_cids: HashSet<u64>,
}

/// Options of one render pass.
struct Pass<'a> {
    components: &'a mut Map<String, Value>,
    streams: &'a mut HashMap<String, Vec<StreamItem>>,
    rendered_cids: &'a mut HashSet<u64>,
    /// Add `data-phx-component` to component roots (as the client does), or not (plain).
    annotate: bool,
}

impl ClientTree {
    /// Builds the tree from a join reply's `rendered` (which must carry root statics), and
    /// renders it. Top-level `"t"` and `"e"` are returned; a top-level `"r"` is discarded, as
    /// the client does.
    pub fn join(rendered: Value) -> Result<(Self, Applied), MergeError> {
        let mut tree = Self::default();
        let Value::Object(map) = &rendered else {
            return error("the join's rendered is not an object");
        };
        if !map.contains_key(STATIC) {
            return error("the join's rendered has no root statics \"s\"");
        }
        let mut applied = tree.apply(rendered)?;
        applied.reply = None;
        Ok((tree, applied))
    }

    /// Merges one diff (a `diff` push or an event reply's `diff`) and re-renders.
    pub fn apply(&mut self, diff: Value) -> Result<Applied, MergeError> {
        let Value::Object(mut diff) = diff else {
            return error("a diff is not an object");
        };
        let applied = Applied {
            title: match diff.remove(TITLE) {
                Some(Value::String(title)) => Some(title),
                _ => None,
            },
            events: events(diff.remove(EVENTS))?,
            reply: diff.remove(REPLY),
        };
        let new_components = match diff.remove(COMPONENTS) {
            Some(Value::Object(c)) => Some(c),
            Some(_) => return error("\"c\" is not an object"),
            None => None,
        };
        if diff.contains_key(STATIC) {
            // New root statics replace the whole tree and empty the component table.
            self.rendered = diff;
            self.components.clear();
        } else {
            merge_into(&mut self.rendered, diff)?;
        }
        if let Some(new_components) = new_components {
            self.merge_components(new_components)?;
        }
        self.render()?;
        Ok(applied)
    }

    /// The HTML the client holds for the view's content (the inside of its container), with
    /// `data-phx-component` on each component's root element, and stream items accumulated as
    /// in the DOM.
    pub fn html(&self) -> &str {
        &self.html
    }

    /// The HTML without the attributes the client adds (`data-phx-component`): comparable with
    /// the server's own full render of the same state (streams aside: this has every item the
    /// DOM would keep).
    pub fn plain_html(&mut self) -> Result<String, MergeError> {
        self.render_pass(false)
    }

    /// The cids the client holds in its component table.
    pub fn component_cids(&self) -> Vec<u64> {
        let mut cids: Vec<u64> = self
            .components
            .keys()
            .filter_map(|cid| cid.parse().ok())
            .collect();
        cids.sort_unstable();
        cids
    }

    /// The components in the table that the last render did not reach: their elements left
    /// the page, so the client asks the server to destroy them (`cids_will_destroy`).
    pub fn orphaned_cids(&self) -> Vec<u64> {
        let mut cids: Vec<u64> = self
            .component_cids()
            .into_iter()
            .filter(|cid| !self.rendered_cids.contains(cid))
            .collect();
        cids.sort_unstable();
        cids
    }

    /// Forgets components the server confirmed destroyed (`cids_destroyed` reply).
    pub fn prune_cids(&mut self, cids: &[u64]) {
        for cid in cids {
            self.components.remove(&cid.to_string());
        }
    }

    fn render(&mut self) -> Result<(), MergeError> {
        self.html = self.render_pass(true)?;
        Ok(())
    }

    fn render_pass(&mut self, annotate: bool) -> Result<String, MergeError> {
        let mut out = String::new();
        self.rendered_cids.clear();
        let mut pass = Pass {
            components: &mut self.components,
            streams: &mut self.streams,
            rendered_cids: &mut self.rendered_cids,
            annotate,
        };
        to_output(&mut self.rendered, None, &mut pass, &mut out)?;
        Ok(out)
    }

    fn merge_components(&mut self, new: Map<String, Value>) -> Result<(), MergeError> {
        let mut resolved: Map<String, Value> = Map::new();
        let cids: Vec<String> = new.keys().cloned().collect();
        for cid in &cids {
            find_component(cid, &new, &self.components, &mut resolved, 0)?;
        }
        for (cid, node) in resolved {
            self.components.insert(cid, node);
        }
        Ok(())
    }
}

fn events(value: Option<Value>) -> Result<Vec<(String, Value)>, MergeError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Value::Array(list) = value else {
        return error("\"e\" is not a list");
    };
    list.into_iter()
        .map(|event| match event {
            Value::Array(mut parts) if parts.len() >= 2 => {
                let payload = parts.swap_remove(1);
                match &parts[0] {
                    Value::String(name) => Ok((name.clone(), payload)),
                    _ => error("an event's name is not a string"),
                }
            }
            _ => error("an event is not [name, payload]"),
        })
        .collect()
}

/// The client's `doMutableMerge`: objects without statics merge key by key; anything else
/// replaces.
fn merge_into(
    target: &mut Map<String, Value>,
    source: Map<String, Value>,
) -> Result<(), MergeError> {
    if source.contains_key(KEYED) {
        return merge_keyed(target, source);
    }
    for (key, value) in source {
        match (target.get_mut(&key), value) {
            (Some(Value::Object(target_child)), Value::Object(child))
                if !child.contains_key(STATIC) =>
            {
                merge_into(target_child, child)?;
            }
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
    Ok(())
}

/// The client's `mergeKeyed`: per entry index a diff in place, a move from an old index, or a
/// move with a diff; moves read the entries as they were before this diff.
fn merge_keyed(
    target: &mut Map<String, Value>,
    mut source: Map<String, Value>,
) -> Result<(), MergeError> {
    let Some(Value::Object(entries)) = source.remove(KEYED) else {
        return error("\"k\" is not an object");
    };
    let moved = entries
        .get(KEYED_MOVED)
        .is_some_and(|m| m.as_bool() == Some(true));
    let Some(Value::Object(target_entries)) = target.get_mut(KEYED) else {
        return error("a keyed diff for a node that is not a comprehension");
    };
    let before = moved.then(|| target_entries.clone());
    let take_old = |index: &Value| -> Result<Value, MergeError> {
        let Some(before) = &before else {
            return error("a comprehension move without \"km\": true");
        };
        let key = index.as_u64().map(|i| i.to_string()).unwrap_or_default();
        match before.get(&key) {
            Some(entry) => Ok(entry.clone()),
            None => error(format!("a comprehension move from missing entry {index}")),
        }
    };
    let mut count = None;
    for (index, entry) in entries {
        if index == KEYED_COUNT {
            count = entry.as_u64();
            continue;
        }
        if index == KEYED_MOVED {
            continue;
        }
        match entry {
            Value::Array(pair) => {
                let [old, diff] = <[Value; 2]>::try_from(pair)
                    .map_err(|_| MergeError("a comprehension move is not [old, diff]".into()))?;
                let mut moved_entry = take_old(&old)?;
                let (Value::Object(moved_map), Value::Object(diff)) = (&mut moved_entry, diff)
                else {
                    return error("a comprehension entry is not an object");
                };
                merge_into(moved_map, diff)?;
                target_entries.insert(index, moved_entry);
            }
            Value::Number(_) => {
                let moved_entry = take_old(&entry)?;
                target_entries.insert(index, moved_entry);
            }
            Value::Object(diff) => {
                let slot = target_entries
                    .entry(index)
                    .or_insert_with(|| Value::Object(Map::new()));
                let Value::Object(slot) = slot else {
                    return error("a comprehension entry is not an object");
                };
                merge_into(slot, diff)?;
            }
            _ => return error("a comprehension entry is neither a diff nor a move"),
        }
    }
    let Some(count) = count else {
        return error("a comprehension diff without \"kc\"");
    };
    let old_count = target_entries
        .get(KEYED_COUNT)
        .and_then(Value::as_u64)
        .unwrap_or(0);
    for index in count..old_count {
        target_entries.remove(&index.to_string());
    }
    target_entries.insert(KEYED_COUNT.into(), Value::from(count));
    if let Some(stream) = source.remove(STREAM) {
        target.insert(STREAM.into(), stream);
    }
    if let Some(templates) = source.remove(TEMPLATES) {
        target.insert(TEMPLATES.into(), templates);
    }
    Ok(())
}

/// The client's `cloneMerge`: a merged copy of a component's tree.
fn clone_merge(target: &Value, source: &Map<String, Value>) -> Result<Value, MergeError> {
    let Value::Object(target_map) = target else {
        return Ok(Value::Object(source.clone()));
    };
    if source.contains_key(KEYED) {
        let mut merged = target_map.clone();
        merge_keyed(&mut merged, source.clone())?;
        return Ok(Value::Object(merged));
    }
    let mut merged = target_map.clone();
    for (key, value) in source {
        match (target_map.get(key), value) {
            (Some(old @ Value::Object(_)), Value::Object(child)) if !child.contains_key(STATIC) => {
                merged.insert(key.clone(), clone_merge(old, child)?);
            }
            _ => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(Value::Object(merged))
}

/// The client's `cachedFindComponent`: a component's new tree from its diff, the component it
/// shares statics with (`"s": cid` in this diff, `"s": -cid` held before), or its old tree.
fn find_component(
    cid: &str,
    new: &Map<String, Value>,
    old: &Map<String, Value>,
    resolved: &mut Map<String, Value>,
    depth: usize,
) -> Result<Value, MergeError> {
    if let Some(done) = resolved.get(cid) {
        return Ok(done.clone());
    }
    if depth > new.len() {
        return error(format!("component {cid} shares statics in a cycle"));
    }
    let Some(Value::Object(diff)) = new.get(cid) else {
        return error(format!("component {cid} is missing from \"c\""));
    };
    let node = match diff.get(STATIC) {
        Some(Value::Number(shared)) => {
            let shared = shared
                .as_i64()
                .ok_or_else(|| MergeError(format!("component {cid}: bad shared statics")))?;
            let base = if shared > 0 {
                find_component(&shared.to_string(), new, old, resolved, depth + 1)?
            } else {
                match old.get(&(-shared).to_string()) {
                    Some(base) => base.clone(),
                    None => {
                        return error(format!(
                            "component {cid} shares the statics of component {} the client does not hold",
                            -shared
                        ))
                    }
                }
            };
            let statics = base.get(STATIC).cloned();
            let mut diff = diff.clone();
            diff.remove(STATIC);
            let mut merged = clone_merge(&base, &diff)?;
            if let (Value::Object(map), Some(statics)) = (&mut merged, statics) {
                map.insert(STATIC.into(), statics);
            }
            merged
        }
        Some(_) => Value::Object(diff.clone()),
        None => match old.get(cid) {
            Some(previous) => clone_merge(previous, diff)?,
            None => Value::Object(diff.clone()),
        },
    };
    resolved.insert(cid.to_owned(), node.clone());
    Ok(node)
}

/// Resolves a node's statics: an array, or an index into the templates in scope.
fn resolve_statics(
    node: &mut Map<String, Value>,
    templates: Option<&Value>,
) -> Result<Vec<String>, MergeError> {
    let statics = match node.get(STATIC) {
        Some(Value::Number(index)) => {
            let key = index.to_string();
            match templates.and_then(|t| t.get(&key)) {
                Some(found) => found.clone(),
                None => return error(format!("template {index} is not in scope")),
            }
        }
        Some(value @ Value::Array(_)) => value.clone(),
        Some(_) => return error("statics are neither a list nor a template index"),
        None => return error("a node without statics"),
    };
    let Value::Array(list) = &statics else {
        return error(format!("template statics are not a list: {statics}"));
    };
    let strings = list
        .iter()
        .map(|s| match s {
            Value::String(s) => Ok(s.clone()),
            _ => error("a static is not a string"),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if strings.is_empty() {
        return error("empty statics");
    }
    node.insert(STATIC.into(), statics);
    Ok(strings)
}

/// The client's `toOutputBuffer`.
fn to_output(
    node: &mut Map<String, Value>,
    templates: Option<&Value>,
    pass: &mut Pass<'_>,
    out: &mut String,
) -> Result<(), MergeError> {
    if node.contains_key(KEYED) {
        return comprehension(node, templates, pass, out);
    }
    let own = node.remove(TEMPLATES);
    let templates = own.as_ref().or(templates);
    let statics = resolve_statics(node, templates)?;
    dynamics(node, &statics, templates, pass, out)
}

fn dynamics(
    node: &mut Map<String, Value>,
    statics: &[String],
    templates: Option<&Value>,
    pass: &mut Pass<'_>,
    out: &mut String,
) -> Result<(), MergeError> {
    let last = statics.len() - 1;
    for (index, text) in statics[..last].iter().enumerate() {
        out.push_str(text);
        match node.get_mut(&index.to_string()) {
            Some(Value::String(text)) => out.push_str(text),
            Some(Value::Number(cid)) => {
                let cid = cid
                    .as_u64()
                    .ok_or_else(|| MergeError(format!("bad cid {cid}")))?;
                component(cid, pass, out)?;
            }
            Some(Value::Object(child)) => to_output(child, templates, pass, out)?,
            Some(other) => return error(format!("dynamic {index} is {other}, not text or a node")),
            None => {
                return error(format!(
                    "dynamic {index} is missing (the client would print undefined)"
                ))
            }
        }
    }
    out.push_str(&statics[last]);
    Ok(())
}

fn component(cid: u64, pass: &mut Pass<'_>, out: &mut String) -> Result<(), MergeError> {
    let key = cid.to_string();
    // Taken out while it renders, so its own components can be reached (and a cycle is an error).
    let Some(Value::Object(mut node)) = pass.components.remove(&key) else {
        return error(format!("no component for cid {cid}"));
    };
    pass.rendered_cids.insert(cid);
    let start = out.len();
    let result = to_output(&mut node, None, pass, out);
    pass.components.insert(key, Value::Object(node));
    result?;
    if pass.annotate {
        annotate_root(out, start, cid)?;
    }
    Ok(())
}

/// Adds `data-phx-component="cid"` to the first element written at or after `start`.
fn annotate_root(out: &mut String, start: usize, cid: u64) -> Result<(), MergeError> {
    let html = &out[start..];
    let mut offset = 0;
    loop {
        let rest = &html[offset..];
        let trimmed = rest.trim_start();
        offset += rest.len() - trimmed.len();
        if trimmed.starts_with("<!--") {
            match trimmed.find("-->") {
                Some(end) => offset += end + 3,
                None => return error(format!("component {cid}: unterminated comment")),
            }
            continue;
        }
        break;
    }
    let rest = &html[offset..];
    if !rest.starts_with('<') {
        return error(format!("component {cid} does not render one root element"));
    }
    let name_len = rest[1..]
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .ok_or_else(|| MergeError(format!("component {cid}: malformed root tag")))?;
    let at = start + offset + 1 + name_len;
    out.insert_str(at, &format!(" data-phx-component=\"{cid}\""));
    Ok(())
}

/// The client's `comprehensionToBuffer`, with stream items kept as the DOM keeps them.
fn comprehension(
    node: &mut Map<String, Value>,
    templates: Option<&Value>,
    pass: &mut Pass<'_>,
    out: &mut String,
) -> Result<(), MergeError> {
    let own = node.remove(TEMPLATES);
    let entry_templates = templates.or(own.as_ref());
    let statics = resolve_statics(node, templates)?;
    let count = node
        .get(KEYED)
        .and_then(|k| k.get(KEYED_COUNT))
        .and_then(Value::as_u64)
        .ok_or_else(|| MergeError("a comprehension without \"kc\"".into()))?;
    let stream = node.remove(STREAM);
    let stream_ref = match &stream {
        Some(Value::Array(parts)) => parts.first().and_then(Value::as_str).map(str::to_owned),
        Some(_) => return error("\"stream\" is not a list"),
        None => node
            .get(STREAM_REF)
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    let mut rows = Vec::with_capacity(count as usize);
    {
        let Some(Value::Object(entries)) = node.get_mut(KEYED) else {
            return error("\"k\" is not an object");
        };
        for index in 0..count {
            let Some(Value::Object(entry)) = entries.get_mut(&index.to_string()) else {
                return error(format!("comprehension entry {index} is missing"));
            };
            let mut row = String::new();
            dynamics(entry, &statics, entry_templates, pass, &mut row)?;
            rows.push(row);
        }
    }
    let Some(stream_ref) = stream_ref else {
        for row in rows {
            out.push_str(&row);
        }
        return Ok(());
    };
    let items = pass.streams.entry(stream_ref.clone()).or_default();
    if let Some(Value::Array(parts)) = stream {
        apply_stream(items, &parts, rows)?;
    }
    // The client keeps no stream items in its tree; the DOM keeps them.
    let mut empty = Map::new();
    empty.insert(KEYED_COUNT.into(), Value::from(0));
    node.insert(KEYED.into(), Value::Object(empty));
    node.insert(STREAM_REF.into(), Value::String(stream_ref));
    for item in items.iter() {
        out.push_str(&item.html);
    }
    Ok(())
}

/// Applies one stream tuple `[ref, inserts, deletes, reset?]` and the rows rendered with it.
fn apply_stream(
    items: &mut Vec<StreamItem>,
    parts: &[Value],
    rows: Vec<String>,
) -> Result<(), MergeError> {
    let inserts = parts
        .get(1)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let deletes = parts
        .get(2)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if parts.get(3).and_then(Value::as_bool) == Some(true) {
        items.clear();
    }
    for id in deletes.iter().filter_map(Value::as_str) {
        items.retain(|item| item.dom_id != id);
    }
    for html in rows {
        let Some(dom_id) = root_id(&html) else {
            return error(format!("a stream item has no id attribute: {html}"));
        };
        let insert = inserts
            .iter()
            .filter_map(Value::as_array)
            .find(|insert| insert.first().and_then(Value::as_str) == Some(dom_id.as_str()));
        let at = insert
            .and_then(|i| i.get(1))
            .and_then(Value::as_i64)
            .unwrap_or(-1);
        let limit = insert.and_then(|i| i.get(2)).and_then(Value::as_i64);
        let update_only = insert.and_then(|i| i.get(3)).and_then(Value::as_bool) == Some(true);
        if let Some(existing) = items.iter_mut().find(|item| item.dom_id == dom_id) {
            existing.html = html;
        } else if !update_only {
            let item = StreamItem { dom_id, html };
            match usize::try_from(at) {
                Ok(at) if at < items.len() => items.insert(at, item),
                _ => items.push(item),
            }
        }
        match limit {
            Some(limit) if limit >= 0 => items.truncate(limit as usize),
            Some(limit) => {
                let keep = limit.unsigned_abs() as usize;
                if items.len() > keep {
                    items.drain(..items.len() - keep);
                }
            }
            None => {}
        }
    }
    Ok(())
}

/// The `id` attribute of the first element of `html`.
fn root_id(html: &str) -> Option<String> {
    let start = html.find('<')?;
    let end = start + html[start..].find('>')?;
    let tag = &html[start..end];
    let at = tag.find(" id=")? + 4;
    let rest = &tag[at..];
    let quote = rest.chars().next()?;
    if quote == '"' || quote == '\'' {
        let value = &rest[1..];
        Some(value[..value.find(quote)?].to_owned())
    } else {
        Some(rest.split(|c: char| c.is_whitespace()).next()?.to_owned())
    }
}
