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

mod navigation;
mod server;

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
