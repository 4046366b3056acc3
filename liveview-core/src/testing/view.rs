//! [`LiveViewTest`]: one connected view, followed as the browser's client follows it.

use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use liveview_diff::client::ClientTree;
use scraper::Html;
use serde_json::{json, Map, Value};

use super::channel::{Channel, Frame, SharedChannel};
use super::dom;
use super::element::{Element, Form};
use super::{Navigation, NavigationKind, TestError, BASE_URL};
use crate::protocol::REFUSED_EVENT;
use crate::socket::Flash;
use crate::{Endpoint, Page, Session};

/// How a view is mounted: [`live`](super::live) with the defaults, or
/// [`LiveOptions::mount`] with a session, connect params or another timeout.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub(crate) session: Session,
    pub(crate) connect_params: Map<String, Value>,
    pub(crate) timeout: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            session: Session::default(),
            connect_params: Map::new(),
            timeout: Duration::from_secs(5),
        }
    }
}

impl LiveOptions {
    /// The defaults: an empty session, no connect params, a 5 s wait for each reply.
    pub fn new() -> Self {
        Self::default()
    }

    /// The session the dead render signs into the page (what a logged-in user's request
    /// would carry).
    pub fn session(mut self, session: Session) -> Self {
        self.session = session;
        self
    }

    /// A connect param sent with the join, as the page's `new LiveSocket(url, Socket,
    /// {params: {...}})` would (e.g. the browser's time zone).
    pub fn connect_param(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.connect_params.insert(key.to_owned(), value.into());
        self
    }

    /// How long to wait for each reply or push before failing with
    /// [`TestError::Timeout`] (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Renders `path` over "HTTP" (the dead render) and joins it over the runtime's socket
    /// path (the connected render): see [`live`](super::live).
    pub async fn mount(
        self,
        endpoint: &Arc<Endpoint>,
        path: &str,
    ) -> Result<LiveViewTest, TestError> {
        self.mount_with_flash(endpoint, path, None).await
    }

    async fn mount_with_flash(
        self,
        endpoint: &Arc<Endpoint>,
        path: &str,
        flash: Option<&str>,
    ) -> Result<LiveViewTest, TestError> {
        let page = dead_render_with(endpoint, path, self.session.clone(), flash).await?;
        let channel = Channel::connect(endpoint);
        let sent = channel.sent.clone();
        let mut view = LiveViewTest {
            endpoint: endpoint.clone(),
            channel: Arc::new(tokio::sync::Mutex::new(channel)),
            timeout: self.timeout,
            sent,
            nested: None,
            options: self,
            page,
            join_ref: String::new(),
            url: String::new(),
            tree: ClientTree::default(),
            dom: String::new(),
            title: None,
            events: VecDeque::new(),
            navigation: VecDeque::new(),
            used_fields: Default::default(),
            ended: None,
        };
        view.title = view.page.title.clone();
        view.join(&format!("{BASE_URL}{path}"), "url", None).await?;
        Ok(view)
    }
}

/// What a nested view found on a page carries.
#[derive(Debug, Clone, Copy)]
struct Nested {
    /// `data-phx-sticky`: joined as a root of its own, it outlives live navigation.
    sticky: bool,
}

/// A dead-rendered page, as the browser receives it before it connects.
#[derive(Debug, Clone)]
pub struct DeadPage {
    /// The whole page.
    pub html: String,
    /// The view container's id (the channel topic is `lv:<id>`).
    pub id: String,
    /// The signed `data-phx-session`.
    pub session: String,
    /// `data-phx-static` (`None` when empty).
    pub static_token: Option<String>,
    /// The page's CSRF token (`<meta name="csrf-token">`).
    pub csrf_token: String,
    /// The `<title>` text.
    pub title: Option<String>,
}

/// Renders `path` as the HTTP request would (`connected()` is false): the whole page, or
/// [`TestError::Redirect`] when mount redirected, [`TestError::NotFound`] for an unrouted path.
pub async fn dead_render(endpoint: &Arc<Endpoint>, path: &str) -> Result<DeadPage, TestError> {
    dead_render_with(endpoint, path, Session::default(), None).await
}

