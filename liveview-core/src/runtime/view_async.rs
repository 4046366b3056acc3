//! The turns a view runs for work that comes from inside the server rather than from the
//! client: its finished async tasks, and its components' async results and `send_update`s.
//! Each re-renders only what changed: a component's turn sends that component's diff alone.

use super::view_task::{Crash, Flow, ViewTask};
use crate::async_task::{AsyncDone, Finished};
use crate::catch::{callback, catch, catch_sync};
use crate::component::{flush, render_component, Cid};
use crate::sender::ComponentMsg;
use crate::untrusted::Untrusted;
use crate::view::LiveView;

impl<V: LiveView> ViewTask<V> {
    /// A finished `assign_async`/`start_async` task of the view.
    pub(super) async fn on_async(&mut self, done: AsyncDone) -> Result<Flow, Crash> {
        match self.socket.finish_async(done) {
            Finished::Stale => return Ok(Flow::Continue),
            Finished::Assigned => {}
            Finished::Started(name, result) => {
                callback(self.view.handle_async(&mut self.socket, &name, result))
                    .await
                    .map_err(|message| {
                        Crash(format!("handle_async({}): {message}", Untrusted(&name)))
                    })?;
            }
        }
        self.finish_turn(None, None).await
    }

    /// A finished task of a component, or a `send_update`: only that component runs and
    /// re-renders.
    pub(super) async fn on_component_msg(&mut self, msg: ComponentMsg) -> Result<Flow, Crash> {
        let cid = match &msg {
            ComponentMsg::Async { cid, .. } => Some(*cid),
            ComponentMsg::Update {
                type_id,
                type_name,
                id,
                ..
            } => {
                let cid = self.components.borrow().cid_of(*type_id, id);
                if cid.is_none() {
                    tracing::warn!(component = type_name, id = %Untrusted(id), "send_update to a component that is not rendered: ignored");
                }
                cid
            }
        };
        let Some(cid) = cid else {
            return Ok(Flow::Continue);
        };
        let Some(mut instance) = self.components.borrow_mut().take_instance(cid) else {
            // Destroyed since: its task's result or update has nowhere to go.
            return Ok(Flow::Continue);
        };
        let outcome = match msg {
            ComponentMsg::Async { done, .. } => match instance.finish_async(done) {
                None => Ok(Ok(())),
                Some(run) => catch(run).await,
            },
            ComponentMsg::Update {
                props, type_name, ..
            } => catch_sync(|| {
                if !instance.update_any(props) {
                    tracing::warn!(
                        component = type_name,
                        "send_update with props of another type: ignored"
                    );
                }
                Ok(())
            }),
        };
        let changed = instance.changed();
        self.components.borrow_mut().put_instance(cid, instance);
        let result = match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(panic) => Err(panic),
        };
        if let Err(message) = result {
            return Err(Crash(format!("component {cid}: {message}")));
        }
        if changed {
            self.rerender_component(cid)?;
        }
        self.finish_turn(None, None).await
    }

    /// Renders component `cid` and the components it references; the turn's reply carries
    /// their diffs.
    pub(super) fn rerender_component(&mut self, cid: Cid) -> Result<(), Crash> {
        let meta = self.meta();
        let registry = &self.components;
        catch_sync(|| {
            render_component(registry, cid, &meta);
            flush(registry, &meta);
        })
        .map_err(Crash)
    }

    /// Carries out the navigation and flash components asked for in this turn.
    pub(super) fn take_component_requests(&mut self) {
        let (navigation, flash) = {
            let mut registry = self.components.borrow_mut();
            (
                registry.navigation.take(),
                std::mem::take(&mut registry.flash),
            )
        };
        for (key, message) in flash {
            self.socket.put_flash(key, message);
        }
        if let Some(navigation) = navigation {
            self.socket.set_navigation(navigation);
        }
    }
}
