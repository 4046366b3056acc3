//! The page around a view: the root layout ([`Layout`], [`PageParts`]), the view's container
//! element ([`Container`]), the live `<title>`, and rendering a template to HTML outside any
//! view ([`render_to_string`]).

use std::cell::RefCell;
use std::sync::Arc;

use liveview_diff::{escape, Rendered};

use crate::component::{ComponentScope, Registry};
use crate::view::Meta;

/// Renders the whole HTML page around a view's container (Phoenix: the root layout). Set one
/// per endpoint ([`EndpointBuilder::layout`](crate::EndpointBuilder::layout)), per live
/// session ([`LiveSession::root_layout`](crate::LiveSession::root_layout)) or per route
/// ([`RouteOptions::root_layout`](crate::RouteOptions::root_layout)).
pub type Layout = Arc<dyn Fn(&PageParts<'_>) -> String + Send + Sync>;

/// The pieces a [`Layout`] puts together.
#[derive(Debug)]
pub struct PageParts<'a> {
    /// The `<title>` element, from the view's `page_title` (already escaped).
    pub title: &'a str,
    /// The CSRF token: put it in `<meta name="csrf-token" content="…">` for the client script.
    pub csrf_token: &'a str,
    /// The view's container element with its rendered HTML.
    pub container: &'a str,
    /// The view's content for outside its container ([`LiveView::root_slot`](crate::LiveView::root_slot),
    /// HTML, empty when the view has none): a portal target, a hooked element, a
    /// custom-element script. Rendered once, in the HTTP render.
    pub slot: &'a str,
}

/// The default page: the title, the CSRF meta tag, `/assets/app.js`, the container and the
/// view's slot after it.
///
/// ```
/// let html = liveview_core::default_layout(&liveview_core::PageParts {
///     title: "<title>Hi</title>",
///     csrf_token: "t",
///     container: "<div id=\"phx-1\"></div>",
///     slot: "<div id=\"portal\"></div>",
/// });
/// assert!(html.contains("<div id=\"phx-1\"></div>\n<div id=\"portal\"></div>"));
/// ```
pub fn default_layout(parts: &PageParts<'_>) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"csrf-token\" content=\"{csrf}\">\n<link rel=\"icon\" href=\"data:,\">\n{title}\n\
         <script defer src=\"/assets/app.js\"></script>\n</head>\n<body>\n{container}\n{slot}\n</body>\n</html>\n",
        csrf = escape(parts.csrf_token),
        title = parts.title,
        container = parts.container,
        slot = parts.slot,
    )
}

/// Renders the `<title>` element the client updates on `page_title` changes: `data-prefix` and
/// `data-suffix` are kept around every new title, `data-default` is shown for an empty one.
///
/// ```
/// assert_eq!(
///     liveview_core::live_title("Counter", "", " · LiveView"),
///     "<title data-suffix=\" · LiveView\">Counter · LiveView</title>"
/// );
/// ```
pub fn live_title(title: &str, prefix: &str, suffix: &str) -> String {
    let mut out = String::from("<title");
    if !prefix.is_empty() {
        out.push_str(" data-prefix=\"");
        out.push_str(&escape(prefix));
        out.push('"');
    }
    if !suffix.is_empty() {
        out.push_str(" data-suffix=\"");
        out.push_str(&escape(suffix));
        out.push('"');
    }
    out.push('>');
    out.push_str(&escape(prefix));
    out.push_str(&escape(title));
    out.push_str(&escape(suffix));
    out.push_str("</title>");
    out
}

/// A view's container element: its tag and extra attributes (Phoenix: `use Phoenix.LiveView,
/// container: {:tr, class: "row"}`), from [`LiveView::container`](crate::LiveView::container).
/// The `id` and `data-phx-*` attributes are the framework's; an extra attribute with one of
/// those names is ignored.
///
/// ```
/// use liveview_core::Container;
/// let container = Container::new("main").attr("class", "page").attr("phx-remove", "fade");
/// assert_eq!(container.open_tag("phx-1", "tok"),
///     "<main id=\"phx-1\" data-phx-main data-phx-session=\"tok\" data-phx-static=\"\" \
///      class=\"page\" phx-remove=\"fade\">");
/// assert_eq!(container.tag(), "main");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    tag: &'static str,
    attrs: Vec<(String, String)>,
}

impl Default for Container {
    /// A `div` with no extra attributes.
    fn default() -> Self {
        Self::new("div")
    }
}