pub(crate) async fn dead_render_with(
    endpoint: &Arc<Endpoint>,
    path: &str,
    session: Session,
    flash: Option<&str>,
) -> Result<DeadPage, TestError> {
    let html = match endpoint.render_page_with_flash(path, session, flash).await {
        Ok(Page::Html(html)) => html,
        Ok(Page::Redirect(to)) => {
            return Err(TestError::Redirect(Navigation {
                kind: NavigationKind::Redirect,
                to,
                flash: Flash::default(),
                flash_token: None,
            }))
        }
        Ok(Page::NotFound) => return Err(TestError::NotFound(path.to_owned())),
        Ok(Page::BadRequest(message)) => return Err(TestError::BadRequest(message)),
        // An error status from mount (`ViewError::not_found`, `forbidden`) or a hook.
        Ok(Page::Error { status, html }) => return Err(TestError::Status { status, html }),
        Err(err) => return Err(TestError::Render(err.to_string())),
    };
    let document = Html::parse_document(&html);
    let main = dom::matching(&document, "[data-phx-main]", None)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            TestError::Protocol(format!("the page has no LiveView container:\n{html}"))
        })?;
    let attr = |name: &str| main.value().attr(name).map(str::to_owned);
    let csrf_token = dom::matching(&document, "meta[name=csrf-token]", None)?
        .first()
        .and_then(|meta| meta.value().attr("content"))
        .map(str::to_owned)
        .ok_or_else(|| TestError::Protocol("the page has no csrf-token meta tag".into()))?;
    let title = dom::matching(&document, "title", None)?
        .first()
        .map(|title| dom::text_of(*title));
    Ok(DeadPage {
        id: attr("id").unwrap_or_default(),
        session: attr("data-phx-session").unwrap_or_default(),
        static_token: attr("data-phx-static").filter(|s| !s.is_empty()),
        csrf_token,
        title,
        html,
    })
}

/// One connected LiveView under test, driven through the real runtime (the same
/// `Connection`, frames and view turns a browser's socket gets), holding the HTML the
/// browser's client would hold after every diff. See the [module docs](super).
#[derive(Debug)]
pub struct LiveViewTest {
    endpoint: Arc<Endpoint>,
    /// The socket, shared with the nested views found on the page.
    channel: SharedChannel,
    timeout: Duration,
    sent: Arc<AtomicU64>,
    /// A nested view (`find_live`): joined without a URL.
    nested: Option<Nested>,
    options: LiveOptions,
    page: DeadPage,
    join_ref: String,
    url: String,
    tree: ClientTree,
    /// The page as the browser shows it: the tree's HTML, with what `phx-update="append"`
    /// containers keep.
    dom: String,
    title: Option<String>,
    events: VecDeque<(String, Value)>,
    navigation: VecDeque<Navigation>,
    pub(crate) used_fields: std::collections::HashSet<String>,
    /// Why the view's channel ended (`phx_close` after a redirect, `phx_error` after a crash).
    ended: Option<String>,
}

impl LiveViewTest {
    pub(crate) fn topic(&self) -> String {
        format!("lv:{}", self.page.id)
    }

    /// Joins (or, with `key = "redirect"`, live-navigates) the page's container to `url`.
    async fn join(&mut self, url: &str, key: &str, flash: Option<String>) -> Result<(), TestError> {
        let mut params = self.options.connect_params.clone();
        params.insert("_csrf_token".into(), json!(self.page.csrf_token));
        params.insert("_mounts".into(), json!(0));
        params.insert("_mount_attempts".into(), json!(0));
        if key == "redirect" {
            params.insert("_live_referer".into(), json!(self.url));
        }
        let mut payload = json!({
            "params": params,
            "session": self.page.session,
            "static": self.page.static_token,
            "sticky": self.nested.as_ref().is_some_and(|n| n.sticky),
        });
        // A nested view joins without a URL (it has no route of its own).
        if self.nested.is_none() {
            payload[key] = json!(url);
        }
        if let Some(flash) = flash {
            payload["flash"] = json!(flash);
        }
        let topic = self.topic();
        let join_ref = {
            let mut channel = self.channel.lock().await;
            let join_ref = channel.next_ref();
            // A join's message ref is its join ref.
            channel
                .push_as(&join_ref, &join_ref, &topic, "phx_join", payload)
                .await?;
            join_ref
        };
        let msg_ref = join_ref.clone();
        self.join_ref = join_ref;
        self.ended = None;
        let response = self.await_reply(&msg_ref, "phx_join").await?;
        let Some(rendered) = response.get("rendered").cloned() else {
            return Err(TestError::Protocol(format!(
                "a join reply without rendered: {response}"
            )));
        };
        let (tree, applied) =
            ClientTree::join(rendered).map_err(|err| TestError::Merge(err.to_string()))?;
        self.tree = tree;
        self.dom = self.tree.html().to_owned();
        self.url = url.to_owned();
        if let Some(title) = applied.title {
            self.title = Some(title);
        }
        self.events.extend(applied.events);
        if let Some(patch) = response.get("live_patch") {
            self.record_navigation(NavigationKind::Patch, patch);
        }
        self.settle().await
    }

