//! [`LiveViewTest`]'s navigation: patches and redirects the view asked for, followed as the
//! browser's client follows them, and the client's own live patches and navigations.

use serde_json::{json, Value};

use super::{path_of, LiveViewTest};
use crate::testing::{Navigation, NavigationKind, TestError, BASE_URL};

impl LiveViewTest {
    /// Takes the next navigation the view asked for (patch, live redirect or redirect).
    pub fn take_navigation(&mut self) -> Option<Navigation> {
        self.navigation.pop_front()
    }

    /// Takes the next `push_patch`, returning where it went (path and query).
    /// Phoenix: `assert_patch(view)`.
    pub fn assert_patch(&mut self) -> Result<String, TestError> {
        self.assert_navigation(&[NavigationKind::Patch])
            .map(|nav| nav.to)
    }

    /// Takes the next `push_redirect` (live) or `redirect` (full page), returning it.
    /// Phoenix: `assert_redirect(view)`.
    pub fn assert_redirect(&mut self) -> Result<Navigation, TestError> {
        self.assert_navigation(&[NavigationKind::LiveRedirect, NavigationKind::Redirect])
    }

    fn assert_navigation(&mut self, kinds: &[NavigationKind]) -> Result<Navigation, TestError> {
        match self.navigation.front() {
            Some(nav) if kinds.contains(&nav.kind) => {
                Ok(self.navigation.pop_front().expect("front"))
            }
            Some(nav) => Err(TestError::Assertion(format!(
                "expected a {kinds:?}, the view did {nav:?}"
            ))),
            None => Err(TestError::Assertion(format!(
                "expected a {kinds:?}, the view did not navigate"
            ))),
        }
    }

    /// Follows `navigation` as the client would: a live redirect leaves this view and joins
    /// the target on the same socket (the same container, as live navigation does); a full
    /// redirect loads the target page afresh (dead render and join, carrying the flash).
    pub async fn follow(&mut self, navigation: Navigation) -> Result<(), TestError> {
        match navigation.kind {
            NavigationKind::Patch => self.patch(&navigation.to).await,
            NavigationKind::LiveRedirect => {
                self.navigate_with(path_of(&navigation.to), navigation.flash_token)
                    .await
            }
            NavigationKind::Redirect => {
                let fresh = self
                    .options
                    .clone()
                    .mount_with_flash(
                        &self.endpoint,
                        path_of(&navigation.to),
                        navigation.flash_token.as_deref(),
                    )
                    .await?;
                *self = fresh;
                Ok(())
            }
        }
    }

    /// Takes the next redirect (live or full) and follows it. Phoenix: `follow_redirect`.
    pub async fn follow_redirect(&mut self) -> Result<Navigation, TestError> {
        let navigation = self.assert_redirect()?;
        self.follow(navigation.clone()).await?;
        Ok(navigation)
    }

    /// A live patch from the client (a `data-phx-link="patch"` link or back/forward within
    /// the view): `handle_params` runs with the new URL. When the server answers that the URL
    /// belongs to another view, the client navigates there, and so does this.
    /// Phoenix: `render_patch`.
    pub async fn patch(&mut self, path: &str) -> Result<(), TestError> {
        let url = format!("{BASE_URL}{path}");
        let response = self.request("live_patch", json!({"url": url})).await?;
        if response.get("link_redirect").and_then(Value::as_bool) == Some(true) {
            return self.navigate(path).await;
        }
        self.url = url;
        Ok(())
    }

    /// A live navigation from the client (a `data-phx-link="redirect"` link): leaves this
    /// view and joins the target in the same container. A target outside the live session
    /// is refused by the server and then loaded as a full page, as the client does.
    pub async fn navigate(&mut self, path: &str) -> Result<(), TestError> {
        self.navigate_with(path, None).await
    }

    async fn navigate_with(&mut self, path: &str, flash: Option<String>) -> Result<(), TestError> {
        self.leave().await?;
        match self
            .join(&format!("{BASE_URL}{path}"), "redirect", flash)
            .await
        {
            Err(TestError::Refused { reason, .. })
                if reason == "unauthorized" || reason == "stale" =>
            {
                let fresh = self.options.clone().mount(&self.endpoint, path).await?;
                *self = fresh;
                Ok(())
            }
            other => other,
        }
    }

    /// Leaves the view (`phx_leave`), as the client does before navigating away.
    pub async fn leave(&mut self) -> Result<(), TestError> {
        if self.ended.is_some() {
            return Ok(());
        }
        self.request("phx_leave", json!({})).await?;
        self.ended = Some("left".into());
        Ok(())
    }
}
