//! [`Element`] and [`Form`]: what a user does to a view's page (click, keys, focus, hooks,
//! form changes and submits), sent as the browser's client sends it.

use scraper::{ElementRef, Html};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::dom::{self, Field};
use super::view::LiveViewTest;
use super::TestError;

/// Where an event goes: the view (`None`) or a component's cid.
type Target = Option<u64>;

/// What an element's binding does when triggered.
enum Action {
    /// A server event: name, value, targets.
    Push(String, Map<String, Value>, Vec<Target>),
    Patch(String),
    Navigate(String),
    /// A `change` dispatched in a form (`JS.dispatch("change")`): the form's `phx-change`,
    /// with the button that dispatched it sent as the submitter (Phoenix 1.2's add/remove
    /// row buttons).
    Change {
        form: String,
        submitter: Option<String>,
        target: Option<String>,
    },
}

/// One element of a view's page, found by CSS selector (and optionally its text), to act
/// on. It must match exactly one element when acted on; otherwise the error names the
/// selector and shows the page. Phoenix: `element(view, selector, text_filter)`.
#[derive(Debug)]
pub struct Element<'a> {
    view: &'a mut LiveViewTest,
    css: String,
    text: Option<String>,
}

impl<'a> Element<'a> {
    pub(crate) fn new(view: &'a mut LiveViewTest, css: &str) -> Self {
        Element {
            view,
            css: css.to_owned(),
            text: None,
        }
    }

    /// Only elements whose text contains `text`.
    pub fn with_text(mut self, text: &str) -> Self {
        self.text = Some(text.to_owned());
        self
    }

    /// Whether the selector matches at least one element.
    pub fn exists(&self) -> bool {
        self.view
            .count(&self.css, self.text.as_deref().unwrap_or(""))
            > 0
    }

    /// The element's attribute `name`.
    pub fn attr(&self, name: &str) -> Result<Option<String>, TestError> {
        self.with_one(|element, _| Ok(element.value().attr(name).map(str::to_owned)))
    }

    /// Clicks the element: its `phx-click` (an event name or JS commands, whose `push`,
    /// `navigate` and `patch` reach the server and the rest stay in the browser), or a live
    /// link (`data-phx-link`). Returns the view's HTML after the reply.
    /// Phoenix: `render_click(element)`.
    pub async fn click(self) -> Result<String, TestError> {
        self.trigger("click", "phx-click", None).await
    }

    /// A key press on the element's `phx-keydown` (respecting `phx-key`).
    /// Phoenix: `render_keydown(element, key)`.
    pub async fn keydown(self, key: &str) -> Result<String, TestError> {
        self.trigger("keydown", "phx-keydown", Some(key)).await
    }

    /// A key release on the element's `phx-keyup`. Phoenix: `render_keyup`.
    pub async fn keyup(self, key: &str) -> Result<String, TestError> {
        self.trigger("keyup", "phx-keyup", Some(key)).await
    }

    /// The element's `phx-focus`. Phoenix: `render_focus`.
    pub async fn focus(self) -> Result<String, TestError> {
        self.trigger("focus", "phx-focus", None).await
    }

    /// The element's `phx-blur`. Phoenix: `render_blur`.
    pub async fn blur(self) -> Result<String, TestError> {
        self.trigger("blur", "phx-blur", None).await
    }

    /// A hook on this element pushing `event` with `value` (`this.pushEvent`, or
    /// `pushEventTo` the element's `phx-target`); returns the reply the hook's callback gets.
    /// Phoenix: `render_hook(element, event, value)`.
    pub async fn render_hook(self, event: &str, value: Value) -> Result<Option<Value>, TestError> {
        let targets = self.with_one(targets)?;
        let mut reply = None;
        for target in targets {
            reply = push_event(
                self.view,
                "hook",
                event,
                Value::Object(object(value.clone())?),
                target,
            )
            .await?;
        }
        Ok(reply)
    }

