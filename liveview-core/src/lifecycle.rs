//! Lifecycle hooks on a socket (Phoenix: `attach_hook/4`): shared behaviour that runs before
//! a view's `handle_event`, `handle_info`, `handle_params`, or after each render, attached
//! once (in `mount`, or by a helper every view calls) instead of repeated in every callback.

use std::fmt;

use crate::event::ClientEvent;
use crate::socket::Socket;
use crate::view::{LiveView, Params, Url};

/// Whether the view's own callback runs after a hook (Phoenix: `{:cont, socket}` /
/// `{:halt, socket}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookFlow {
    /// Run the next hook, then the view's callback.
    Continue,
    /// Stop here: neither later hooks nor the view's callback run (the turn still renders
    /// and replies).
    Halt,
}

type EventHook<V> = Box<dyn Fn(&mut Socket<V>, &ClientEvent) -> HookFlow + Send + Sync>;
type InfoHook<V> = Box<dyn Fn(&mut Socket<V>, &<V as LiveView>::Info) -> HookFlow + Send + Sync>;
type ParamsHook<V> = Box<dyn Fn(&mut Socket<V>, &Url, &Params) -> HookFlow + Send + Sync>;
type RenderHook<V> = Box<dyn Fn(&mut Socket<V>) + Send + Sync>;

/// A lifecycle hook, for [`Socket::attach_hook`].
///
/// ```
/// use liveview_core::{HookFlow, LifecycleHook};
/// # use liveview_core::{html, LiveView, Meta, Rendered};
/// # #[derive(Default)] struct Page;
/// # impl LiveView for Page { type State = u32; type Event = (); type Info = ();
/// #   fn render(&self, _: &u32, _: &Meta<'_>) -> Rendered { html! {} } }
/// // Counts every event the page receives, whatever the view does with it.
/// let hook = LifecycleHook::<Page>::handle_event(|socket, _event| {
///     socket.assign(|count| *count += 1);
///     HookFlow::Continue
/// });
/// assert_eq!(hook.stage(), "handle_event");
/// ```
pub enum LifecycleHook<V: LiveView> {
    /// Before `handle_event`, with the event as the client sent it (name and value).
    HandleEvent(EventHook<V>),
    /// Before `handle_info`.
    HandleInfo(InfoHook<V>),
    /// Before `handle_params` (after mount, on every patch).
    HandleParams(ParamsHook<V>),
    /// After every render of the connected view.
    AfterRender(RenderHook<V>),
}

impl<V: LiveView> LifecycleHook<V> {
    /// A [`LifecycleHook::HandleEvent`] hook.
    pub fn handle_event(
        hook: impl Fn(&mut Socket<V>, &ClientEvent) -> HookFlow + Send + Sync + 'static,
    ) -> Self {
        Self::HandleEvent(Box::new(hook))
    }

    /// A [`LifecycleHook::HandleInfo`] hook.
    pub fn handle_info(
        hook: impl Fn(&mut Socket<V>, &V::Info) -> HookFlow + Send + Sync + 'static,
    ) -> Self {
        Self::HandleInfo(Box::new(hook))
    }

    /// A [`LifecycleHook::HandleParams`] hook.
    pub fn handle_params(
        hook: impl Fn(&mut Socket<V>, &Url, &Params) -> HookFlow + Send + Sync + 'static,
    ) -> Self {
        Self::HandleParams(Box::new(hook))
    }

    /// A [`LifecycleHook::AfterRender`] hook.
    pub fn after_render(hook: impl Fn(&mut Socket<V>) + Send + Sync + 'static) -> Self {
        Self::AfterRender(Box::new(hook))
    }

    /// The stage's name (`handle_event`, `handle_info`, `handle_params`, `after_render`).
    pub fn stage(&self) -> &'static str {
        match self {
            Self::HandleEvent(_) => "handle_event",
            Self::HandleInfo(_) => "handle_info",
            Self::HandleParams(_) => "handle_params",
            Self::AfterRender(_) => "after_render",
        }
    }
}

