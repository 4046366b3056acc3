//! [`LiveViewTest`] and what comes from the server side: waiting for pushes, infos sent to
//! the view, its async work, and the nested views on its page.

use std::collections::VecDeque;
use std::time::Duration;

use liveview_diff::client::ClientTree;
use scraper::Html;
use serde_json::json;

use super::{DeadPage, LiveViewTest, Nested};
use crate::testing::{dom, TestError};

impl LiveViewTest {
    /// Waits (up to the timeout) until `done` holds for the view, applying the diffs the
    /// server pushes meanwhile (from `handle_info`, pub/sub, timers, async work).
    pub async fn wait_until(
        &mut self,
        mut done: impl FnMut(&LiveViewTest) -> bool,
    ) -> Result<(), TestError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let topic = self.topic();
        loop {
            loop {
                let frame = self.channel.lock().await.try_recv_for(&topic)?;
                match frame {
                    Some(frame) => self.apply_push(frame)?,
                    None => break,
                }
            }
            self.settle().await?;
            if done(self) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(TestError::Timeout(format!(
                    "the condition did not hold within {:?}; the view holds:\n{}",
                    self.timeout,
                    self.html()
                )));
            }
            match self.recv_own(left).await {
                Ok(frame) => self.apply_push(frame)?,
                Err(TestError::Timeout(_)) => {}
                Err(err) => return Err(err),
            }
        }
    }

    /// Waits until an element matching `css` with `text` is on the page.
    pub async fn wait_for(&mut self, css: &str, text: &str) -> Result<(), TestError> {
        dom::selector(css)?;
        self.wait_until(|view| view.has_element(css, text)).await
    }

    /// Joins the nested LiveView whose container has DOM id `id` on this page (Phoenix:
    /// `find_live(view, id)`): a child rendered with `live_render` (joined under its parent)
    /// or a sticky view. It shares this view's socket, as in the browser; it runs and is
    /// driven on its own (its own HTML, events, pushes), and ends when its parent does
    /// (a sticky view outlives the parent's live navigation).
    pub async fn find_live(&mut self, id: &str) -> Result<LiveViewTest, TestError> {
        let css = format!("[id=\"{}\"][data-phx-session]", id.replace('"', "\\\""));
        let (session, static_token, sticky) = {
            let html = Html::parse_fragment(self.html());
            let found = dom::matching(&html, &css, None)?;
            let [container] = found.as_slice() else {
                return Err(self.selector_error(&css, None, found.len()));
            };
            let el = container.value();
            (
                el.attr("data-phx-session").unwrap_or_default().to_owned(),
                el.attr("data-phx-static")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                el.attr("data-phx-sticky").is_some(),
            )
        };
        let mut child = LiveViewTest {
            endpoint: self.endpoint.clone(),
            channel: self.channel.clone(),
            timeout: self.timeout,
            sent: self.sent.clone(),
            nested: Some(Nested { sticky }),
            options: self.options.clone(),
            page: DeadPage {
                html: String::new(),
                id: id.to_owned(),
                session,
                static_token,
                csrf_token: self.page.csrf_token.clone(),
                title: None,
            },
            join_ref: String::new(),
            url: self.url.clone(),
            tree: ClientTree::default(),
            dom: String::new(),
            title: None,
            events: VecDeque::new(),
            navigation: VecDeque::new(),
            used_fields: Default::default(),
            ended: None,
        };
        let url = child.url.clone();
        child.join(&url, "url", None).await?;
        Ok(child)
    }

    /// Sends `info` to the view's `handle_info`, as a message from the server would
    /// (Phoenix: `send(view.pid, msg)`), through the view's own bounded queue
    /// ([`Socket::sender`](crate::Socket::sender)). `V` is the view's type; the diff comes as a
    /// push: read it with [`LiveViewTest::render_async`] or [`LiveViewTest::wait_for`].
    pub async fn send_info<V: crate::LiveView>(&mut self, info: V::Info) -> Result<(), TestError> {
        let topic = self.topic();
        let sender = {
            let channel = self.channel.lock().await;
            let handle = channel
                .test_handle(&topic)
                .ok_or_else(|| TestError::Closed(format!("no view is joined on {topic}")))?;
            handle
                .sender
                .downcast_ref::<crate::ViewSender<V>>()
                .cloned()
                .ok_or_else(|| {
                    TestError::Usage(format!(
                        "the view on {topic} is not a {}",
                        std::any::type_name::<V>()
                    ))
                })?
        };
        sender
            .send(info)
            .await
            .map_err(|err| TestError::Closed(format!("the info was not delivered: {err}")))
    }

    /// Waits until every async task of the view and its components (`assign_async`,
    /// `start_async`) has finished and been applied, then returns the HTML with their
    /// results (Phoenix: `render_async(view)`). Fails after the timeout, showing the page.
    pub async fn render_async(&mut self) -> Result<String, TestError> {
        let topic = self.topic();
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let pending = {
                let channel = self.channel.lock().await;
                channel
                    .test_handle(&topic)
                    .map(|h| h.pending_async.load(std::sync::atomic::Ordering::Acquire))
                    .unwrap_or(0)
            };
            if pending == 0 {
                // The turn that applied the last result sent its diff before it handles this
                // message, whose reply therefore comes after the diff.
                self.request("cids_will_destroy", json!({"cids": []}))
                    .await?;
                return Ok(self.html().to_owned());
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(TestError::Timeout(format!(
                    "{pending} async task(s) still pending after {:?}; the view holds:\n{}",
                    self.timeout,
                    self.html()
                )));
            }
            match self.recv_own(left.min(Duration::from_millis(20))).await {
                Ok(frame) => self.apply_push(frame)?,
                Err(TestError::Timeout(_)) => {}
                Err(err) => return Err(err),
            }
        }
    }

    /// Joins the view again after it crashed or left, as the browser's client does after a
    /// `phx_error` (a fresh mount with the page's session).
    pub async fn rejoin(&mut self) -> Result<(), TestError> {
        let url = self.url.clone();
        self.join(&url, "url", None).await
    }
}