    async fn trigger(
        self,
        kind: &str,
        binding: &str,
        key: Option<&str>,
    ) -> Result<String, TestError> {
        let actions = self.with_one(|element, html| actions(element, html, kind, binding, key))?;
        let Element { view, .. } = self;
        for action in actions {
            match action {
                Action::Push(event, value, targets) => {
                    for target in targets {
                        push_event(view, kind, &event, Value::Object(value.clone()), target)
                            .await?;
                    }
                }
                Action::Patch(to) => view.patch(&to).await?,
                Action::Navigate(to) => view.navigate(&to).await?,
                Action::Change {
                    form,
                    submitter,
                    target,
                } => {
                    let mut change = Form::new(view, &form);
                    if let Some(submitter) = &submitter {
                        change = change.submitter(submitter);
                    }
                    if let Some(target) = &target {
                        change = change.target(target);
                    }
                    change.change().await?;
                }
            }
        }
        Ok(view.html().to_owned())
    }

    fn with_one<T>(
        &self,
        f: impl FnOnce(ElementRef<'_>, &Html) -> Result<T, TestError>,
    ) -> Result<T, TestError> {
        let html = Html::parse_fragment(self.view.html());
        let found = dom::matching(&html, &self.css, self.text.as_deref())?;
        match found.as_slice() {
            [one] => f(*one, &html),
            _ => Err(self
                .view
                .selector_error(&self.css, self.text.as_deref(), found.len())),
        }
    }
}

/// What triggering `binding` on `element` does.
fn actions(
    element: ElementRef<'_>,
    html: &Html,
    kind: &str,
    binding: &str,
    key: Option<&str>,
) -> Result<Vec<Action>, TestError> {
    let el = element.value();
    if let (Some(key), Some(wanted)) = (key, el.attr("phx-key")) {
        if !wanted.eq_ignore_ascii_case(key) {
            return Ok(Vec::new());
        }
    }
    // `phx-window-keydown` and the like fire wherever the key is pressed.
    let window = binding.replacen("phx-", "phx-window-", 1);
    let Some(spec) = el.attr(binding).or_else(|| el.attr(&window)) else {
        if binding == "phx-click" && el.name() == "a" {
            let href = el.attr("href").unwrap_or_default().to_owned();
            match el.attr("data-phx-link") {
                Some("patch") => return Ok(vec![Action::Patch(href)]),
                Some("redirect") => return Ok(vec![Action::Navigate(href)]),
                _ => {}
            }
        }
        return Err(TestError::NoBinding(format!(
            "{} has no {binding}{}",
            describe(element),
            if binding == "phx-click" {
                " and is not a live link"
            } else {
                ""
            }
        )));
    };
    let mut value = dom::event_value(element);
    if let Some(key) = key {
        value.insert("key".into(), json!(key));
    }
    if !spec.trim_start().starts_with('[') {
        return Ok(vec![Action::Push(
            spec.to_owned(),
            value,
            targets(element, html)?,
        )]);
    }
    // JS commands: `[["push", {...}], ["hide", {...}], ...]`.
    let commands: Vec<(String, Value)> = serde_json::from_str(spec).map_err(|err| {
        TestError::Usage(format!(
            "{binding} of {} is not JS commands ({err}): {spec}",
            describe(element)
        ))
    })?;
    let mut actions = Vec::new();
    for (command, args) in commands {
        let href = || {
            args.get("href")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        match command.as_str() {
            "push" => {
                let event = args
                    .get("event")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let mut value = value.clone();
                if let Some(Value::Object(extra)) = args.get("value") {
                    value.extend(extra.clone());
                }
                let targets = match args.get("target").and_then(Value::as_str) {
                    Some(target) => resolve_target(target, html)?,
                    None => targets(element, html)?,
                };
                actions.push(Action::Push(event, value, targets));
            }
            "patch" => actions.push(Action::Patch(href())),
            "navigate" => actions.push(Action::Navigate(href())),
            "dispatch" if args.get("event").and_then(Value::as_str) == Some("change") => {
                let source = match args.get("to").and_then(Value::as_str) {
                    Some(to) => {
                        let found = dom::matching(html, to, None)?;
                        *found.first().ok_or_else(|| {
                            TestError::Usage(format!("dispatch to {to:?} matches no element"))
                        })?
                    }
                    None => element,
                };
                actions.push(dispatched_change(source)?);
            }
            // show, hide, toggle, classes, attributes, transitions, focus, dispatch...: the
            // browser does these without the server.
            _ => {}
        }
    }
    let _ = kind;
    Ok(actions)
}

/// The form change a `change` dispatched on `source` causes: its form (found by id), with
/// `source` as the submitter when it is a named button.
fn dispatched_change(source: ElementRef<'_>) -> Result<Action, TestError> {
    let form = dom::form_of(source).ok_or_else(|| {
        TestError::Usage(format!(
            "{} dispatches change outside a form",
            describe(source)
        ))
    })?;
    let id = form.value().attr("id").ok_or_else(|| {
        TestError::Usage(format!(
            "{} has no id: the toolkit finds forms changed by dispatch by id",
            describe(form)
        ))
    })?;
    let el = source.value();
    let named_button = el.name() == "button" && el.attr("name").is_some();
    let submitter = named_button.then(|| {
        let quote = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
        format!(
            "button[name=\"{}\"][value=\"{}\"]",
            quote(el.attr("name").unwrap_or_default()),
            quote(el.attr("value").unwrap_or_default())
        )
    });
    Ok(Action::Change {
        form: format!("#{id}"),
        submitter,
        target: el.attr("name").map(str::to_owned),
    })
}

/// The targets of an element's events: its `phx-target` (a cid or a selector), or the view.
fn targets(element: ElementRef<'_>, html: &Html) -> Result<Vec<Target>, TestError> {
    match element.value().attr("phx-target") {
        Some(target) => resolve_target(target, html),
        None => Ok(vec![None]),
    }
}

fn resolve_target(target: &str, html: &Html) -> Result<Vec<Target>, TestError> {
    if let Ok(cid) = target.trim().parse::<u64>() {
        return Ok(vec![Some(cid)]);
    }
    let mut found: Vec<Target> = Vec::new();
    for element in dom::matching(html, target, None)? {
        let cid = dom::component_of(element);
        if !found.contains(&cid) {
            found.push(cid);
        }
    }
    if found.is_empty() {
        return Err(TestError::Usage(format!(
            "phx-target {target:?} matches no element"
        )));
    }
    Ok(found)
}

fn object(value: Value) -> Result<Map<String, Value>, TestError> {
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => Err(TestError::Usage(format!(
            "an event's value must be an object, not {other}"
        ))),
    }
}

fn describe(element: ElementRef<'_>) -> String {
    let el = element.value();
    let mut text = format!("<{}", el.name());
    for (name, value) in el.attrs() {
        text.push_str(&format!(" {name}=\"{value}\""));
    }
    text.push('>');
    text
}

/// Sends one `event` push; returns the hook reply (`"r"` of the reply's diff), if any.
pub(crate) async fn push_event(
    view: &mut LiveViewTest,
    kind: &str,
    event: &str,
    value: Value,
    target: Target,
) -> Result<Option<Value>, TestError> {
    let mut payload = json!({"type": kind, "event": event, "value": value});
    if let Some(cid) = target {
        payload["cid"] = json!(cid);
    }
    let response = view.request("event", payload).await?;
    Ok(response.get("diff").and_then(|diff| diff.get("r")).cloned())
}

/// A form of a view's page, to fill in and change or submit, serialized like the browser's
/// client does (the form's current fields by `FormData` rules, the values you set in their
/// place, `_unused_` markers for fields not used yet on change, `_target`).
/// Phoenix: `form(view, selector, values)` with `render_change` / `render_submit`.
#[derive(Debug)]
pub struct Form<'a> {
    view: &'a mut LiveViewTest,
    css: String,
    values: Vec<(String, String)>,
    target: Option<String>,
    submitter: Option<String>,
}

