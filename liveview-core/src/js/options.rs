//! What the commands act on and how: targets, transitions and each command's options.

use serde_json::{json, Map, Value};

/// Which elements a command acts on (the command's `to`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The element the binding is on (no `to`).
    This,
    /// Every element matching a CSS selector in the document.
    Selector(String),
    /// The closest ancestor (or the element itself) matching a selector (`{"closest": …}`).
    Closest(String),
    /// The descendants of the element matching a selector (`{"inner": …}`).
    Inner(String),
}

impl Target {
    /// The closest ancestor matching `selector` (Phoenix: `to: {:closest, selector}`).
    pub fn closest(selector: impl Into<String>) -> Self {
        Target::Closest(selector.into())
    }

    /// The descendants matching `selector` (Phoenix: `to: {:inner, selector}`).
    pub fn inner(selector: impl Into<String>) -> Self {
        Target::Inner(selector.into())
    }

    pub(super) fn put(&self, args: &mut Map<String, Value>) {
        let to = match self {
            Target::This => return,
            Target::Selector(selector) => json!(selector),
            Target::Closest(selector) => json!({ "closest": selector }),
            Target::Inner(selector) => json!({ "inner": selector }),
        };
        args.insert("to".into(), to);
    }
}

impl From<&str> for Target {
    fn from(selector: &str) -> Self {
        Target::Selector(selector.to_owned())
    }
}

impl From<String> for Target {
    fn from(selector: String) -> Self {
        Target::Selector(selector)
    }
}

/// A CSS transition: classes applied while it runs, at its start, and at its end (Phoenix's
/// `{"ease-out duration-300", "opacity-0", "opacity-100"}`). Each is a space-separated list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    run: Vec<String>,
    start: Vec<String>,
    end: Vec<String>,
}

impl Transition {
    /// The transition running `run`, from `start` to `end`.
    pub fn new(run: &str, start: &str, end: &str) -> Self {
        let split = |classes: &str| classes.split_whitespace().map(str::to_owned).collect();
        Self {
            run: split(run),
            start: split(start),
            end: split(end),
        }
    }

    pub(super) fn json(&self) -> Value {
        json!([self.run, self.start, self.end])
    }
}

impl From<&str> for Transition {
    /// Only the classes applied while it runs.
    fn from(run: &str) -> Self {
        Transition::new(run, "", "")
    }
}

/// Options of `show` and `hide`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisibilityOpts {
    /// The CSS `display` when shown (default `block`, `table-row` for a `tr`).
    pub display: Option<String>,
    /// A transition to run.
    pub transition: Option<Transition>,
    /// The transition's duration in ms (the client's default: 200).
    pub time: Option<u32>,
    /// `Some(false)`: do not block other patches while it runs.
    pub blocking: Option<bool>,
}

/// Options of `toggle`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToggleOpts {
    /// The CSS `display` when shown.
    pub display: Option<String>,
    /// The transition when it is shown.
    pub ins: Option<Transition>,
    /// The transition when it is hidden.
    pub outs: Option<Transition>,
    /// The transitions' duration in ms.
    pub time: Option<u32>,
    /// `Some(false)`: do not block other patches while it runs.
    pub blocking: Option<bool>,
}

/// Options of the class commands and of `transition`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassOpts {
    /// A transition to run (for `transition`, use the command's own argument).
    pub transition: Option<Transition>,
    /// The transition's duration in ms.
    pub time: Option<u32>,
    /// `Some(false)`: do not block other patches while it runs.
    pub blocking: Option<bool>,
}

/// Where `push` sends its event (`phx-target`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushTarget {
    /// A live component, by cid (`meta.myself()`).
    Component(u32),
    /// The view or component containing the element matching a selector.
    Selector(String),
}

/// Options of `push`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PushOpts {
    /// Where the event goes (default: the element's `phx-target`, else the view).
    pub target: Option<PushTarget>,
    /// Elements (a selector) that get the loading classes while the event is pending.
    pub loading: Option<String>,
    /// Show the page loading indicator while the event is pending.
    pub page_loading: bool,
    /// Extra values merged into the event's value (a JSON object).
    pub value: Option<Value>,
}

/// Options of `dispatch`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DispatchOpts {
    /// The event's `detail` (a JSON object; the client adds `dispatcher`).
    pub detail: Option<Value>,
    /// `Some(false)`: the event does not bubble (the client's default: it does).
    pub bubbles: Option<bool>,
    /// `Some(true)`: block patches until a listener calls `event.detail.done()`.
    pub blocking: Option<bool>,
}
