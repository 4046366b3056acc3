//! Join verification, as a pure function: a `phx_join`'s payload in, the verified join or a
//! typed [`Refusal`] out. Nothing here does IO; the connection sends the reply.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::shared::{Joinable, Shared};
use crate::form::FormError;
use crate::socket::Flash;
use crate::token::{SessionClaims, TokenError};
use crate::view::{Params, Url};

/// What the client sends in `phx_join` (see the protocol notes, §5.1).
#[derive(Deserialize)]
struct JoinPayload {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    redirect: Option<String>,
    #[serde(default)]
    params: Map<String, Value>,
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    flash: Option<String>,
}

/// A join that passed every check.
pub(crate) struct Verified<'a> {
    /// The route pattern the URL routes to.
    pub(crate) route: &'a str,
    /// Its view.
    pub(crate) view: &'a dyn Joinable,
    pub(crate) url: Url,
    /// Path and query parameters.
    pub(crate) params: Params,
    /// The page's session token.
    pub(crate) claims: SessionClaims,
    /// The flash to mount with.
    pub(crate) flash: Flash,
    /// The route's live session and action.
    pub(crate) live_session: &'a std::sync::Arc<crate::live_session::LiveSession>,
    pub(crate) action: Option<&'a std::sync::Arc<str>>,
    /// The join's params: the client's connect params.
    pub(crate) connect_params: Map<String, Value>,
    /// For a nested view: it is one (`handle_params` does not run), and its parent's id
    /// (`None` for a sticky view).
    pub(crate) nested: Option<Option<String>>,
}

/// Why a join was refused. The client reloads the page on `stale` and loads the URL over
/// HTTP on `unauthorized`; either way the user lands on a working page.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The payload is not a join's.
    Malformed(serde_json::Error),
    /// The session token is missing, forged or expired.
    Token(TokenError),
    /// The token belongs to another view (its id is not the topic's).
    OtherView,
    /// The join's CSRF token is missing or is not the page's.
    Csrf,
    /// Neither `url` nor `redirect`.
    NoUrl,
    /// The URL routes to no view.
    Unrouted,
    /// A page's (re)join for a URL that routes to another view than its token's.
    OtherRoute,
    /// A live navigation to a route outside the token's live session.
    OtherLiveSession,
    /// The URL's query string does not decode.
    Query(FormError),
    /// A nested view's token names a view that is not registered (`Router::live_child`).
    UnknownChild,
    /// A nested view's parent is not joined on this socket (Phoenix: parent LV dead).
    NoParent,
}

impl Refusal {
    /// The reason the client gets.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Refusal::Malformed(_)
            | Refusal::Token(_)
            | Refusal::OtherView
            | Refusal::Csrf
            | Refusal::NoUrl
            | Refusal::UnknownChild
            | Refusal::NoParent => "stale",
            Refusal::Unrouted
            | Refusal::OtherRoute
            | Refusal::OtherLiveSession
            | Refusal::Query(_) => "unauthorized",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Malformed(error) => write!(f, "malformed join: {error}"),
            Refusal::Token(error) => write!(f, "session token: {error}"),
            Refusal::OtherView => f.write_str("the session token is for another view"),
            Refusal::Csrf => f.write_str("missing or wrong csrf token"),
            Refusal::NoUrl => f.write_str("no url"),
            Refusal::Unrouted => f.write_str("the URL routes to no view"),
            Refusal::OtherRoute => f.write_str("the URL routes to another view"),
            Refusal::OtherLiveSession => {
                f.write_str("the URL routes outside the token's live session")
            }
            Refusal::Query(error) => write!(f, "query string: {error}"),
            Refusal::UnknownChild => f.write_str("the nested view is not registered"),
            Refusal::NoParent => f.write_str("the nested view's parent is not joined"),
        }
    }
}

