//! A view's navigation: what `push_patch`, `push_redirect` and `redirect` (of the view or its
//! components) become on the wire after a callback. Patches run `handle_params` in the same
//! turn; redirects end the view.

use super::transport::send_text;
use super::view_task::{Crash, ViewTask, MAX_CHAINED_PATCHES};
use crate::catch::callback;
use crate::protocol::payload::{Navigation, NavigationKind};
use crate::socket::Navigation as Requested;
use crate::view::{LiveView, Url};

impl<V: LiveView> ViewTask<V> {
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
            if found.pattern != self.route {
                // Another view: a patch becomes a live redirect.
                self.socket
                    .set_navigation(Requested::LiveRedirect { to, replace });
                continue;
            }
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
            callback(
                self.view
                    .handle_params(&mut self.socket, &self.url, &params),
            )
            .await
            .map_err(Crash)?;
        }
        Ok(None)
    }

    /// The flash, signed, for the client to carry across a navigation.
    fn flash_token(&self) -> Option<String> {
        let flash = self.socket.flash();
        (!flash.is_empty()).then(|| self.shared.signer.sign_json(flash, 60))
    }
}