    /// Sends a push on the view's channel and waits for its reply, applying every frame that
    /// arrives first; returns the reply's `response`.
    pub(crate) async fn request(
        &mut self,
        event: &str,
        payload: Value,
    ) -> Result<Value, TestError> {
        if let Some(ended) = &self.ended {
            return Err(TestError::Closed(format!(
                "the view's channel has ended: {ended}"
            )));
        }
        let join_ref = self.join_ref.clone();
        let topic = self.topic();
        let msg_ref = self
            .channel
            .lock()
            .await
            .push(&join_ref, &topic, event, payload)
            .await?;
        let response = self.await_reply(&msg_ref, event).await?;
        self.apply_response(&response)?;
        self.settle().await?;
        // A refusal is an ok reply (so the browser unlocks the element) carrying a
        // `lv:refused` event with the reason: the test gets it as an error.
        if let Some(at) = self
            .events
            .iter()
            .position(|(name, _)| name == REFUSED_EVENT)
        {
            let (_, detail) = self.events.remove(at).unwrap_or_default();
            let field = |key: &str| detail.get(key).and_then(Value::as_str).map(str::to_owned);
            return Err(TestError::Refused {
                what: field("event")
                    .map_or_else(|| event.to_owned(), |name| format!("{event} {name:?}")),
                reason: match (field("reason"), field("detail")) {
                    (Some(reason), Some(detail)) => format!("{reason} ({detail})"),
                    (Some(reason), None) => reason,
                    _ => detail.to_string(),
                },
            });
        }
        Ok(response)
    }

    /// Waits for the reply to `msg_ref`, applying the view's pushes that come first.
    async fn await_reply(&mut self, msg_ref: &str, what: &str) -> Result<Value, TestError> {
        loop {
            let received = self.recv_own(self.timeout).await;
            let frame = received.map_err(|err| match err {
                TestError::Timeout(_) => TestError::Timeout(format!(
                    "no reply to {what} within {:?}; the view holds:\n{}",
                    self.timeout,
                    self.tree.html()
                )),
                other => other,
            })?;
            if frame.event == "phx_reply" && frame.msg_ref.as_deref() == Some(msg_ref) {
                let status = frame
                    .payload
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let response = frame
                    .payload
                    .get("response")
                    .cloned()
                    .unwrap_or(Value::Null);
                if status == "ok" {
                    return Ok(response);
                }
                return Err(refusal(what, &response));
            }
            let crashed = frame.event == "phx_error"
                && frame.join_ref.as_deref() == Some(self.join_ref.as_str());
            self.apply_push(frame)?;
            if crashed {
                // No reply comes: the view is gone (the browser would rejoin it).
                return Err(TestError::Crashed(format!(
                    "the view crashed while handling {what}"
                )));
            }
        }
    }

