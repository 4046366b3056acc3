//! What the toolkit reads from HTML, as the browser would: elements by CSS selector (with
//! `scraper`), their text, the `phx-*` bindings and values the client would send, and a form's
//! fields serialized by the browser's `FormData` rules.

use scraper::{ElementRef, Html, Selector};
use serde_json::{Map, Value};

use super::TestError;

/// Parses a CSS selector, or says which selector is invalid.
pub(crate) fn selector(css: &str) -> Result<Selector, TestError> {
    Selector::parse(css)
        .map_err(|err| TestError::Usage(format!("invalid CSS selector {css:?}: {err}")))
}

/// The text of an element, with runs of whitespace collapsed.
pub(crate) fn text_of(element: ElementRef<'_>) -> String {
    let text: String = element.text().collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The elements matching `css` whose text contains `text` (when given).
pub(crate) fn matching<'a>(
    html: &'a Html,
    css: &str,
    text: Option<&str>,
) -> Result<Vec<ElementRef<'a>>, TestError> {
    let selector = selector(css)?;
    Ok(html
        .select(&selector)
        .filter(|element| text.is_none_or(|text| text_of(*element).contains(text)))
        .collect())
}

/// The cid of the component an element belongs to (its own or closest ancestor's
/// `data-phx-component`), if any.
pub(crate) fn component_of(element: ElementRef<'_>) -> Option<u64> {
    std::iter::once(element)
        .chain(element.ancestors().filter_map(ElementRef::wrap))
        .find_map(|el| el.value().attr("data-phx-component"))
        .and_then(|cid| cid.parse().ok())
}

/// The closest form around an element (or the element itself).
pub(crate) fn form_of(element: ElementRef<'_>) -> Option<ElementRef<'_>> {
    std::iter::once(element)
        .chain(element.ancestors().filter_map(ElementRef::wrap))
        .find(|el| el.value().name() == "form")
}

/// Whether the element has a `value` property the client reads (`el.value !== undefined`).
fn has_value_property(element: ElementRef<'_>) -> bool {
    matches!(
        element.value().name(),
        "input" | "button" | "select" | "textarea" | "option"
    )
}

/// The value object of a non-form event, built as the client's `extractMeta` does: `phx-value-*`
/// attributes, then the element's `value` (not for unchecked checkboxes and radios).
pub(crate) fn event_value(element: ElementRef<'_>) -> Map<String, Value> {
    let mut value = Map::new();
    for (name, attr) in element.value().attrs() {
        if let Some(key) = name.strip_prefix("phx-value-") {
            value.insert(key.to_owned(), Value::String(attr.to_owned()));
        }
    }
    if has_value_property(element) {
        let el = element.value();
        let checkable = matches!(el.attr("type"), Some("checkbox" | "radio"));
        if !checkable || el.attr("checked").is_some() {
            let current = match el.name() {
                "textarea" => element.text().collect(),
                "select" => selected_options(element)
                    .into_iter()
                    .next()
                    .unwrap_or_default(),
                _ => el.attr("value").map(str::to_owned).unwrap_or_else(|| {
                    if checkable {
                        "on".into()
                    } else {
                        String::new()
                    }
                }),
            };
            value.insert("value".into(), Value::String(current));
        }
    }
    value
}

/// The values of a `<select>`'s selected options (the first option when none is selected and
/// the select takes one value, as browsers do).
fn selected_options(select: ElementRef<'_>) -> Vec<String> {
    let options: Vec<ElementRef<'_>> = select
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|el| el.value().name() == "option" && el.value().attr("disabled").is_none())
        .collect();
    let value_of = |option: &ElementRef<'_>| {
        option
            .value()
            .attr("value")
            .map(str::to_owned)
            .unwrap_or_else(|| text_of(*option))
    };
    let selected: Vec<String> = options
        .iter()
        .filter(|o| o.value().attr("selected").is_some())
        .map(value_of)
        .collect();
    if selected.is_empty() && select.value().attr("multiple").is_none() {
        return options.first().map(value_of).into_iter().collect();
    }
    selected
}

/// One successful control of a form, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) value: String,
    /// `type="hidden"`: never marked unused.
    pub(crate) hidden: bool,
}

