//! JS commands (Phoenix's `Phoenix.LiveView.JS`): client-side DOM operations, written on any
//! `phx-*` binding and run by the 1.2 client without a round trip (`push` excepted).
//!
//! [`JS`] starts a chain, [`JsCommands`] continues it; the chain renders, inside `html!`, as
//! the attribute JSON the client's `js.js` executes (`[["show",{"to":"#modal"}],…]`), escaped
//! like any attribute value.
//!
//! ```
//! use liveview_core::html;
//! use liveview_core::js::{Target, Transition, JS};
//!
//! let open = JS::show("#modal").add_class("modal-open", "body").focus_first("#modal");
//! let close = JS::push("close").hide_with(
//!     "#modal",
//!     liveview_core::js::VisibilityOpts {
//!         transition: Some(Transition::new("fade-out", "opacity-100", "opacity-0")),
//!         time: Some(150),
//!         ..Default::default()
//!     },
//! );
//! let page = html! {
//!     button phx-click=(&open) { "Open" }
//!     div #modal { button phx-click=(&close) { "Close" } }
//!     button phx-click=(JS::toggle_class("active", Target::This)) { "Toggle me" }
//! };
//! let html = page.to_html();
//! assert!(html.contains(r#"phx-click="[[&quot;show&quot;,{&quot;to&quot;:&quot;#modal&quot;}],"#));
//! assert_eq!(
//!     close.to_string(),
//!     r##"[["push",{"event":"close"}],["hide",{"time":150,"to":"#modal","transition":[["fade-out"],["opacity-100"],["opacity-0"]]}]]"##
//! );
//! ```
//!
//! The client's whole command set (`exec_*` in `phoenix_live_view/assets/js/phoenix_live_view/js.js`)
//! is covered: `show`, `hide`, `toggle`, `add_class`, `remove_class`, `toggle_class`,
//! `transition`, `set_attr`, `remove_attr`, `toggle_attr`, `ignore_attrs`, `dispatch`, `push`,
//! `navigate`, `patch`, `focus`, `focus_first`, `push_focus`, `pop_focus`, `exec`.

use std::fmt;

use liveview_diff::{Dynamic, IntoDynamic};
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

mod options;

pub use options::{
    ClassOpts, DispatchOpts, PushOpts, PushTarget, Target, ToggleOpts, Transition, VisibilityOpts,
};

/// A chain of JS commands, rendered as the JSON the client executes. Start one with [`JS`];
/// chain more with its methods (they have the names of `JS`'s functions). Empty chains render
/// as `[]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsCommands {
    ops: Vec<(&'static str, Map<String, Value>)>,
}

/// The start of a chain of JS commands (Phoenix's `JS` module): `JS::push("x").hide("#modal")`.
/// Every function here starts a [`JsCommands`], whose methods of the same names continue it.
#[derive(Debug, Clone, Copy)]
pub struct JS;

fn args() -> Map<String, Value> {
    Map::new()
}

fn names(classes: &str) -> Value {
    json!(classes.split_whitespace().collect::<Vec<_>>())
}

fn put_timing(
    args: &mut Map<String, Value>,
    transition: Option<&Transition>,
    time: Option<u32>,
    blocking: Option<bool>,
) {
    if let Some(transition) = transition {
        args.insert("transition".into(), transition.json());
    }
    if let Some(time) = time {
        args.insert("time".into(), json!(time));
    }
    if let Some(blocking) = blocking {
        args.insert("blocking".into(), json!(blocking));
    }
}

impl JsCommands {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the chain has no command.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The commands of `other` after these (Phoenix: piping two chains).
    pub fn then(mut self, other: JsCommands) -> Self {
        self.ops.extend(other.ops);
        self
    }

    fn op(mut self, kind: &'static str, args: Map<String, Value>) -> Self {
        self.ops.push((kind, args));
        self
    }