    fn apply_push(&mut self, frame: Frame) -> Result<(), TestError> {
        if frame.join_ref.as_deref() != Some(self.join_ref.as_str()) && frame.event != "phx_reply" {
            // A push of an earlier join of this topic: the client drops it.
            return Ok(());
        }
        match frame.event.as_str() {
            "diff" => self.apply_diff(frame.payload),
            "live_patch" => {
                self.record_navigation(NavigationKind::Patch, &frame.payload);
                Ok(())
            }
            "redirect" => {
                self.record_navigation(NavigationKind::Redirect, &frame.payload);
                Ok(())
            }
            "live_redirect" => {
                self.record_navigation(NavigationKind::LiveRedirect, &frame.payload);
                Ok(())
            }
            "phx_close" => {
                self.ended = Some("phx_close".into());
                Ok(())
            }
            "phx_error" => {
                self.ended = Some("phx_error (the view crashed)".into());
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn apply_diff(&mut self, diff: Value) -> Result<(), TestError> {
        let applied = self
            .tree
            .apply(diff)
            .map_err(|err| TestError::Merge(err.to_string()))?;
        self.dom = dom::keep_appended(&self.dom, self.tree.html().to_owned());
        if let Some(title) = applied.title {
            self.title = Some(title);
        }
        self.events.extend(applied.events);
        Ok(())
    }

    fn apply_response(&mut self, response: &Value) -> Result<(), TestError> {
        if let Some(diff) = response.get("diff") {
            self.apply_diff(diff.clone())?;
        }
        for (key, kind) in [
            ("live_patch", NavigationKind::Patch),
            ("redirect", NavigationKind::Redirect),
            ("live_redirect", NavigationKind::LiveRedirect),
        ] {
            if let Some(target) = response.get(key) {
                self.record_navigation(kind, target);
            }
        }
        Ok(())
    }

    fn record_navigation(&mut self, kind: NavigationKind, target: &Value) {
        let to = target
            .get("to")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let flash_token = target
            .get("flash")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let flash = flash_token
            .as_deref()
            .and_then(|token| self.endpoint.signer().verify_json::<Flash>(token).ok())
            .unwrap_or_default();
        if kind == NavigationKind::Patch {
            self.url = format!("{BASE_URL}{}", path_of(&to));
        }
        self.navigation.push_back(Navigation {
            kind,
            to,
            flash,
            flash_token,
        });
    }

    /// After a render: the component-destroy round trip for components that left the page
    /// (`cids_will_destroy`, then `cids_destroyed`), as the client does.
    async fn settle(&mut self) -> Result<(), TestError> {
        let gone = self.tree.orphaned_cids();
        if gone.is_empty() || self.ended.is_some() {
            return Ok(());
        }
        let join_ref = self.join_ref.clone();
        let topic = self.topic();
        for event in ["cids_will_destroy", "cids_destroyed"] {
            let msg_ref = self
                .channel
                .lock()
                .await
                .push(&join_ref, &topic, event, json!({"cids": gone}))
                .await?;
            let response = self.await_reply(&msg_ref, event).await?;
            if event == "cids_destroyed" {
                let confirmed: Vec<u64> = response
                    .get("cids")
                    .and_then(Value::as_array)
                    .map(|cids| cids.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default();
                self.tree.prune_cids(&confirmed);
            } else {
                self.apply_response(&response)?;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------ reading

    /// The view's HTML as the client holds it (the inside of its container), components
    /// marked with `data-phx-component`.
    pub fn html(&self) -> &str {
        &self.dom
    }

    /// The page of the dead render (before the socket connected).
    pub fn dead_page(&self) -> &DeadPage {
        &self.page
    }

    /// The URL the view is at (after patches), as a path with its query.
    pub fn path(&self) -> &str {
        path_of(&self.url)
    }

    /// Whether an element matches `css` and contains `text` (`""` matches any text).
    ///
    /// Phoenix: `has_element?(view, selector, text_filter)`.
    pub fn has_element(&self, css: &str, text: &str) -> bool {
        self.count(css, text) > 0
    }

    /// How many elements match `css` and contain `text` (`""`: any). A bad selector counts
    /// as none (use [`LiveViewTest::element`] to see the error).
    pub fn count(&self, css: &str, text: &str) -> usize {
        let html = Html::parse_fragment(self.html());
        let filter = (!text.is_empty()).then_some(text);
        dom::matching(&html, css, filter)
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// The text of the one element matching `css` (whitespace collapsed).
    pub fn text(&self, css: &str) -> Result<String, TestError> {
        let html = Html::parse_fragment(self.html());
        let found = dom::matching(&html, css, None)?;
        match found.as_slice() {
            [one] => Ok(dom::text_of(*one)),
            _ => Err(self.selector_error(css, None, found.len())),
        }
    }

    /// How many messages this client has sent on its socket so far (joins, events, patches,
    /// upload chunks...): what a browser test reads from the socket's frames, e.g. to check
    /// that a JS command stayed in the browser.
    pub fn messages_sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The page title: the dead render's `<title>`, then every `"t"` the view sent.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The element matching `css`, to click, key or hook (it must match exactly one element
    /// when acted on). Phoenix: `element(view, selector)`.
    pub fn element(&mut self, css: &str) -> Element<'_> {
        Element::new(self, css)
    }

    /// The form matching `css`, to change or submit. Phoenix: `form(view, selector, values)`.
    pub fn form(&mut self, css: &str) -> Form<'_> {
        Form::new(self, css)
    }

    /// Sends event `event` with `value` to the view itself, as a `phx-click` without an element
    /// would (`value` must be an object). Returns the view's HTML after the reply.
    /// Phoenix: `render_click(view, event, value)`.
    pub async fn render_click(&mut self, event: &str, value: Value) -> Result<String, TestError> {
        super::element::push_event(self, "click", event, value, None).await?;
        Ok(self.html().to_owned())
    }

    /// A hook of the view pushing `event` with `value` (`this.pushEvent`); returns the reply
    /// the hook's callback receives (`None` when the view did not reply).
    /// Phoenix: `render_hook(view, event, value)`.
    pub async fn render_hook(
        &mut self,
        event: &str,
        value: Value,
    ) -> Result<Option<Value>, TestError> {
        super::element::push_event(self, "hook", event, value, None).await
    }

    pub(crate) fn selector_error(&self, css: &str, text: Option<&str>, found: usize) -> TestError {
        TestError::Selector {
            selector: match text {
                Some(text) => format!("{css} with text {text:?}"),
                None => css.to_owned(),
            },
            found,
            html: self.html().to_owned(),
        }
    }

    // ------------------------------------------------------------------ events pushed

    /// Takes the first pushed event named `name` (`push_event` on the server), returning its
    /// payload. Phoenix: `assert_push_event`.
    pub fn assert_push_event(&mut self, name: &str) -> Result<Value, TestError> {
        let at = self
            .events
            .iter()
            .position(|(event, _)| event == name)
            .ok_or_else(|| {
                TestError::Assertion(format!(
                    "no event {name:?} was pushed; pushed: {:?}",
                    self.events
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                ))
            })?;
        Ok(self
            .events
            .remove(at)
            .map(|(_, payload)| payload)
            .unwrap_or_default())
    }

    /// Every pushed event not taken yet, in order.
    pub fn take_events(&mut self) -> Vec<(String, Value)> {
        self.events.drain(..).collect()
    }

    // ------------------------------------------------------------------ navigation

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

    /// The next frame of this view's topic, waiting at most `wait`.
    async fn recv_own(&self, wait: Duration) -> Result<Frame, TestError> {
        let topic = self.topic();
        self.channel.lock().await.recv_for(&topic, wait).await
    }

    /// The next frame of another topic of this socket (an upload channel), waiting at most
    /// the timeout.
    pub(crate) async fn recv_topic(&self, topic: &str) -> Result<Frame, TestError> {
        self.channel
            .lock()
            .await
            .recv_for(topic, self.timeout)
            .await
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

    /// Whether the view's channel has ended, and why (`phx_close` after a redirect or a
    /// leave, `phx_error` after a crash).
    pub fn ended(&self) -> Option<&str> {
        self.ended.as_deref()
    }

    pub(crate) fn channel(&self) -> &SharedChannel {
        &self.channel
    }
}

/// The path and query of a URL (absolute or not).
fn path_of(url: &str) -> &str {
    match url.find("://") {
        Some(scheme) => url[scheme + 3..]
            .find('/')
            .map(|i| &url[scheme + 3 + i..])
            .unwrap_or("/"),
        None => url,
    }
}

/// The error for an error reply.
fn refusal(what: &str, response: &Value) -> TestError {
    if let Some(target) = response
        .get("redirect")
        .or_else(|| response.get("live_redirect"))
    {
        let kind = if response.get("redirect").is_some() {
            NavigationKind::Redirect
        } else {
            NavigationKind::LiveRedirect
        };
        return TestError::Redirect(Navigation {
            kind,
            to: target
                .get("to")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            flash: Flash::default(),
            flash_token: target
                .get("flash")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    TestError::Refused {
        what: what.to_owned(),
        reason: response
            .get("reason")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| response.to_string()),
    }
}
