//! Nested list fields: adding, removing and reordering rows through the params, as Ecto's
//! `cast_assoc(sort_param:, drop_param:)` does for Phoenix 1.2's `inputs_for`.
//!
//! A list field `items` may come with `items_sort[]` (the row indexes in their new order;
//! `new` appends an empty row) and `items_drop[]` (indexes to remove). The inputs that send
//! them are [`sort_input`](super::sort_input), [`add_row_button`](super::add_row_button) and
//! [`drop_row_button`](super::drop_row_button).

use serde_json::{Map, Value};

/// Applies every `<field>_sort` / `<field>_drop` of `map` (and of nested groups) to its list
/// field, re-indexing the rows `0..n`, and removes the sort and drop keys.
///
/// ```
/// use serde_json::json;
///
/// let mut params = json!({
///     "items": {"0": {"name": "a"}, "1": {"name": "b"}, "2": {"name": "c"}},
///     "items_sort": ["2", "0", "1", "new"],
///     "items_drop": ["0", ""],
/// });
/// liveview_core::form::apply_sort_drop(params.as_object_mut().unwrap());
/// assert_eq!(params, json!({"items": {"0": {"name": "c"}, "1": {"name": "b"}, "2": {}}}));
/// ```
pub fn apply_sort_drop(map: &mut Map<String, Value>) {
    let fields: Vec<String> = map
        .keys()
        .filter_map(|key| {
            key.strip_suffix("_sort")
                .or_else(|| key.strip_suffix("_drop"))
                .map(str::to_owned)
        })
        .collect();
    for field in fields {
        let sort = map.remove(&format!("{field}_sort"));
        let drop = map.remove(&format!("{field}_drop"));
        let mut rows: Vec<(String, Value)> = match map.remove(&field) {
            Some(Value::Object(rows)) => rows.into_iter().collect(),
            Some(Value::Array(rows)) => rows
                .into_iter()
                .enumerate()
                .map(|(i, row)| (i.to_string(), row))
                .collect(),
            _ => Vec::new(),
        };
        rows.sort_by_key(|(key, _)| key.parse::<u64>().unwrap_or(u64::MAX));
        let dropped: Vec<String> = strings(drop.as_ref());
        let order: Vec<String> = match &sort {
            Some(_) => strings(sort.as_ref()),
            None => rows.iter().map(|(key, _)| key.clone()).collect(),
        };
        let mut result = Map::new();
        for key in order {
            if key.is_empty() || dropped.contains(&key) {
                continue;
            }
            let row = if key == "new" {
                Some(Value::Object(Map::new()))
            } else {
                rows.iter()
                    .position(|(k, _)| *k == key)
                    .map(|at| rows.remove(at).1)
            };
            if let Some(row) = row {
                result.insert(result.len().to_string(), row);
            }
        }
        // Rows not named in the sort keep their order after the sorted ones.
        for (key, row) in rows {
            if dropped.contains(&key) {
                continue;
            }
            result.insert(result.len().to_string(), row);
        }
        map.insert(field, Value::Object(result));
    }
    for value in map.values_mut() {
        if let Value::Object(inner) = value {
            for row in inner.values_mut() {
                if let Value::Object(row) = row {
                    apply_sort_drop(row);
                }
            }
        }
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(text)) => vec![text.clone()],
        _ => Vec::new(),
    }
}