impl Container {
    /// A container with this tag (`div`, `main`, `section`, …; letters and digits only, else
    /// `div`).
    pub fn new(tag: &'static str) -> Self {
        let valid = !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_alphanumeric());
        Self {
            tag: if valid { tag } else { "div" },
            attrs: Vec::new(),
        }
    }

    /// Adds an attribute (its value is escaped); names other than letters, digits, `-` and
    /// `_`, `id` and `data-phx-*` are ignored.
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b':');
        if valid && name != "id" && !name.starts_with("data-phx-") {
            self.attrs.push((name, value.into()));
        }
        self
    }

    /// The tag name.
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// The opening tag of the container of view `id` with its session token.
    pub fn open_tag(&self, id: &str, token: &str) -> String {
        let mut out = String::with_capacity(token.len() + 96);
        out.push('<');
        out.push_str(self.tag);
        out.push_str(" id=\"");
        out.push_str(id);
        out.push_str("\" data-phx-main data-phx-session=\"");
        out.push_str(token);
        out.push_str("\" data-phx-static=\"\"");
        for (name, value) in &self.attrs {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            out.push_str(&escape(value));
            out.push('"');
        }
        out.push('>');
        out
    }
}

/// Renders a template to HTML outside any view: for a plain page, an e-mail, an error page.
/// The template gets a disconnected [`Meta`] (no flash, no uploads) in which live components
/// render inline, so no `Meta` is built by hand (Phoenix: `Phoenix.Template.render_to_string`).
///
/// ```
/// use liveview_core::{html, render_to_string};
/// let name = "<bob>";
/// let page = render_to_string(|meta| html! { p { "hi " (name) } @if meta.connected { "!" } });
/// assert_eq!(page, "<p>hi &lt;bob&gt;</p>");
/// ```
pub fn render_to_string(template: impl FnOnce(&Meta<'_>) -> Rendered) -> String {
    let components = RefCell::new(Registry::detached());
    let rendered = {
        let meta = Meta {
            components: ComponentScope {
                registry: Some(&components),
                nested: None,
            },
            ..Meta::default()
        };
        let rendered = template(&meta);
        // The components it references, updated and rendered.
        crate::component::flush(&components, &meta);
        rendered
    };
    let registry = components.into_inner();
    let mut html = String::new();
    rendered.write_html_with(&mut html, &mut |cid, out| registry.write_html(cid, out));
    html
}

/// An error page to render (for [`EndpointBuilder::error_page`](crate::EndpointBuilder::error_page)).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ErrorPage<'a> {
    /// The HTTP status: `404` (no route, or [`ViewError::not_found`](crate::ViewError::not_found)),
    /// `403` ([`ViewError::forbidden`](crate::ViewError::forbidden)), `500` (a failed view),
    /// `400` (a request that cannot be served as sent).
    pub status: u16,
    /// The status's reason phrase (`Not Found`).
    pub reason: &'a str,
    /// The view's message for a `404` or `403` (its `ViewError`'s text); `None` for a `500`,
    /// whose details stay in the log.
    pub message: Option<&'a str>,
}

impl<'a> ErrorPage<'a> {
    /// An error page for `status` (the reason phrase of the statuses this crate answers, else
    /// `Error`).
    pub fn new(status: u16, message: Option<&'a str>) -> Self {
        let reason = match status {
            400 => "Bad Request",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            500 => "Internal Server Error",
            _ => "Error",
        };
        Self {
            status,
            reason,
            message,
        }
    }
}

/// Renders an error page for the endpoint's error renderer.
pub type ErrorRenderer = Arc<dyn Fn(&ErrorPage<'_>) -> String + Send + Sync>;

/// The default error page: plain HTML with the status, its reason and the view's message.
///
/// ```
/// use liveview_core::{default_error_page, ErrorPage};
/// let html = default_error_page(&ErrorPage::new(404, Some("no item <42>")));
/// assert!(html.contains("<h1>404 Not Found</h1>"));
/// assert!(html.contains("no item &lt;42&gt;"));
/// ```
pub fn default_error_page(page: &ErrorPage<'_>) -> String {
    let message = page
        .message
        .map(|message| format!("<p>{}</p>\n", escape(message)))
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{status} {reason}</title>\n</head>\n<body>\n<h1>{status} {reason}</h1>\n{message}\
         <p><a href=\"/\">Home</a></p>\n</body>\n</html>\n",
        status = page.status,
        reason = escape(page.reason),
    )
}
