//! Dynamic attributes: a value that decides whether its attribute is rendered at all
//! ([`AttrValue`]), and attribute spreads ([`spread`]).
//!
//! In `html!`, `name=(value)` is one dynamic slot holding the whole attribute (` name="…"`),
//! as HEEx does, so `None` and `false` omit it and `true` renders it bare.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use crate::escape::{escape_into, Raw};
use crate::text::Text;
use crate::tree::Dynamic;

/// A value of a dynamic attribute (`name=(value)` in `html!`).
///
/// Text is escaped and quoted; `None` and `false` omit the attribute; `true` renders it bare
/// (`disabled`), as HEEx does for every attribute. `Some(v)` renders `v`.
///
/// ```
/// use liveview_diff::html;
///
/// let none: Option<&str> = None;
/// assert_eq!(html! { input value=(none) disabled=(true) hidden=(false); }.to_html(), "<input disabled>");
/// assert_eq!(html! { input value=(Some("a\"b")) size=(3); }.to_html(), r#"<input value="a&quot;b" size="3">"#);
/// assert_eq!(html! { input value=(""); }.to_html(), r#"<input value="">"#);
/// ```
pub trait AttrValue {
    /// Appends ` name="value"`, ` name`, or nothing to `out`.
    fn write_attr(self, name: &str, out: &mut String);
}

/// One attribute as a dynamic slot (the code `html!` generates for `name=(value)`).
///
/// ```
/// use liveview_diff::{attr, Dynamic};
/// assert_eq!(attr(" class", "a<b"), Dynamic::raw(r#" class="a&lt;b""#));
/// assert_eq!(attr(" class", None::<&str>), Dynamic::EMPTY);
/// ```
pub fn attr(name: &'static str, value: impl AttrValue) -> Dynamic {
    let mut out = String::new();
    value.write_attr(name.trim_start(), &mut out);
    if out.is_empty() {
        Dynamic::EMPTY
    } else {
        Dynamic::Text(Text::from(out))
    }
}

/// A pair of a spread: `(name, value)`, owned or borrowed.
pub trait AttrPair {
    /// Appends the attribute to `out` (see [`AttrValue`]).
    fn write_pair(self, out: &mut String);
}

impl<K: AsRef<str>, V: AttrValue> AttrPair for (K, V) {
    fn write_pair(self, out: &mut String) {
        if valid_name(self.0.as_ref()) {
            self.1.write_attr(self.0.as_ref(), out);
        }
    }
}

impl<'a, K: AsRef<str>, V> AttrPair for &'a (K, V)
where
    &'a V: AttrValue,
{
    fn write_pair(self, out: &mut String) {
        if valid_name(self.0.as_ref()) {
            (&self.1).write_attr(self.0.as_ref(), out);
        }
    }
}

/// Attribute spread (`..attrs` in `html!`, HEEx's `{@rest}`): renders every pair of a list or
/// map, in order, with [`AttrValue`]'s rules. A name that is not a valid attribute name
/// (letters, digits, `-`, `_`, `:`, `.`, `@`) is skipped, so a spread can never break out of
/// the tag.
///
/// ```
/// use liveview_diff::html;
///
/// let attrs = [("class", Some("wide")), ("placeholder", None), ("bad name", Some("x"))];
/// assert_eq!(html! { input ..(attrs) type="text"; }.to_html(), r#"<input class="wide" type="text">"#);
/// let map = std::collections::BTreeMap::from([("data-id", "7"), ("title", "<hi>")]);
/// assert_eq!(html! { p ..(&map) { "x" } }.to_html(), r#"<p data-id="7" title="&lt;hi&gt;">x</p>"#);
/// ```
pub fn spread<I>(pairs: I) -> Dynamic
where
    I: IntoIterator,
    I::Item: AttrPair,
{
    let mut out = String::new();
    for pair in pairs {
        pair.write_pair(&mut out);
    }
    if out.is_empty() {
        Dynamic::EMPTY
    } else {
        Dynamic::Text(Text::from(out))
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_:.@".contains(&byte))
}

fn write_text(name: &str, value: &str, out: &mut String) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_into(value, out);
    out.push('"');
}

macro_rules! text_values {
    ($($ty:ty),*) => {$(
        impl AttrValue for $ty {
            fn write_attr(self, name: &str, out: &mut String) {
                write_text(name, self.as_ref(), out);
            }
        }
    )*};
}

text_values!(
    &str,
    &&str,
    String,
    &String,
    Cow<'_, str>,
    &Cow<'_, str>,
    Arc<str>,
    &Arc<str>,
    Rc<str>
);

macro_rules! display_values {
    ($($ty:ty),*) => {$(
        impl AttrValue for $ty {
            fn write_attr(self, name: &str, out: &mut String) {
                write_text(name, &self.to_string(), out);
            }
        }
        impl AttrValue for &$ty {
            fn write_attr(self, name: &str, out: &mut String) {
                write_text(name, &self.to_string(), out);
            }
        }
    )*};
}

display_values!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, char);

/// `true` renders the attribute bare, `false` omits it.
impl AttrValue for bool {
    fn write_attr(self, name: &str, out: &mut String) {
        if self {
            out.push(' ');
            out.push_str(name);
        }
    }
}

impl AttrValue for &bool {
    fn write_attr(self, name: &str, out: &mut String) {
        (*self).write_attr(name, out);
    }
}

/// `None` omits the attribute.
impl<T: AttrValue> AttrValue for Option<T> {
    fn write_attr(self, name: &str, out: &mut String) {
        if let Some(value) = self {
            value.write_attr(name, out);
        }
    }
}

impl<'a, T> AttrValue for &'a Option<T>
where
    &'a T: AttrValue,
{
    fn write_attr(self, name: &str, out: &mut String) {
        if let Some(value) = self {
            value.write_attr(name, out);
        }
    }
}

/// Already-escaped text, written as is between the quotes.
impl<T: AsRef<str>> AttrValue for Raw<T> {
    fn write_attr(self, name: &str, out: &mut String) {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        out.push_str(self.0.as_ref());
        out.push('"');
    }
}

/// Text already escaped (as [`IntoDynamic`](crate::IntoDynamic) produces).
impl AttrValue for Text {
    fn write_attr(self, name: &str, out: &mut String) {
        Raw(self.as_str()).write_attr(name, out);
    }
}
