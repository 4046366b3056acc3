//! The fields of a [`Form`](super::Form): what each input needs (name, id, value, errors to
//! show, whether it was used), and the rows of nested lists (`inputs_for`).

use serde_json::{Map, Value};

use super::changeset::Errors;

/// A group of fields: the form's root, or one row of [`Form::inputs_for`](super::Form::inputs_for).
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    pub(super) name: String,
    pub(super) id: String,
    pub(super) path: String,
    pub(super) params: Option<&'a Map<String, Value>>,
    pub(super) errors: &'a Errors,
    pub(super) submitted: bool,
    pub(super) index: Option<usize>,
}

impl<'a> Fields<'a> {
    /// A field of this group (`"name"`, `"address.city"`).
    pub fn field(&self, path: &str) -> Field<'a> {
        let segments: Vec<&str> = path.split('.').collect();
        let (last, parents) = segments.split_last().expect("split yields one item");
        let mut name = self.name.clone();
        let mut id = self.id.clone();
        let mut map = self.params;
        for segment in parents {
            name.push_str(&format!("[{segment}]"));
            id.push_str(&format!("_{segment}"));
            map = map
                .and_then(|map| map.get(*segment))
                .and_then(Value::as_object);
        }
        name.push_str(&format!("[{last}]"));
        id.push_str(&format!("_{last}"));
        let value = map.and_then(|map| map.get(*last));
        let used =
            value.is_some() && !map.is_some_and(|map| map.contains_key(&format!("_unused_{last}")));
        let full = if self.path.is_empty() {
            path.to_owned()
        } else {
            format!("{}.{path}", self.path)
        };
        let errors = if used || self.submitted {
            self.errors.shown_for(&full)
        } else {
            Vec::new()
        };
        Field {
            name,
            id,
            value,
            errors,
            used,
        }
    }

    /// The rows of a nested list field, each a group of its own (`items[0][name]`).
    pub fn inputs_for(&self, path: &str) -> Vec<Fields<'a>> {
        let field = self.field(path);
        let rows: Vec<(usize, &'a Map<String, Value>)> = match field.value {
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .filter_map(|(i, row)| row.as_object().map(|row| (i, row)))
                .collect(),
            Some(Value::Object(map)) => {
                let mut rows: Vec<(usize, &Map<String, Value>)> = map
                    .iter()
                    .filter_map(|(k, row)| Some((k.parse().ok()?, row.as_object()?)))
                    .collect();
                rows.sort_by_key(|(i, _)| *i);
                rows
            }
            _ => Vec::new(),
        };
        let base = if self.path.is_empty() {
            path.to_owned()
        } else {
            format!("{}.{path}", self.path)
        };
        rows.into_iter()
            .map(|(index, row)| Fields {
                name: format!("{}[{index}]", field.name),
                id: format!("{}_{index}", field.id),
                path: format!("{base}.{index}"),
                params: Some(row),
                errors: self.errors,
                submitted: self.submitted,
                index: Some(index),
            })
            .collect()
    }

    /// The input name of this group (`user`, `user[items][0]`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The row's index, for rows of [`Form::inputs_for`](super::Form::inputs_for).
    pub fn index(&self) -> Option<usize> {
        self.index
    }
}

/// One field: what its input needs (Phoenix's `%FormField{}`).
#[derive(Debug, Clone)]
pub struct Field<'a> {
    name: String,
    id: String,
    value: Option<&'a Value>,
    errors: Vec<&'a str>,
    used: bool,
}

impl<'a> Field<'a> {
    /// The input's `name` (`user[address][city]`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The input's `id` (`user_address_city`), for `label for=`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The raw value to show (empty when there is none).
    pub fn value(&self) -> &'a str {
        match self.value {
            Some(Value::String(text)) => text,
            Some(Value::Array(list)) => list.last().and_then(Value::as_str).unwrap_or(""),
            _ => "",
        }
    }

    /// Every value of a list field (a multi-select, `tags[]`).
    pub fn values(&self) -> Vec<&'a str> {
        match self.value {
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(text)) => vec![text.as_str()],
            _ => Vec::new(),
        }
    }

    /// The errors to show: the field's errors once it is used or the form submitted (for a
    /// list of values, the errors of its items too).
    pub fn errors(&self) -> &[&'a str] {
        &self.errors
    }

    /// Whether the user has used the input (Phoenix's `used_input?`).
    pub fn used(&self) -> bool {
        self.used
    }
}
