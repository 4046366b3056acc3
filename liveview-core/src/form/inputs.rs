//! Input helpers for `html!` (Phoenix.HTML.Form / core components): each renders one input
//! whose `name`, `id` and value come from a [`Field`], so labels (`for=(field.id())`) work and
//! the values survive every re-render. Extra attributes are spread from `(name, value)` pairs.

use crate::{html, Rendered};

use super::fields::{Field, Fields};

/// Extra attributes for a helper (`&[("class", "wide"), ("required", "")]`).
pub type Attrs<'a> = &'a [(&'a str, &'a str)];

/// The JS command that makes a button send the form's change event (`JS.dispatch("change")`
/// on the button itself: the client sends the form's `phx-change` with the button's
/// name and value).
fn dispatch_change() -> crate::js::JsCommands {
    crate::js::JS::dispatch("change", crate::js::Target::This)
}

/// A `<form>` with `phx-change` and `phx-submit` (Phoenix's `<.form for={@form}>`).
///
/// ```
/// use liveview_core::{form, html};
/// let page = form::form_tag("signup", "validate", "save", html! { "…" });
/// assert_eq!(page.to_html(), r#"<form id="signup" phx-change="validate" phx-submit="save">…</form>"#);
/// ```
pub fn form_tag(id: &str, change: &str, submit: &str, content: Rendered) -> Rendered {
    html! { form id=(id) phx-change=(change) phx-submit=(submit) { (content) } }
}

/// A `<label>` for a field's input.
///
/// ```
/// use liveview_core::form::{label, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(label(&form.field("name"), "Name").to_html(), r#"<label for="user_name">Name</label>"#);
/// ```
pub fn label(field: &Field<'_>, text: &str) -> Rendered {
    html! { label for=(field.id()) { (text) } }
}

/// `<input type="text">` (Phoenix's `text_input`).
///
/// ```
/// use liveview_core::form::{text_input, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(
///     text_input(&form.field("name"), &[("class", "wide")]).to_html(),
///     r#"<input type="text" name="user[name]" id="user_name" value="" class="wide">"#
/// );
/// ```
pub fn text_input(field: &Field<'_>, attrs: Attrs<'_>) -> Rendered {
    input("text", field, attrs)
}

/// `<input type="email">`.
///
/// ```
/// use liveview_core::form::{email_input, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(email_input(&form.field("email"), &[]).to_html(), r#"<input type="email" name="user[email]" id="user_email" value="">"#);
/// ```
pub fn email_input(field: &Field<'_>, attrs: Attrs<'_>) -> Rendered {
    input("email", field, attrs)
}

/// `<input type="tel">`.
///
/// ```
/// use liveview_core::form::{tel_input, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(tel_input(&form.field("phone"), &[]).to_html(), r#"<input type="tel" name="user[phone]" id="user_phone" value="">"#);
/// ```
pub fn tel_input(field: &Field<'_>, attrs: Attrs<'_>) -> Rendered {
    input("tel", field, attrs)
}

/// `<input type="number">`.
///
/// ```
/// use liveview_core::form::{number_input, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(number_input(&form.field("age"), &[]).to_html(), r#"<input type="number" name="user[age]" id="user_age" value="">"#);
/// ```
pub fn number_input(field: &Field<'_>, attrs: Attrs<'_>) -> Rendered {
    input("number", field, attrs)
}

/// `<input type="password">`; the value is never sent back to the page.
///
/// ```
/// use liveview_core::form::{password_input, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(password_input(&form.field("password"), &[]).to_html(), r#"<input type="password" name="user[password]" id="user_password">"#);
/// ```
pub fn password_input(field: &Field<'_>, attrs: Attrs<'_>) -> Rendered {
    html! { input type="password" name=(field.name()) id=(field.id()) ..(attrs); }
}

/// `<input type="hidden">`.
///
/// ```
/// use liveview_core::form::{hidden_input, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(hidden_input(&form.field("id")).to_html(), r#"<input type="hidden" name="user[id]" id="user_id" value="">"#);
/// ```
pub fn hidden_input(field: &Field<'_>) -> Rendered {
    input("hidden", field, &[])
}