impl<V: LiveView> fmt::Debug for LifecycleHook<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stage())
    }
}

/// A socket's hooks, in attach order.
pub(crate) struct LifecycleHooks<V: LiveView>(Vec<(String, LifecycleHook<V>)>);

impl<V: LiveView> Default for LifecycleHooks<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V: LiveView> Socket<V> {
    /// Attaches a lifecycle hook named `name` (Phoenix: `attach_hook(socket, name, stage,
    /// fun)`); it runs in attach order before the view's callback of its stage. A hook with
    /// the same name and stage is replaced. Name the view type (`LifecycleHook::<Self>::…`)
    /// when the closure's argument types cannot be inferred.
    ///
    /// ```
    /// # use liveview_core::{html, HookFlow, LifecycleHook, LiveView, Meta, Params, Rendered, Session, Socket, ViewResult};
    /// # use liveview_core::Url;
    /// # #[derive(Default)] struct Tabs;
    /// impl LiveView for Tabs {
    ///     type State = String; type Event = (); type Info = ();
    ///     async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
    ///         // The active tab follows the URL on every patch.
    ///         socket.attach_hook("active-tab", LifecycleHook::<Self>::handle_params(|socket, url: &Url, _| {
    ///             let tab = url.path().to_owned();
    ///             socket.assign(|active| *active = tab);
    ///             HookFlow::Continue
    ///         }));
    ///         Ok(())
    ///     }
    ///     fn render(&self, tab: &String, _: &Meta<'_>) -> Rendered { html! { (tab) } }
    /// }
    /// ```
    pub fn attach_hook(&mut self, name: impl Into<String>, hook: LifecycleHook<V>) {
        let name = name.into();
        let hooks = &mut self.extras.hooks.0;
        hooks.retain(|(known, old)| !(*known == name && old.stage() == hook.stage()));
        hooks.push((name, hook));
    }

    /// Detaches the hooks named `name` (Phoenix: `detach_hook`); whether there was one.
    ///
    /// ```
    /// # use liveview_core::{html, HookFlow, LifecycleHook, LiveView, Meta, Rendered, Socket};
    /// # #[derive(Default)] struct Page;
    /// # impl LiveView for Page { type State = (); type Event = (); type Info = ();
    /// #   fn render(&self, _: &(), _: &Meta<'_>) -> Rendered { html! {} } }
    /// fn stop_tracking(socket: &mut Socket<Page>) -> bool {
    ///     socket.detach_hook("analytics")
    /// }
    /// ```
    pub fn detach_hook(&mut self, name: &str) -> bool {
        let hooks = &mut self.extras.hooks.0;
        let before = hooks.len();
        hooks.retain(|(known, _)| known != name);
        hooks.len() != before
    }

    /// Runs the hooks of one stage; hooks attached or detached while they run apply from the
    /// next turn.
    fn run_hooks(
        &mut self,
        mut run: impl FnMut(&LifecycleHook<V>, &mut Self) -> HookFlow,
    ) -> HookFlow {
        if self.extras.hooks.0.is_empty() {
            return HookFlow::Continue;
        }
        let hooks = std::mem::take(&mut self.extras.hooks.0);
        let mut flow = HookFlow::Continue;
        for (_, hook) in &hooks {
            if run(hook, self) == HookFlow::Halt {
                flow = HookFlow::Halt;
                break;
            }
        }
        let attached = std::mem::replace(&mut self.extras.hooks.0, hooks);
        for (name, hook) in attached {
            self.attach_hook(name, hook);
        }
        flow
    }

    pub(crate) fn event_hooks(&mut self, event: &ClientEvent) -> HookFlow {
        self.run_hooks(|hook, socket| match hook {
            LifecycleHook::HandleEvent(hook) => hook(socket, event),
            _ => HookFlow::Continue,
        })
    }

    pub(crate) fn info_hooks(&mut self, info: &V::Info) -> HookFlow {
        self.run_hooks(|hook, socket| match hook {
            LifecycleHook::HandleInfo(hook) => hook(socket, info),
            _ => HookFlow::Continue,
        })
    }