/// Verifies the join of view `id` (the topic is `lv:<id>`): the signed session token (for
/// this view), the page's CSRF token, and the URL — for a page's join, the token's own route;
/// for a live navigation (`redirect`), a route of the token's live session.
pub(crate) fn verify<'a>(
    shared: &'a Shared,
    id: &str,
    payload: &str,
) -> Result<Verified<'a>, Refusal> {
    let request: JoinPayload = serde_json::from_str(payload).map_err(Refusal::Malformed)?;
    let claims: SessionClaims = request
        .session
        .as_deref()
        .ok_or(TokenError::Invalid)
        .and_then(|token| shared.signer.verify_json(token))
        .map_err(Refusal::Token)?;
    if claims.id != id {
        return Err(Refusal::OtherView);
    }
    let csrf_ok = request
        .params
        .get("_csrf_token")
        .and_then(Value::as_str)
        .is_some_and(|token| bool::from(token.as_bytes().ct_eq(claims.csrf.as_bytes())));
    if !csrf_ok {
        return Err(Refusal::Csrf);
    }
    if let Some(nested) = claims.nested.clone() {
        // A nested view: no URL of its own; its view comes from the token.
        let (route, view, live_session) = shared
            .routes
            .find_child(&nested.view)
            .ok_or(Refusal::UnknownChild)?;
        let url = Url::parse(request.url.as_deref().unwrap_or("/"));
        return Ok(Verified {
            route,
            view,
            url,
            params: Params::default(),
            claims,
            flash: Flash::default(),
            live_session,
            action: None,
            connect_params: request.params,
            nested: Some(nested.parent),
        });
    }
    let navigation = request.redirect.is_some();
    let raw_url = request.redirect.or(request.url).ok_or(Refusal::NoUrl)?;
    let url = Url::parse(&raw_url);
    let found = shared
        .routes
        .find_route(url.path())
        .ok_or(Refusal::Unrouted)?;
    if navigation {
        if !shared.routes.same_session(found.pattern, &claims.route) {
            return Err(Refusal::OtherLiveSession);
        }
    } else if found.pattern != claims.route {
        return Err(Refusal::OtherRoute);
    }
    let mut params = found.params;
    if let Some(query) = url.query() {
        params.extend_query(query).map_err(Refusal::Query)?;
    }
    let first_mount = request
        .params
        .get("_mounts")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        == 0;
    // The flash: from a live navigation's token, else (first join of the page) the flash of
    // the HTTP render.
    let flash = match request.flash.as_deref() {
        Some(token) => shared
            .signer
            .verify_json::<Flash>(token)
            .unwrap_or_default(),
        None if first_mount && !navigation => claims.flash.clone(),
        None => Flash::default(),
    };
    Ok(Verified {
        route: found.pattern,
        view: found.view,
        url,
        params,
        claims,
        flash,
        live_session: found.live_session,
        action: found.action,
        connect_params: request.params,
        nested: None,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::runtime::message::Mailbox;
    use crate::runtime::shared::{Join, RouteMatch, Routes};
    use crate::token::Signer;

    struct NoView;

    static DEFAULT_SESSION: std::sync::LazyLock<Arc<crate::live_session::LiveSession>> =
        std::sync::LazyLock::new(Default::default);

    impl Joinable for NoView {
        fn join(&self, _: Join) -> Mailbox {
            unreachable!("verification never joins")
        }

        fn view_type(&self) -> std::any::TypeId {
            std::any::TypeId::of::<NoView>()
        }
    }

    /// `/a` and `/b/:id` in the default live session, `/admin` in `admin`.
    struct TestRoutes;

    impl Routes for TestRoutes {
        fn find_route(&self, path: &str) -> Option<RouteMatch<'_>> {
            let mut params = Params::default();
            let pattern = match path {
                "/a" => "/a",
                "/admin" => "/admin",
                _ => {
                    let id = path.strip_prefix("/b/")?;
                    params.insert("id", id);
                    "/b/:id"
                }
            };
            Some(RouteMatch {
                pattern,
                view: &NoView,
                params,
                live_session: &DEFAULT_SESSION,
                action: None,
            })
        }

        fn same_session(&self, a: &str, b: &str) -> bool {
            (a == "/admin") == (b == "/admin")
        }

        fn find_child(
            &self,
            key: &str,
        ) -> Option<(&str, &dyn Joinable, &Arc<crate::live_session::LiveSession>)> {
            static DEFAULT: std::sync::OnceLock<Arc<crate::live_session::LiveSession>> =
                std::sync::OnceLock::new();
            let session = DEFAULT.get_or_init(Default::default);
            (key == "child").then_some(("child", &NoView as &dyn Joinable, session))
        }
    }

    fn shared() -> Shared {
        Shared {
            routes: Arc::new(TestRoutes),
            signer: Signer::random(),
            config: Config::default(),
            pubsub: Arc::new(liveview_pubsub::LocalPubSub::new()),
            upload_storage: Arc::new(liveview_upload::TempFileStorage::default()),
        }
    }

    fn token(shared: &Shared, id: &str, route: &str) -> String {
        let flash = Flash(std::collections::BTreeMap::from([(
            "info".to_owned(),
            "hello".to_owned(),
        )]));
        let claims = SessionClaims {
            id: id.into(),
            route: route.into(),
            csrf: "CSRF".into(),
            session: Map::new(),
            flash,
            nested: None,
        };
        shared.signer.sign_json(&claims, 60)
    }

    fn join<'a>(shared: &'a Shared, id: &str, payload: Value) -> Result<Verified<'a>, Refusal> {
        let text = payload.to_string();
        // The payload is parsed inside; its text does not outlive the call.
        verify(shared, id, &text)
    }

    #[test]
    fn a_page_joins_its_own_route_with_the_render_flash() {
        let shared = shared();
        let payload = json!({"url": "http://h/b/7?x=1", "session": token(&shared, "v1", "/b/:id"),
                             "params": {"_csrf_token": "CSRF", "_mounts": 0}});
        let verified = join(&shared, "v1", payload).unwrap();
        assert_eq!(verified.route, "/b/:id");
        assert_eq!(verified.params.get("id"), Some("7"));
        assert_eq!(verified.params.get("x"), Some("1"));
        assert_eq!(verified.flash.get("info"), Some("hello"));
    }

    #[test]
    fn a_rejoin_has_no_flash() {
        let shared = shared();
        let payload = json!({"url": "http://h/a", "session": token(&shared, "v1", "/a"),
                             "params": {"_csrf_token": "CSRF", "_mounts": 1}});
        assert!(join(&shared, "v1", payload).unwrap().flash.is_empty());
    }

    #[test]
    fn every_refusal_case() {
        let shared = shared();
        let ok_token = token(&shared, "v1", "/a");
        let cases = [
            (json!({"url": 5}), "stale", "malformed"),
            (
                json!({"url": "http://h/a", "params": {"_csrf_token": "CSRF"}}),
                "stale",
                "token",
            ),
            (
                json!({"url": "http://h/a", "session": "forged", "params": {"_csrf_token": "CSRF"}}),
                "stale",
                "token",
            ),
            (
                json!({"url": "http://h/a", "session": token(&shared, "v2", "/a"), "params": {"_csrf_token": "CSRF"}}),
                "stale",
                "another view",
            ),
            (
                json!({"url": "http://h/a", "session": ok_token, "params": {}}),
                "stale",
                "csrf",
            ),
            (
                json!({"url": "http://h/a", "session": ok_token, "params": {"_csrf_token": "CSRG"}}),
                "stale",
                "csrf",
            ),
            (
                json!({"session": ok_token, "params": {"_csrf_token": "CSRF"}}),
                "stale",
                "no url",
            ),
            (
                json!({"url": "http://h/nope", "session": ok_token, "params": {"_csrf_token": "CSRF"}}),
                "unauthorized",
                "no view",
            ),
            (
                json!({"url": "http://h/b/1", "session": ok_token, "params": {"_csrf_token": "CSRF"}}),
                "unauthorized",
                "another view",
            ),
            (
                json!({"redirect": "http://h/admin", "session": ok_token, "params": {"_csrf_token": "CSRF"}}),
                "unauthorized",
                "live session",
            ),
            (
                json!({"url": format!("http://h/a?{}=1", "k[x]".repeat(40)), "session": ok_token, "params": {"_csrf_token": "CSRF"}}),
                "unauthorized",
                "query",
            ),
        ];
        for (payload, reason, says) in cases {
            let refusal = match join(&shared, "v1", payload.clone()) {
                Ok(_) => panic!("{payload} was accepted"),
                Err(refusal) => refusal,
            };
            assert_eq!(refusal.reason(), reason, "{payload}");
            assert!(
                refusal.to_string().contains(says),
                "{refusal} for {payload}"
            );
        }
    }

    #[test]
    fn live_navigation_stays_within_the_live_session() {
        let shared = shared();
        let payload = json!({"redirect": "http://h/b/3", "session": token(&shared, "v1", "/a"),
                             "params": {"_csrf_token": "CSRF", "_mounts": 0}});
        let verified = join(&shared, "v1", payload).unwrap();
        assert_eq!(verified.route, "/b/:id");
        assert!(
            verified.flash.is_empty(),
            "a navigation brings its own flash token"
        );
    }

    #[test]
    fn a_nested_view_joins_by_its_token_without_a_url() {
        let shared = shared();
        let claims = |view: &str| SessionClaims {
            id: "child-1".into(),
            route: view.into(),
            csrf: "CSRF".into(),
            session: Map::new(),
            flash: Flash::default(),
            nested: Some(crate::nested::NestedClaims {
                view: view.into(),
                parent: Some("p1".into()),
            }),
        };
        let token = shared.signer.sign_json(&claims("child"), 60);
        let payload = json!({"session": token, "params": {"_csrf_token": "CSRF"}, "static": null});
        let verified = join(&shared, "child-1", payload).unwrap();
        assert_eq!(verified.route, "child");
        assert_eq!(verified.nested, Some(Some("p1".to_owned())));
        let refused = join(
            &shared,
            "child-2",
            json!({"session": shared.signer.sign_json(&claims("child"), 60), "params": {"_csrf_token": "CSRF"}}),
        );
        assert!(matches!(refused, Err(Refusal::OtherView)));
        let unknown = shared.signer.sign_json(&claims("gone"), 60);
        let refused = join(
            &shared,
            "child-1",
            json!({"session": unknown, "params": {"_csrf_token": "CSRF"}}),
        );
        assert_eq!(refused.err().unwrap().reason(), "stale");
    }
}