fn input(kind: &'static str, field: &Field<'_>, attrs: Attrs<'_>) -> Rendered {
    html! {
        input type=(kind) name=(field.name()) id=(field.id()) value=(field.value()) ..(attrs);
    }
}

/// `<textarea>`.
///
/// ```
/// use liveview_core::form::{textarea, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(textarea(&form.field("bio"), &[]).to_html(), r#"<textarea name="user[bio]" id="user_bio"></textarea>"#);
/// ```
pub fn textarea(field: &Field<'_>, attrs: Attrs<'_>) -> Rendered {
    html! { textarea name=(field.name()) id=(field.id()) ..(attrs) { (field.value()) } }
}

/// A checkbox sending `true`, preceded by a hidden input sending `false`, so an unchecked box
/// is `false` rather than absent (Phoenix's `checkbox`); checked when the value is `true`.
///
/// ```
/// use liveview_core::form::{checkbox, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(
///     checkbox(&form.field("admin"), &[]).to_html(),
///     r#"<input type="hidden" name="user[admin]" value="false"><input type="checkbox" name="user[admin]" id="user_admin" value="true">"#
/// );
/// ```
pub fn checkbox(field: &Field<'_>, attrs: Attrs<'_>) -> Rendered {
    let checked = field.value() == "true";
    html! {
        input type="hidden" name=(field.name()) value="false";
        input type="checkbox" name=(field.name()) id=(field.id()) value="true" checked=(checked) ..(attrs);
    }
}

/// A radio button for one `value` of the field; its id is `<field id>_<value>`.
///
/// ```
/// use liveview_core::form::{radio, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(
///     radio(&form.field("size"), "s", &[]).to_html(),
///     r#"<input type="radio" name="user[size]" id="user_size_s" value="s">"#
/// );
/// ```
pub fn radio(field: &Field<'_>, value: &str, attrs: Attrs<'_>) -> Rendered {
    let id = format!("{}_{}", field.id(), value);
    let checked = field.value() == value;
    html! {
        input type="radio" name=(field.name()) id=(id) value=(value) checked=(checked) ..(attrs);
    }
}

/// A `<select>` of `(label, value)` options, the field's value selected; `prompt` adds a
/// first empty option.
///
/// ```
/// use liveview_core::form::{select, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(
///     select(&form.field("size"), &[("Small", "s")], Some("Pick"), &[]).to_html(),
///     r#"<select name="user[size]" id="user_size"><option value="">Pick</option><option value="s">Small</option></select>"#
/// );
/// ```
pub fn select(
    field: &Field<'_>,
    options: &[(&str, &str)],
    prompt: Option<&str>,
    attrs: Attrs<'_>,
) -> Rendered {
    let current = field.value();
    html! {
        select name=(field.name()) id=(field.id()) ..(attrs) {
            @if let Some(prompt) = prompt { option value="" { (prompt) } }
            @for (label, value) in options {
                option value=(*value) selected=(*value == current) { (*label) }
            }
        }
    }
}

/// A `<select multiple>` sending `name[]` for each chosen option (decodes into a `Vec`),
/// preceded by a hidden empty `name[]`, so choosing nothing still sends the field (the list
/// then starts with an empty string, which the data should drop, as the books example does).
///
/// ```
/// use liveview_core::form::{multi_select, Form};
/// let form: Form<()> = Form::empty("user");
/// assert_eq!(
///     multi_select(&form.field("tags"), &[("Red", "r")], &[]).to_html(),
///     r#"<input type="hidden" name="user[tags][]" value=""><select multiple name="user[tags][]" id="user_tags"><option value="r">Red</option></select>"#
/// );
/// ```
pub fn multi_select(field: &Field<'_>, options: &[(&str, &str)], attrs: Attrs<'_>) -> Rendered {
    let name = format!("{}[]", field.name());
    let chosen = field.values();
    html! {
        input type="hidden" name=(&name) value="";
        select multiple name=(&name) id=(field.id()) ..(attrs) {
            @for (label, value) in options {
                option value=(*value) selected=(chosen.contains(value)) { (*label) }
            }
        }
    }
}