impl<'a> Form<'a> {
    pub(crate) fn new(view: &'a mut LiveViewTest, css: &str) -> Self {
        Form {
            view,
            css: css.to_owned(),
            values: Vec::new(),
            target: None,
            submitter: None,
        }
    }

    /// Sets field `name` (the input's `name`, e.g. `"user[email]"`) to `value`; calling it
    /// again for the same name adds values (multi-selects, `tags[]`). The form must have a
    /// field of that name.
    pub fn fill(mut self, name: &str, value: impl ToString) -> Self {
        self.values.push((name.to_owned(), value.to_string()));
        self
    }

    /// Sets fields from a typed value: a struct or map serializes to field names as a form
    /// would name them (`user[address][city]`, `tags[]` for lists of scalars,
    /// `items[0][name]` for lists of structs, booleans as `true`/`false`).
    pub fn with<T: Serialize>(mut self, values: &T) -> Result<Self, TestError> {
        let value = serde_json::to_value(values)
            .map_err(|err| TestError::Usage(format!("the form values do not serialize: {err}")))?;
        let Value::Object(map) = value else {
            return Err(TestError::Usage(
                "form values must serialize to a map".into(),
            ));
        };
        for (key, value) in map {
            flatten(&key, &value, &mut self.values);
        }
        Ok(self)
    }