    fn targeted(self, kind: &'static str, to: Target, mut args: Map<String, Value>) -> Self {
        to.put(&mut args);
        self.op(kind, args)
    }

    /// Shows the target (`JS.show`).
    pub fn show(self, to: impl Into<Target>) -> Self {
        self.show_with(to, VisibilityOpts::default())
    }

    /// Shows the target with a display, a transition, a time (`JS.show`).
    pub fn show_with(self, to: impl Into<Target>, opts: VisibilityOpts) -> Self {
        self.visibility("show", to.into(), opts)
    }

    /// Hides the target (`JS.hide`).
    pub fn hide(self, to: impl Into<Target>) -> Self {
        self.hide_with(to, VisibilityOpts::default())
    }

    /// Hides the target with a transition, a time (`JS.hide`).
    pub fn hide_with(self, to: impl Into<Target>, opts: VisibilityOpts) -> Self {
        self.visibility("hide", to.into(), opts)
    }

    fn visibility(self, kind: &'static str, to: Target, opts: VisibilityOpts) -> Self {
        let mut args = args();
        to.put(&mut args);
        if let Some(display) = opts.display {
            args.insert("display".into(), json!(display));
        }
        put_timing(
            &mut args,
            opts.transition.as_ref(),
            opts.time,
            opts.blocking,
        );
        self.op(kind, args)
    }

    /// Shows the target if hidden, else hides it (`JS.toggle`).
    pub fn toggle(self, to: impl Into<Target>) -> Self {
        self.toggle_with(to, ToggleOpts::default())
    }

    /// `toggle` with in and out transitions (`JS.toggle`).
    pub fn toggle_with(self, to: impl Into<Target>, opts: ToggleOpts) -> Self {
        let mut args = args();
        to.into().put(&mut args);
        if let Some(display) = opts.display {
            args.insert("display".into(), json!(display));
        }
        if let Some(ins) = &opts.ins {
            args.insert("ins".into(), ins.json());
        }
        if let Some(outs) = &opts.outs {
            args.insert("outs".into(), outs.json());
        }
        put_timing(&mut args, None, opts.time, opts.blocking);
        self.op("toggle", args)
    }

    fn classes(self, kind: &'static str, classes: &str, to: Target, opts: ClassOpts) -> Self {
        let mut args = args();
        args.insert("names".into(), names(classes));
        to.put(&mut args);
        put_timing(
            &mut args,
            opts.transition.as_ref(),
            opts.time,
            opts.blocking,
        );
        self.op(kind, args)
    }

    /// Adds the space-separated `classes` to the target (`JS.add_class`).
    pub fn add_class(self, classes: &str, to: impl Into<Target>) -> Self {
        self.classes("add_class", classes, to.into(), ClassOpts::default())
    }

    /// `add_class` with a transition (`JS.add_class`).
    pub fn add_class_with(self, classes: &str, to: impl Into<Target>, opts: ClassOpts) -> Self {
        self.classes("add_class", classes, to.into(), opts)
    }

    /// Removes the space-separated `classes` from the target (`JS.remove_class`).
    pub fn remove_class(self, classes: &str, to: impl Into<Target>) -> Self {
        self.classes("remove_class", classes, to.into(), ClassOpts::default())
    }

    /// `remove_class` with a transition (`JS.remove_class`).
    pub fn remove_class_with(self, classes: &str, to: impl Into<Target>, opts: ClassOpts) -> Self {
        self.classes("remove_class", classes, to.into(), opts)
    }

    /// Adds each of `classes` the target lacks and removes each it has (`JS.toggle_class`).
    pub fn toggle_class(self, classes: &str, to: impl Into<Target>) -> Self {
        self.classes("toggle_class", classes, to.into(), ClassOpts::default())
    }

    /// `toggle_class` with a transition (`JS.toggle_class`).
    pub fn toggle_class_with(self, classes: &str, to: impl Into<Target>, opts: ClassOpts) -> Self {
        self.classes("toggle_class", classes, to.into(), opts)
    }