    pub(crate) fn params_hooks(&mut self, url: &Url, params: &Params) -> HookFlow {
        self.run_hooks(|hook, socket| match hook {
            LifecycleHook::HandleParams(hook) => hook(socket, url, params),
            _ => HookFlow::Continue,
        })
    }

    pub(crate) fn render_hooks(&mut self) {
        self.run_hooks(|hook, socket| {
            if let LifecycleHook::AfterRender(hook) = hook {
                hook(socket);
            }
            HookFlow::Continue
        });
    }
}

/// Runs `handle_params` behind its hooks.
pub(crate) async fn handle_params<V: LiveView>(
    view: &V,
    socket: &mut Socket<V>,
    url: &Url,
    params: &Params,
) -> crate::view::ViewResult {
    if socket.params_hooks(url, params) == HookFlow::Halt {
        return Ok(());
    }
    view.handle_params(socket, url, params).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Meta;
    use liveview_diff::{html, Rendered};

    #[derive(Default)]
    struct Page;

    impl LiveView for Page {
        type State = Vec<&'static str>;
        type Event = ();
        type Info = ();

        fn render(&self, _: &Self::State, _: &Meta<'_>) -> Rendered {
            html! {}
        }
    }

    fn event(name: &str) -> ClientEvent {
        ClientEvent::from_payload(&format!(
            r#"{{"type":"click","event":"{name}","value":{{}}}}"#
        ))
        .unwrap()
    }

    fn socket() -> Socket<Page> {
        Socket::new("phx-1".into(), true, None, None)
    }

    #[test]
    fn hooks_run_in_order_a_halt_stops_the_rest_and_names_replace() {
        let mut socket = socket();
        let push = |label: &'static str, flow| {
            LifecycleHook::<Page>::handle_event(move |socket, _| {
                socket.assign(|seen| seen.push(label));
                flow
            })
        };
        socket.attach_hook("a", push("a", HookFlow::Continue));
        socket.attach_hook("b", push("b", HookFlow::Halt));
        socket.attach_hook("c", push("c", HookFlow::Continue));
        assert_eq!(socket.event_hooks(&event("x")), HookFlow::Halt);
        assert_eq!(socket.context(), &["a", "b"]);
        // Same name and stage: replaced (and moved last); another stage's hook stays.
        socket.attach_hook("b", push("b2", HookFlow::Continue));
        socket.attach_hook(
            "b",
            LifecycleHook::<Page>::after_render(|socket| socket.assign(|seen| seen.push("render"))),
        );
        socket.assign(Vec::clear);
        assert_eq!(socket.event_hooks(&event("x")), HookFlow::Continue);
        assert_eq!(socket.context(), &["a", "c", "b2"]);
        socket.render_hooks();
        assert_eq!(socket.context().last(), Some(&"render"));
        // Detaching removes every stage of the name.
        assert!(socket.detach_hook("b"));
        assert!(!socket.detach_hook("b"));
        socket.assign(Vec::clear);
        socket.render_hooks();
        assert_eq!(socket.event_hooks(&event("x")), HookFlow::Continue);
        assert_eq!(socket.context(), &["a", "c"]);
    }

    #[test]
    fn a_hook_attached_while_hooks_run_applies_from_the_next_turn() {
        let mut socket = socket();
        socket.attach_hook(
            "attacher",
            LifecycleHook::<Page>::handle_event(|socket, _| {
                socket.assign(|seen| seen.push("attacher"));
                socket.attach_hook(
                    "late",
                    LifecycleHook::<Page>::handle_event(|socket, _| {
                        socket.assign(|seen| seen.push("late"));
                        HookFlow::Continue
                    }),
                );
                HookFlow::Continue
            }),
        );
        socket.event_hooks(&event("x"));
        assert_eq!(socket.context(), &["attacher"]);
        socket.event_hooks(&event("x"));
        assert_eq!(socket.context(), &["attacher", "attacher", "late"]);
    }
}