    /// The field named as the one that changed (`_target`); by default the last filled one.
    pub fn target(mut self, name: &str) -> Self {
        self.target = Some(name.to_owned());
        self
    }

    /// Submits with this button (CSS selector inside the form); its `name=value` is sent.
    pub fn submitter(mut self, css: &str) -> Self {
        self.submitter = Some(css.to_owned());
        self
    }

    /// The form's `phx-change` with the values set. Returns the view's HTML after the reply.
    /// Phoenix: `render_change(form)`.
    pub async fn change(self) -> Result<String, TestError> {
        self.send("phx-change").await
    }

    /// The form's `phx-submit`. Returns the view's HTML after the reply.
    /// Phoenix: `render_submit(form)`.
    pub async fn submit(self) -> Result<String, TestError> {
        self.send("phx-submit").await
    }

    async fn send(self, binding: &str) -> Result<String, TestError> {
        let submit = binding == "phx-submit";
        let prepared = {
            let html = Html::parse_fragment(self.view.html());
            let found = dom::matching(&html, &self.css, None)?;
            let [form] = found.as_slice() else {
                return Err(self.view.selector_error(&self.css, None, found.len()));
            };
            let Some(form) = dom::form_of(*form) else {
                return Err(TestError::Usage(format!(
                    "{} is not inside a form",
                    self.css
                )));
            };
            let Some(event) = form.value().attr(binding).map(str::to_owned) else {
                return Err(TestError::NoBinding(format!(
                    "{} has no {binding}",
                    describe(form)
                )));
            };
            let (fields, names) = dom::form_fields(form);
            for (name, _) in &self.values {
                if !names.contains(name) {
                    return Err(TestError::Usage(format!(
                        "the form {} has no field named {name:?}; its fields: {names:?}",
                        self.css
                    )));
                }
            }
            let mut fields = merge_values(fields, &self.values);
            if let Some(css) = &self.submitter {
                let buttons = dom::matching(&html, css, None)?;
                let [button] = buttons.as_slice() else {
                    return Err(self.view.selector_error(css, None, buttons.len()));
                };
                if let Some(name) = button.value().attr("name") {
                    fields.push(Field {
                        name: name.to_owned(),
                        value: button.value().attr("value").unwrap_or_default().to_owned(),
                        hidden: true,
                    });
                }
            }
            let mut meta = Map::new();
            for (name, value) in form.value().attrs() {
                if let Some(key) = name.strip_prefix("phx-value-") {
                    meta.insert(key.to_owned(), json!(value));
                }
            }
            (event, fields, names, meta, targets(form, &html)?)
        };
        let (event, fields, names, mut meta, targets) = prepared;
        let used = &mut self.view.used_fields;
        used.extend(self.values.iter().map(|(name, _)| name.clone()));
        if submit {
            used.extend(names);
        }
        let mut pairs: Vec<(String, String)> = Vec::with_capacity(fields.len());
        for field in &fields {
            if !submit && !field.hidden && !used.contains(&field.name) {
                pairs.push((dom::unused_key(&field.name), String::new()));
            }
            pairs.push((field.name.clone(), field.value.clone()));
        }
        let value = dom::urlencode(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let mut payload = json!({"type": "form", "event": event, "value": value});
        if !submit {
            let target = self
                .target
                .clone()
                .or_else(|| self.values.last().map(|(name, _)| name.clone()))
                .unwrap_or_else(|| "undefined".into());
            meta.insert("_target".into(), json!(target));
            payload["uploads"] = json!({});
        }
        payload["meta"] = Value::Object(meta);
        for target in targets {
            let mut payload = payload.clone();
            if let Some(cid) = target {
                payload["cid"] = json!(cid);
            }
            self.view.request("event", payload).await?;
        }
        Ok(self.view.html().to_owned())
    }
}

/// The form's fields with the given values in place of the fields of the same name (at the
/// first one's position; appended when the field sends nothing now, like an unchecked box).
fn merge_values(fields: Vec<Field>, values: &[(String, String)]) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::with_capacity(fields.len() + values.len());
    let mut placed: Vec<&str> = Vec::new();
    fn given<'v>(
        values: &'v [(String, String)],
        name: &'v str,
    ) -> impl Iterator<Item = &'v (String, String)> {
        values.iter().filter(move |(n, _)| n == name)
    }
    for field in fields {
        if given(values, &field.name).next().is_none() {
            out.push(field);
        } else if !placed.contains(&field.name.as_str()) {
            let name = values
                .iter()
                .find(|(n, _)| *n == field.name)
                .map(|(n, _)| n.as_str())
                .unwrap_or_default();
            placed.push(name);
            out.extend(given(values, &field.name).map(|(name, value)| Field {
                name: name.clone(),
                value: value.clone(),
                hidden: field.hidden,
            }));
        }
    }
    for (name, value) in values {
        if !placed.contains(&name.as_str()) {
            out.push(Field {
                name: name.clone(),
                value: value.clone(),
                hidden: false,
            });
        }
    }
    out
}