    /// Runs `transition` on the target (`JS.transition`); `time` in ms (default 200).
    pub fn transition(
        self,
        transition: impl Into<Transition>,
        to: impl Into<Target>,
        time: Option<u32>,
    ) -> Self {
        let opts = ClassOpts {
            transition: Some(transition.into()),
            time,
            blocking: None,
        };
        self.classes_only("transition", to.into(), opts)
    }

    fn classes_only(self, kind: &'static str, to: Target, opts: ClassOpts) -> Self {
        let mut args = args();
        to.put(&mut args);
        put_timing(
            &mut args,
            opts.transition.as_ref(),
            opts.time,
            opts.blocking,
        );
        self.op(kind, args)
    }

    /// Sets attribute `name` to `value` on the target (`JS.set_attribute`, `set_attr`).
    pub fn set_attribute(self, name: &str, value: &str, to: impl Into<Target>) -> Self {
        let mut args = args();
        args.insert("attr".into(), json!([name, value]));
        self.targeted("set_attr", to.into(), args)
    }

    /// Removes attribute `name` from the target (`JS.remove_attribute`, `remove_attr`).
    pub fn remove_attribute(self, name: &str, to: impl Into<Target>) -> Self {
        let mut args = args();
        args.insert("attr".into(), json!(name));
        self.targeted("remove_attr", to.into(), args)
    }

    /// Toggles attribute `name` (`JS.toggle_attribute`, `toggle_attr`): with `other`, between
    /// `value` and `other`; without, between `value` and absent.
    pub fn toggle_attribute(
        self,
        name: &str,
        value: &str,
        other: Option<&str>,
        to: impl Into<Target>,
    ) -> Self {
        let attr = match other {
            Some(other) => json!([name, value, other]),
            None => json!([name, value]),
        };
        let mut args = args();
        args.insert("attr".into(), attr);
        self.targeted("toggle_attr", to.into(), args)
    }

    /// Keeps the client's value of the attributes named (`*` wildcards allowed, e.g.
    /// `open`, `data-*`) across server patches (`JS.ignore_attributes`, `ignore_attrs`).
    pub fn ignore_attributes(self, names: &[&str], to: impl Into<Target>) -> Self {
        let mut args = args();
        args.insert("attrs".into(), json!(names));
        self.targeted("ignore_attrs", to.into(), args)
    }

    /// Dispatches DOM event `event` on the target (`JS.dispatch`).
    pub fn dispatch(self, event: &str, to: impl Into<Target>) -> Self {
        self.dispatch_with(event, to, DispatchOpts::default())
    }

    /// `dispatch` with a detail, bubbling and blocking (`JS.dispatch`).
    pub fn dispatch_with(self, event: &str, to: impl Into<Target>, opts: DispatchOpts) -> Self {
        let mut args = args();
        args.insert("event".into(), json!(event));
        if let Some(detail) = opts.detail {
            args.insert("detail".into(), detail);
        }
        if let Some(bubbles) = opts.bubbles {
            args.insert("bubbles".into(), json!(bubbles));
        }
        if let Some(blocking) = opts.blocking {
            args.insert("blocking".into(), json!(blocking));
        }
        self.targeted("dispatch", to.into(), args)
    }

    /// Sends event `event` to the server, as the binding would (`JS.push`).
    pub fn push(self, event: &str) -> Self {
        self.push_with(event, PushOpts::default())
    }

    /// `push` with a target, loading elements and extra values (`JS.push`).
    pub fn push_with(self, event: &str, opts: PushOpts) -> Self {
        let mut args = args();
        args.insert("event".into(), json!(event));
        match opts.target {
            Some(PushTarget::Component(cid)) => {
                args.insert("target".into(), json!(cid));
            }
            Some(PushTarget::Selector(selector)) => {
                args.insert("target".into(), json!(selector));
            }
            None => {}
        }
        if let Some(loading) = opts.loading {
            args.insert("loading".into(), json!(loading));
        }
        if opts.page_loading {
            args.insert("page_loading".into(), json!(true));
        }
        if let Some(value) = opts.value {
            args.insert("value".into(), value);
        }
        self.op("push", args)
    }