/// A form's controls as the browser's `FormData` lists them: no disabled or nameless
/// controls, no unchecked boxes, no file inputs and no buttons (the submitter is added by the
/// caller); every declared name is also returned (to refuse values for fields that do not
/// exist).
pub(crate) fn form_fields(form: ElementRef<'_>) -> (Vec<Field>, Vec<String>) {
    let mut fields = Vec::new();
    let mut names = Vec::new();
    for control in form.descendants().filter_map(ElementRef::wrap) {
        let el = control.value();
        let Some(name) = el.attr("name").filter(|n| !n.is_empty()) else {
            continue;
        };
        let kind = el.attr("type").unwrap_or("text").to_ascii_lowercase();
        match el.name() {
            "input" | "select" | "textarea" => {}
            _ => continue,
        }
        names.push(name.to_owned());
        if el.attr("disabled").is_some() {
            continue;
        }
        let field = |value: String| Field {
            name: name.to_owned(),
            value,
            hidden: kind == "hidden",
        };
        match el.name() {
            "select" => fields.extend(selected_options(control).into_iter().map(field)),
            "textarea" => fields.push(field(control.text().collect())),
            _ => match kind.as_str() {
                "checkbox" | "radio" => {
                    if el.attr("checked").is_some() {
                        fields.push(field(el.attr("value").unwrap_or("on").to_owned()));
                    }
                }
                "file" | "submit" | "button" | "reset" | "image" => {}
                _ => fields.push(field(el.attr("value").unwrap_or_default().to_owned())),
            },
        }
    }
    (fields, names)
}

/// The client's `prependFormDataKey`: `_unused_` before the last key segment
/// (`user[email]` → `user[_unused_email]`, `tags[]` → `_unused_tags[]`).
pub(crate) fn unused_key(key: &str) -> String {
    let (base, array) = match key.strip_suffix("[]") {
        Some(base) => (base, "[]"),
        None => (key, ""),
    };
    let (head, last, close) = match base.strip_suffix(']') {
        Some(inner) => match inner.rfind('[') {
            Some(open) => (&inner[..=open], &inner[open + 1..], "]"),
            None => ("", base, ""),
        },
        None => ("", base, ""),
    };
    format!("{head}_unused_{last}{close}{array}")
}

/// `URLSearchParams` encoding of name/value pairs.
pub(crate) fn urlencode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// What `phx-update="append"`/`"prepend"` containers keep in the browser: after a render the
/// client puts back the children the previous page had (matched by id: a child rendered again
/// is updated in place; new children go after, or before for prepend). `previous` is the page
/// before, `next` the render; returns the page the browser shows.
pub(crate) fn keep_appended(previous: &str, next: String) -> String {
    if !next.contains("phx-update=\"append\"") && !next.contains("phx-update=\"prepend\"") {
        return next;
    }
    let old = Html::parse_fragment(previous);
    let new = Html::parse_fragment(&next);
    let Ok(containers) = selector("[phx-update=append][id], [phx-update=prepend][id]") else {
        return next;
    };
    let mut replacements: Vec<(String, String)> = Vec::new();
    for container in new.select(&containers) {
        let id = container.value().attr("id").unwrap_or_default();
        let Some(before) = old
            .select(&containers)
            .find(|c| c.value().attr("id") == Some(id))
        else {
            continue;
        };
        let children = |parent: ElementRef<'_>| -> Vec<(Option<String>, String)> {
            parent
                .children()
                .filter_map(ElementRef::wrap)
                .map(|child| (child.value().attr("id").map(str::to_owned), child.html()))
                .collect()
        };
        let old_children = children(before);
        let new_children = children(container);
        let is_new =
            |id: &Option<String>| id.is_none() || !old_children.iter().any(|(old, _)| old == id);
        let updated: Vec<String> = old_children
            .iter()
            .map(|(id, html)| {
                new_children
                    .iter()
                    .find(|(new, _)| id.is_some() && new == id)
                    .map(|(_, html)| html.clone())
                    .unwrap_or_else(|| html.clone())
            })
            .collect();
        let added: Vec<String> = new_children
            .iter()
            .filter(|(id, _)| is_new(id))
            .map(|(_, html)| html.clone())
            .collect();
        let inner = if container.value().attr("phx-update") == Some("prepend") {
            added.into_iter().chain(updated).collect::<String>()
        } else {
            updated.into_iter().chain(added).collect::<String>()
        };
        replacements.push((id.to_owned(), inner));
    }
    let mut page = next;
    for (id, inner) in replacements {
        if let Some(range) = inner_range(&page, &id) {
            page.replace_range(range, &inner);
        }
    }
    page
}