/// A typed value as form fields.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                flatten(&format!("{prefix}[{key}]"), value, out);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                if item.is_object() {
                    flatten(&format!("{prefix}[{index}]"), item, out);
                } else {
                    flatten(&format!("{prefix}[]"), item, out);
                }
            }
        }
        Value::String(text) => out.push((prefix.to_owned(), text.clone())),
        Value::Null => out.push((prefix.to_owned(), String::new())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_flatten_to_form_names() {
        let mut out = Vec::new();
        let value = json!({"user": {"name": "Ada", "age": 36, "tags": ["a", "b"], "items": [{"n": "x"}], "ok": true, "nick": null}});
        for (key, value) in value.as_object().unwrap() {
            flatten(key, value, &mut out);
        }
        let names: Vec<String> = out.iter().map(|(n, v)| format!("{n}={v}")).collect();
        assert!(names.contains(&"user[name]=Ada".to_owned()));
        assert!(names.contains(&"user[age]=36".to_owned()));
        assert!(
            names.contains(&"user[tags][]=a".to_owned())
                && names.contains(&"user[tags][]=b".to_owned())
        );
        assert!(names.contains(&"user[items][0][n]=x".to_owned()));
        assert!(
            names.contains(&"user[ok]=true".to_owned())
                && names.contains(&"user[nick]=".to_owned())
        );
    }

    #[test]
    fn given_values_replace_fields_in_place() {
        let field = |name: &str, value: &str| Field {
            name: name.into(),
            value: value.into(),
            hidden: false,
        };
        let merged = merge_values(
            vec![
                field("a", "1"),
                field("m", "x"),
                field("m", "y"),
                field("b", "2"),
            ],
            &[("m".into(), "z".into()), ("c".into(), "on".into())],
        );
        let pairs: Vec<(&str, &str)> = merged
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(pairs, [("a", "1"), ("m", "z"), ("b", "2"), ("c", "on")]);
    }
}