    /// Navigates to `href`, mounting its view over the same socket (`JS.navigate`).
    pub fn navigate(self, href: &str) -> Self {
        self.navigation("navigate", href, false)
    }

    /// `navigate`, replacing the browser history entry (`JS.navigate(href, replace: true)`).
    pub fn navigate_replace(self, href: &str) -> Self {
        self.navigation("navigate", href, true)
    }

    /// Patches the current view to `href`: `handle_params` runs (`JS.patch`).
    pub fn patch(self, href: &str) -> Self {
        self.navigation("patch", href, false)
    }

    /// `patch`, replacing the browser history entry (`JS.patch(href, replace: true)`).
    pub fn patch_replace(self, href: &str) -> Self {
        self.navigation("patch", href, true)
    }

    fn navigation(self, kind: &'static str, href: &str, replace: bool) -> Self {
        let mut args = args();
        args.insert("href".into(), json!(href));
        if replace {
            args.insert("replace".into(), json!(true));
        }
        self.op(kind, args)
    }

    /// Focuses the target (`JS.focus`).
    pub fn focus(self, to: impl Into<Target>) -> Self {
        self.targeted("focus", to.into(), args())
    }

    /// Focuses the first focusable element inside the target (`JS.focus_first`).
    pub fn focus_first(self, to: impl Into<Target>) -> Self {
        self.targeted("focus_first", to.into(), args())
    }

    /// Remembers the target (or the focused element, with [`Target::This`]) to focus again
    /// with `pop_focus` (`JS.push_focus`).
    pub fn push_focus(self, to: impl Into<Target>) -> Self {
        self.targeted("push_focus", to.into(), args())
    }

    /// Focuses the element `push_focus` remembered last (`JS.pop_focus`).
    pub fn pop_focus(self) -> Self {
        self.op("pop_focus", args())
    }

    /// Runs the commands in attribute `attr` of the target (`JS.exec`), e.g. a modal's
    /// `data-cancel`.
    pub fn exec(self, attr: &str, to: impl Into<Target>) -> Self {
        let mut args = args();
        args.insert("attr".into(), json!(attr));
        self.targeted("exec", to.into(), args)
    }
}

macro_rules! starters {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*); )*) => {
        impl JS {
            $(
                $(#[$doc])*
                pub fn $name($($arg: $ty),*) -> JsCommands {
                    JsCommands::new().$name($($arg),*)
                }
            )*
        }
    };
}