/// The byte range of the inner HTML of the element with `id` in well-formed `html`.
fn inner_range(html: &str, id: &str) -> Option<std::ops::Range<usize>> {
    let marker = format!(" id=\"{id}\"");
    let at = html.find(&marker)?;
    let open = html[..at].rfind('<')?;
    let name_end = open + 1 + html[open + 1..].find(|c: char| c.is_whitespace() || c == '>')?;
    let name = &html[open + 1..name_end];
    let start = at + html[at..].find('>')? + 1;
    let (opening, closing) = (format!("<{name}"), format!("</{name}>"));
    let mut depth = 1;
    let mut pos = start;
    while depth > 0 {
        let next_close = pos + html[pos..].find(&closing)?;
        let next_open = html[pos..next_close]
            .match_indices(&opening)
            .filter(|(i, _)| {
                html[pos + i + opening.len()..].starts_with(|c: char| c.is_whitespace() || c == '>')
            })
            .count();
        depth += next_open;
        depth -= 1;
        if depth == 0 {
            return Some(start..next_close);
        }
        pos = next_close + closing.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_children_stay() {
        let before = r#"<p>x</p><div id="log" phx-update="append"><p id="m1">one</p><p id="m2">two</p></div>"#;
        let next = r#"<p>y</p><div id="log" phx-update="append"><p id="m2">TWO</p><p id="m3">three</p></div>"#.to_owned();
        assert_eq!(
            keep_appended(before, next),
            r#"<p>y</p><div id="log" phx-update="append"><p id="m1">one</p><p id="m2">TWO</p><p id="m3">three</p></div>"#
        );
        let before = r#"<ul id="l" phx-update="prepend"><li id="a">a</li></ul>"#;
        let next = r#"<ul id="l" phx-update="prepend"><li id="b">b</li></ul>"#.to_owned();
        assert_eq!(
            keep_appended(before, next),
            r#"<ul id="l" phx-update="prepend"><li id="b">b</li><li id="a">a</li></ul>"#
        );
    }

    #[test]
    fn unused_keys_follow_the_client() {
        assert_eq!(unused_key("q"), "_unused_q");
        assert_eq!(unused_key("user[email]"), "user[_unused_email]");
        assert_eq!(
            unused_key("user[address][city]"),
            "user[address][_unused_city]"
        );
        assert_eq!(unused_key("tags[]"), "_unused_tags[]");
    }

    #[test]
    fn form_fields_follow_form_data() {
        let html = Html::parse_fragment(
            r#"<form><input name="a" value="1"><input name="off" type="checkbox" value="x">
            <input name="on" type="checkbox" value="y" checked><input name="d" value="2" disabled>
            <select name="s"><option value="p">P</option><option value="q">Q</option></select>
            <select name="m" multiple><option selected>M1</option><option>M2</option><option selected value="m3">x</option></select>
            <textarea name="t">hi</textarea><input type="hidden" name="h" value="z"><button name="b">go</button></form>"#,
        );
        let form = html.select(&selector("form").unwrap()).next().unwrap();
        let (fields, names) = form_fields(form);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("a", "1"),
                ("on", "y"),
                ("s", "p"),
                ("m", "M1"),
                ("m", "m3"),
                ("t", "hi"),
                ("h", "z")
            ]
        );
        assert!(names.contains(&"off".to_owned()) && names.contains(&"d".to_owned()));
        assert!(fields.last().unwrap().hidden);
        assert_eq!(
            urlencode([("user[name]", "a b&c")]),
            "user%5Bname%5D=a+b%26c"
        );
    }
}
