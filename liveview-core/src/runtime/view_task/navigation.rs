//! A view's navigation: live patches from the client (`live_patch`), and the navigation its
//! callbacks asked for (`push_patch`, `push_redirect`, `redirect`). A patch stays in the view
//! for a route of the same view type in the same live session (Phoenix), moving its route
//! and `live_action`; anything else leaves the view.

use std::sync::Arc;

use serde::Deserialize;

use super::{Crash, Flow, ViewTask};
use crate::catch::callback;
use crate::lifecycle;
use crate::protocol::payload::{self, Navigation, NavigationKind};
use crate::runtime::message::Queued;
use crate::runtime::shared::Joinable;
use crate::runtime::transport::send_text;
use crate::socket::Navigation as Requested;
use crate::view::{LiveView, Url};

/// How many `push_patch` calls may chain (each one's `handle_params` patching again) before
/// the view is considered looping and crashed.
const MAX_CHAINED_PATCHES: usize = 20;

impl<V: LiveView> ViewTask<V> {
    pub(super) async fn on_live_patch(
        &mut self,
        msg_ref: Option<String>,
        payload: Queued,
    ) -> Result<Flow, Crash> {
        #[derive(Deserialize)]
        struct Patch {
            url: String,
        }
        let Ok(patch) = serde_json::from_str::<Patch>(payload.get()) else {
            return self
                .refuse(msg_ref.as_deref(), "malformed live_patch", None)
                .await;
        };
        drop(payload);
        let url = Url::parse(&patch.url);
        // A patch stays in this view for a route of the same view in the same live session
        // (Phoenix) and a query that decodes; anything else takes the `link_redirect` path (a
        // new join, or a page load that answers 400).
        let target = self
            .shared
            .routes
            .find_route(url.path())
            .filter(|found| self.patchable(found.pattern, found.view))
            .and_then(|found| {
                let mut params = found.params;
                let query = url
                    .query()
                    .map_or(Ok(()), |query| params.extend_query(query));
                query
                    .is_ok()
                    .then(|| (found.pattern.to_owned(), found.action.cloned(), params))
            });
        let Some((route, action, params)) = target else {
            let reply = payload::link_redirect_reply(self.channel(), msg_ref.as_deref());
            send_text(&*self.out, reply).await;
            return Ok(Flow::Continue);
        };
        self.url = url;
        self.enter_route(route, action);
        self.socket.clear_flash(None);
        callback(lifecycle::handle_params(
            &*self.view,
            &mut self.socket,
            &self.url,
            &params,
        ))
        .await
        .map_err(Crash)?;
        self.finish_turn(msg_ref, None).await
    }

    /// Applies navigation requested by the last callback. Patches run `handle_params` and
    /// are pushed as `live_patch` (or collected into `join_patch` during a join); redirects
    /// are returned (they end the view).
    pub(super) async fn navigate(
        &mut self,
        join_patch: &mut Option<String>,
    ) -> Result<Option<Navigation>, Crash> {
        let mut patches = 0;
        while let Some(requested) = self.socket.take_navigation() {
            let (to, replace) = match requested {
                Requested::Patch { to, replace } => (to, replace),
                Requested::LiveRedirect { to, replace } => {
                    let flash = self.flash_token();
                    let kind = NavigationKind::LiveRedirect;
                    return Ok(Some(Navigation::new(
                        kind,
                        &to,
                        Some(replace),
                        flash.as_deref(),
                    )));
                }
                Requested::Redirect { to } => {
                    let flash = self.flash_token();
                    let kind = NavigationKind::Redirect;
                    return Ok(Some(Navigation::new(kind, &to, None, flash.as_deref())));
                }
            };
            if self.nested {
                return Err(Crash(format!(
                    "push_patch to {to} from a nested view (only the routed view patches the URL)"
                )));
            }
            patches += 1;
            if patches > MAX_CHAINED_PATCHES {
                return Err(Crash(format!(
                    "more than {MAX_CHAINED_PATCHES} chained push_patch calls"
                )));
            }
            let url = Url::parse(&to);
            let Some(found) = self.shared.routes.find_route(url.path()) else {
                return Err(Crash(format!("push_patch to an unrouted path {to}")));
            };
            if !self.patchable(found.pattern, found.view) {
                // Another view: a patch becomes a live redirect.
                self.socket
                    .set_navigation(Requested::LiveRedirect { to, replace });
                continue;
            }
            let (route, action) = (found.pattern.to_owned(), found.action.cloned());
            let mut params = found.params;
            if let Some(query) = url.query() {
                params
                    .extend_query(query)
                    .map_err(|error| Crash(format!("push_patch to {to}: {error}")))?;
            }
            let patch = Navigation::new(NavigationKind::LivePatch, &to, Some(replace), None);
            if self.last.is_none() {
                *join_patch = Some(patch.json().to_owned());
            } else {
                let frame = patch.push(self.channel());
                send_text(&*self.out, frame).await;
            }
            self.url = url;
            self.enter_route(route, action);
            callback(lifecycle::handle_params(
                &*self.view,
                &mut self.socket,
                &self.url,
                &params,
            ))
            .await
            .map_err(Crash)?;
        }
        Ok(None)
    }

    /// Whether a patch to the route `pattern` (serving `view`) stays in this view: its own
    /// route, or another route of the same view type in the same live session (Phoenix).
    fn patchable(&self, pattern: &str, view: &dyn Joinable) -> bool {
        pattern == self.route
            || (view.view_type() == std::any::TypeId::of::<V>()
                && self.shared.routes.same_session(pattern, &self.route))
    }

    /// The view now serves the route `pattern` with its action (a patch moved it).
    fn enter_route(&mut self, pattern: String, action: Option<Arc<str>>) {
        if pattern != self.route {
            self.route = pattern;
            self.socket.extras.live_action = action;
        }
    }

    /// The flash, signed, for the client to carry across a navigation.
    fn flash_token(&self) -> Option<String> {
        let flash = self.socket.flash();
        (!flash.is_empty()).then(|| self.shared.signer.sign_json(flash, 60))
    }
}