starters! {
    /// A chain starting with [`JsCommands::show`].
    fn show(to: impl Into<Target>);
    /// A chain starting with [`JsCommands::show_with`].
    fn show_with(to: impl Into<Target>, opts: VisibilityOpts);
    /// A chain starting with [`JsCommands::hide`].
    fn hide(to: impl Into<Target>);
    /// A chain starting with [`JsCommands::hide_with`].
    fn hide_with(to: impl Into<Target>, opts: VisibilityOpts);
    /// A chain starting with [`JsCommands::toggle`].
    fn toggle(to: impl Into<Target>);
    /// A chain starting with [`JsCommands::toggle_with`].
    fn toggle_with(to: impl Into<Target>, opts: ToggleOpts);
    /// A chain starting with [`JsCommands::add_class`].
    fn add_class(classes: &str, to: impl Into<Target>);
    /// A chain starting with [`JsCommands::add_class_with`].
    fn add_class_with(classes: &str, to: impl Into<Target>, opts: ClassOpts);
    /// A chain starting with [`JsCommands::remove_class`].
    fn remove_class(classes: &str, to: impl Into<Target>);
    /// A chain starting with [`JsCommands::remove_class_with`].
    fn remove_class_with(classes: &str, to: impl Into<Target>, opts: ClassOpts);
    /// A chain starting with [`JsCommands::toggle_class`].
    fn toggle_class(classes: &str, to: impl Into<Target>);
    /// A chain starting with [`JsCommands::toggle_class_with`].
    fn toggle_class_with(classes: &str, to: impl Into<Target>, opts: ClassOpts);
    /// A chain starting with [`JsCommands::transition`].
    fn transition(transition: impl Into<Transition>, to: impl Into<Target>, time: Option<u32>);
    /// A chain starting with [`JsCommands::set_attribute`].
    fn set_attribute(name: &str, value: &str, to: impl Into<Target>);
    /// A chain starting with [`JsCommands::remove_attribute`].
    fn remove_attribute(name: &str, to: impl Into<Target>);
    /// A chain starting with [`JsCommands::toggle_attribute`].
    fn toggle_attribute(name: &str, value: &str, other: Option<&str>, to: impl Into<Target>);
    /// A chain starting with [`JsCommands::ignore_attributes`].
    fn ignore_attributes(names: &[&str], to: impl Into<Target>);
    /// A chain starting with [`JsCommands::dispatch`].
    fn dispatch(event: &str, to: impl Into<Target>);
    /// A chain starting with [`JsCommands::dispatch_with`].
    fn dispatch_with(event: &str, to: impl Into<Target>, opts: DispatchOpts);
    /// A chain starting with [`JsCommands::push`].
    fn push(event: &str);
    /// A chain starting with [`JsCommands::push_with`].
    fn push_with(event: &str, opts: PushOpts);
    /// A chain starting with [`JsCommands::navigate`].
    fn navigate(href: &str);
    /// A chain starting with [`JsCommands::navigate_replace`].
    fn navigate_replace(href: &str);
    /// A chain starting with [`JsCommands::patch`].
    fn patch(href: &str);
    /// A chain starting with [`JsCommands::patch_replace`].
    fn patch_replace(href: &str);
    /// A chain starting with [`JsCommands::focus`].
    fn focus(to: impl Into<Target>);
    /// A chain starting with [`JsCommands::focus_first`].
    fn focus_first(to: impl Into<Target>);
    /// A chain starting with [`JsCommands::push_focus`].
    fn push_focus(to: impl Into<Target>);
    /// A chain starting with [`JsCommands::pop_focus`].
    fn pop_focus();
    /// A chain starting with [`JsCommands::exec`].
    fn exec(attr: &str, to: impl Into<Target>);
}

impl Serialize for JsCommands {
    /// As the client reads it: `[[kind, args], …]` (for `push_event` payloads a hook passes
    /// to `liveSocket.execJS`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.ops.len()))?;
        for (kind, args) in &self.ops {
            seq.serialize_element(&(kind, args))?;
        }
        seq.end()
    }
}

impl fmt::Display for JsCommands {
    /// The JSON the client executes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

/// As an attribute value in `html!` (`phx-click=(JS::push("x"))`): the JSON, escaped.
impl liveview_diff::AttrValue for JsCommands {
    fn write_attr(self, name: &str, out: &mut String) {
        self.to_string().write_attr(name, out);
    }
}

impl liveview_diff::AttrValue for &JsCommands {
    fn write_attr(self, name: &str, out: &mut String) {
        self.to_string().write_attr(name, out);
    }
}

impl IntoDynamic for JsCommands {
    fn into_dynamic(self) -> Dynamic {
        self.to_string().into_dynamic()
    }
}

impl IntoDynamic for &JsCommands {
    fn into_dynamic(self) -> Dynamic {
        self.to_string().into_dynamic()
    }
}

impl From<JS> for JsCommands {
    fn from(_: JS) -> Self {
        JsCommands::new()
    }
}

#[cfg(test)]
mod tests;
