//! Lifecycle hooks on a socket (`Socket::attach_hook`, Phoenix's `attach_hook`) over a real
//! socket: an event hook sees every event before the view and can halt it, a params hook
//! runs before `handle_params`, an info hook before `handle_info`, an after-render hook after
//! each render.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use liveview_core::{
    html, HookFlow, LifecycleHook, LiveView, Meta, Params, Rendered, Router, Session, Socket,
    ViewResult,
};
use serde::Deserialize;
use serde_json::json;
use support::{click, Joined};

#[derive(Default)]
struct Hooked {
    renders: Arc<AtomicU32>,
}

#[derive(Default)]
struct State {
    seen: u32,
    count: u32,
    infos_seen: u32,
    infos: u32,
    path: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Event {
    Inc,
}

impl LiveView for Hooked {
    type State = State;
    type Event = Event;
    type Info = u32;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.attach_hook(
            "seen",
            LifecycleHook::<Self>::handle_event(|socket, event| {
                socket.assign(|state| state.seen += 1);
                // "shortcut" is not an event of the view: the hook takes it.
                if event.name == "shortcut" {
                    HookFlow::Halt
                } else {
                    HookFlow::Continue
                }
            }),
        );
        socket.attach_hook(
            "path",
            LifecycleHook::<Self>::handle_params(|socket, url, _| {
                let path = url.path().to_owned();
                socket.assign(|state| state.path = path);
                HookFlow::Continue
            }),
        );
        socket.attach_hook(
            "infos",
            LifecycleHook::<Self>::handle_info(|socket, info: &u32| {
                socket.assign(|state| state.infos_seen += 1);
                if *info == 0 {
                    HookFlow::Halt
                } else {
                    HookFlow::Continue
                }
            }),
        );
        let renders = self.renders.clone();
        socket.attach_hook(
            "renders",
            LifecycleHook::after_render(move |_| {
                renders.fetch_add(1, Ordering::SeqCst);
            }),
        );
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, Event::Inc: Event) -> ViewResult {
        socket.assign(|state| state.count += 1);
        // Two infos: the hook halts the first (0), lets the second (1) through.
        socket.send_info(0);
        socket.send_info(1);
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: u32) -> ViewResult {
        socket.assign(|state| state.infos += info);
        Ok(())
    }

    fn render(&self, state: &State, _: &Meta<'_>) -> Rendered {
        html! {
            p #state {
                "seen=" (state.seen) " count=" (state.count) " path=" (&state.path)
                " infos_seen=" (state.infos_seen) " infos=" (state.infos)
            }
        }
    }
}

#[tokio::test]
async fn attached_hooks_run_before_the_views_callbacks_and_may_halt() {
    let renders = Arc::new(AtomicU32::new(0));
    let view = Hooked {
        renders: renders.clone(),
    };
    let address = support::start_router(Router::new().live("/hooked", view)).await;
    let mut joined = Joined::open(address, "/hooked").await;
    let text = joined.rendered().to_string();
    assert!(
        text.contains("\"/hooked\""),
        "the params hook ran at mount: {text}"
    );
    assert_eq!(renders.load(Ordering::SeqCst), 1, "after the join's render");

    // A view event: the hook sees it, the view handles it.
    let reply = joined.event(click("inc", json!({"value": ""}))).await;
    let diff = reply["diff"].to_string();
    assert!(diff.contains("\"1\""), "{diff}");
    // The infos arrive as pushes: the hook saw both, the view only the second.
    let mut last = String::new();
    for _ in 0..2 {
        let (event, payload) = joined.pushed().await;
        assert_eq!(event, "diff");
        last = payload.to_string();
    }
    assert!(last.contains("\"2\""), "infos_seen=2: {last}");

    // An event only the hook knows: halted there, the view never decodes it (no "unknown
    // event" refusal), and the turn still renders and replies.
    let reply = joined.event(click("shortcut", json!({"value": ""}))).await;
    assert!(reply.get("reason").is_none(), "{reply}");
    let diff = reply["diff"].to_string();
    assert!(diff.contains("\"2\""), "seen=2: {diff}");
    assert!(
        renders.load(Ordering::SeqCst) >= 4,
        "after-render ran per render"
    );
}