/// The field's errors to show (none until it is used or the form submitted), one
/// `<p class="field-error">` each, with the input's id in `data-for`.
///
/// ```
/// use liveview_core::form::{error_tag, Errors, Form, FormParams, Validate};
/// #[derive(serde::Deserialize)]
/// struct User { name: String }
/// impl Validate for User {
///     fn validate(&self, errors: &mut Errors) { errors.add("name", "too short"); }
/// }
/// let params = FormParams(serde_json::json!({"user": {"name": "a"}}));
/// let form: Form<User> = Form::change("user", &params);
/// assert_eq!(error_tag(&form.field("name")).to_html(), r#"<p class="field-error" data-for="user_name">too short</p>"#);
/// ```
pub fn error_tag(field: &Field<'_>) -> Rendered {
    html! {
        @for error in field.errors() {
            p.field-error data-for=(field.id()) { (error) }
        }
    }
}

/// A submit button that shows `disable_with` (and is disabled) while the submit is pending.
///
/// ```
/// assert_eq!(
///     liveview_core::form::submit_button("Save", "Saving...", &[]).to_html(),
///     r#"<button type="submit" phx-disable-with="Saving...">Save</button>"#
/// );
/// ```
pub fn submit_button(text: &str, disable_with: &str, attrs: Attrs<'_>) -> Rendered {
    html! { button type="submit" phx-disable-with=(disable_with) ..(attrs) { (text) } }
}

/// The hidden input that keeps a row of [`Fields::inputs_for`] in place
/// (`list[items_sort][]`, Phoenix 1.2's `sort_param`); render it in every row. With
/// [`add_row_button`] and [`drop_row_button`]:
///
/// ```
/// use liveview_core::form::{add_row_button, drop_row_button, sort_input, Form, FormParams};
/// use liveview_core::html;
///
/// let params = FormParams(serde_json::json!({"list": {"items": {"0": {"name": "a"}}}}));
/// let form: Form<serde_json::Value> = Form::change("list", &params);
/// let (root, rows) = (form.fields(), form.inputs_for("items"));
/// let page = html! {
///     @for row in &rows {
///         (sort_input(&root, "items", row))
///         (drop_row_button(&root, "items", row, "Remove", &[]))
///     }
///     (add_row_button(&root, "items", "Add", &[]))
/// };
/// assert_eq!(page.to_html(), concat!(
///     r#"<input type="hidden" name="list[items_sort][]" value="0">"#,
///     r#"<button type="button" name="list[items_drop][]" value="0" phx-click="[[&quot;dispatch&quot;,{&quot;event&quot;:&quot;change&quot;}]]">Remove</button>"#,
///     r#"<button type="button" name="list[items_sort][]" value="new" phx-click="[[&quot;dispatch&quot;,{&quot;event&quot;:&quot;change&quot;}]]">Add</button>"#,
/// ));
/// ```
pub fn sort_input(parent: &Fields<'_>, list: &str, row: &Fields<'_>) -> Rendered {
    let name = format!("{}[{list}_sort][]", parent.name());
    html! { input type="hidden" name=(name) value=(row.index()); }
}

/// A button that adds an empty row to a nested list (`list[items_sort][]=new`).
pub fn add_row_button(parent: &Fields<'_>, list: &str, text: &str, attrs: Attrs<'_>) -> Rendered {
    let name = format!("{}[{list}_sort][]", parent.name());
    html! {
        button type="button" name=(name) value="new" phx-click=(dispatch_change()) ..(attrs) { (text) }
    }
}

/// A button that removes a row (`list[items_drop][]=<index>`, Phoenix 1.2's `drop_param`).
pub fn drop_row_button(
    parent: &Fields<'_>,
    list: &str,
    row: &Fields<'_>,
    text: &str,
    attrs: Attrs<'_>,
) -> Rendered {
    let name = format!("{}[{list}_drop][]", parent.name());
    html! {
        button type="button" name=(name) value=(row.index()) phx-click=(dispatch_change()) ..(attrs) { (text) }
    }
}
