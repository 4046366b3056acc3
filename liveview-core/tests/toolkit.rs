//! The test toolkit itself (`liveview_core::testing`), on a view built to exercise every kind
//! of binding: focus/blur, keys with `phx-key`, JS commands (`push` with a value and a target,
//! client-only commands), hooks, components targeted by selector, typed form values
//! (numbers, checkboxes, multi-selects, nested and list fields), and the failures a user
//! sees.

use std::time::Duration;

use liveview_core::testing::{live, LiveOptions, TestError};
use liveview_core::{
    html, ComponentSocket, Endpoint, LiveComponent, LiveView, Meta, Params, Rendered, Router,
    Session, Socket, ViewResult,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Default)]
struct Counter;

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum CounterEvent {
    Bump,
}

impl LiveComponent for Counter {
    type State = u32;
    type Props = ();
    type Event = CounterEvent;

    fn update(&self, _: &mut ComponentSocket<Self>, (): ()) {}

    async fn handle_event(
        &self,
        socket: &mut ComponentSocket<Self>,
        CounterEvent::Bump: CounterEvent,
    ) -> ViewResult {
        socket.assign(|n| *n += 1);
        Ok(())
    }

    fn render(&self, n: &u32, meta: &Meta<'_>) -> Rendered {
        html! { div.counter id=(format!("counter-{}", meta.myself.unwrap_or_default())) { span.n { (n) } } }
    }
}

#[derive(Default)]
struct Bindings;

#[derive(Default)]
struct State {
    log: Vec<String>,
}

/// The view logs each event with `Debug`: the fields are read there.
#[allow(dead_code)]
#[derive(Deserialize, Debug)]
#[serde(rename_all = "snake_case")]
enum Event {
    Focused {
        value: String,
    },
    Blurred {
        value: String,
    },
    Key {
        key: String,
    },
    Pushed {
        from: String,
        extra: u32,
    },
    Hook {
        n: u32,
    },
    Save {
        #[serde(flatten)]
        form: std::collections::BTreeMap<String, Value>,
    },
}

impl LiveView for Bindings {
    type State = State;
    type Event = Event;
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Bindings");
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let line = format!("{event:?}");
        if let Event::Hook { n } = &event {
            socket.push_event("hooked", &json!({ "n": n }));
        }
        socket.assign(|s| s.log.push(line));
        Ok(())
    }

    fn render(&self, state: &State, meta: &Meta<'_>) -> Rendered {
        html! {
            input #field name="field" value="typed" phx-focus="focused" phx-blur="blurred";
            input #keys phx-keyup="key" phx-key="Enter";
            div #js phx-click=r##"[["push",{"event":"pushed","value":{"extra":7}}],["hide",{"to":"#modal"}]]"## phx-value-from="js" {}
            div #client-only phx-click=r##"[["toggle",{"to":"#modal"}]]"## {}
            div #to-component phx-click=r##"[["push",{"event":"bump","target":"#counter-1"}]]"## {}
            (meta.live_component(Counter, "one", ()))
            form #typed phx-submit="save" {
                input name="user[name]" value="";
                input name="user[age]" type="number" value="1";
                input name="user[admin]" type="hidden" value="false";
                input name="user[admin]" type="checkbox" value="true";
                select name="user[tags][]" multiple {
                    option value="a" { "A" } option value="b" { "B" } option value="c" { "C" }
                }
                input name="user[items][0][name]" value="first";
            }
            ol #log { @for line in &state.log { li { (line) } } }
        }
    }
}

fn app() -> std::sync::Arc<Endpoint> {
    Endpoint::builder(Router::new().live("/", Bindings))
        .random_secret_key()
        .build()
        .unwrap()
}

#[tokio::test]
async fn focus_blur_and_keys_send_what_the_client_sends() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/").await?;
    view.element("#field").focus().await?;
    view.element("#field").blur().await?;
    view.element("#keys").keyup("a").await?; // filtered by phx-key: nothing sent
    view.element("#keys").keyup("Enter").await?;
    let log = view.text("#log")?;
    assert!(log.contains(r#"Focused { value: "typed" }"#), "{log}");
    assert!(log.contains(r#"Blurred { value: "typed" }"#), "{log}");
    assert_eq!(log.matches("Key {").count(), 1, "{log}");
    assert!(log.contains(r#"Key { key: "Enter" }"#), "{log}");
    Ok(())
}

#[tokio::test]
async fn js_commands_push_with_values_and_targets_and_the_rest_stays_in_the_browser(
) -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/").await?;
    view.element("#js").click().await?;
    assert!(
        view.text("#log")?
            .contains(r#"Pushed { from: "js", extra: 7 }"#),
        "{}",
        view.html()
    );
    let before = view.html().to_owned();
    view.element("#client-only").click().await?;
    assert_eq!(view.html(), before, "a toggle sends nothing");
    view.element("#to-component").click().await?;
    view.element("#to-component").click().await?;
    assert_eq!(
        view.text("#counter-1 .n")?,
        "2",
        "the push went to the component"
    );
    assert_eq!(view.count("#log li", ""), 1, "not to the view");
    Ok(())
}

#[tokio::test]
async fn hooks_push_and_pushed_events_are_taken_in_order() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/").await?;
    view.render_hook("hook", json!({"n": 1})).await?;
    view.element("#field")
        .render_hook("hook", json!({"n": 2}))
        .await?;
    assert_eq!(view.assert_push_event("hooked")?, json!({"n": 1}));
    assert_eq!(view.assert_push_event("hooked")?, json!({"n": 2}));
    let missing = view.assert_push_event("hooked").unwrap_err();
    assert!(
        missing.to_string().contains("no event \"hooked\""),
        "{missing}"
    );
    Ok(())
}

#[derive(Serialize)]
struct User {
    name: String,
    age: u32,
    admin: bool,
    tags: Vec<&'static str>,
    items: Vec<Item>,
}

#[derive(Serialize)]
struct Item {
    name: String,
}

#[tokio::test]
async fn typed_values_fill_a_form_as_the_browser_would_send_it() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/").await?;
    let user = User {
        name: "Ada".into(),
        age: 36,
        admin: true,
        tags: vec!["a", "c"],
        items: vec![Item {
            name: "slide rule".into(),
        }],
    };
    // The form as a map: the decoded keys of the URL-encoded value the client sends.
    view.form("#typed")
        .with(&json!({ "user": user }))?
        .submit()
        .await?;
    let log = view.text("#log")?;
    for part in [
        r#""name": String("Ada")"#,
        r#""age": String("36")"#,
        r#""admin": String("true")"#,
        r#""tags": Array [String("a"), String("c")]"#,
        // Indexed rows (`items[0][name]`) are a list, as serde_qs decodes form events.
        r#""items": Array [Object {"name": String("slide rule")}]"#,
    ] {
        assert!(log.contains(part), "{part} in {log}");
    }
    Ok(())
}

#[tokio::test]
async fn a_field_the_form_lacks_is_refused_with_the_fields_it_has() {
    let app = app();
    let mut view = live(&app, "/").await.unwrap();
    let err = view
        .form("#typed")
        .fill("user[nmae]", "x")
        .submit()
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("user[nmae]") && message.contains("user[name]"),
        "{message}"
    );
}

#[tokio::test]
async fn a_bad_selector_and_a_missing_binding_say_so() {
    let app = app();
    let mut view = live(&app, "/").await.unwrap();
    let bad = view.element("div[").click().await.unwrap_err();
    assert!(bad.to_string().contains("invalid CSS selector"), "{bad}");
    let unbound = view.element("#log").click().await.unwrap_err();
    assert!(matches!(unbound, TestError::NoBinding(_)), "{unbound}");
    assert!(unbound.to_string().contains("phx-click"), "{unbound}");
}

#[tokio::test]
async fn waiting_for_what_never_comes_times_out_with_the_page() {
    let app = app();
    let mut view = LiveOptions::new()
        .timeout(Duration::from_millis(50))
        .mount(&app, "/")
        .await
        .unwrap();
    let err = view.wait_for("#never", "").await.unwrap_err();
    assert!(matches!(err, TestError::Timeout(_)), "{err}");
    assert!(
        err.to_string().contains("id=\"log\""),
        "the page is shown: {err}"
    );
}

#[tokio::test]
async fn unrouted_paths_are_not_found() {
    let app = app();
    let err = live(&app, "/nowhere").await.unwrap_err();
    assert!(
        matches!(err, TestError::NotFound(ref path) if path == "/nowhere"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_event_is_an_error_with_the_servers_reason_and_the_view_goes_on() {
    let app = app();
    let mut view = live(&app, "/").await.unwrap();
    let err = view.render_click("nope", json!({})).await.unwrap_err();
    let TestError::Refused { what, reason } = &err else {
        panic!("expected a refusal, got {err}");
    };
    assert!(what.contains("nope"), "{what}");
    assert_eq!(reason, "unknown event");
    let err = view
        .render_click("pushed", json!({"from": "x", "extra": "many"}))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("invalid value") && err.to_string().contains("extra"),
        "{err}"
    );
    // Nothing was lost: the view still answers.
    view.element("#js").click().await.unwrap();
    assert_eq!(view.count("#log li", ""), 1);
}

mod async_and_infos {
    use std::time::Duration;

    use liveview_core::testing::{live, TestError};
    use liveview_core::{
        html, AsyncResult, AsyncValue, Endpoint, LiveView, Meta, Params, Rendered, Router, Session,
        Socket, ViewResult,
    };

    #[derive(Default)]
    struct Report;

    #[derive(Default)]
    struct State {
        total: AsyncResult<u32>,
        summary: Option<String>,
        pings: u32,
    }

    enum Info {
        Ping,
    }

    impl LiveView for Report {
        type State = State;
        type Event = ();
        type Info = Info;

        async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
            socket.assign_async("total", |s| &mut s.total, async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Ok::<_, String>(42)
            });
            socket.start_async("summary", async {
                tokio::time::sleep(Duration::from_millis(60)).await;
                "all good".to_owned()
            });
            Ok(())
        }

        async fn handle_async(
            &self,
            socket: &mut Socket<Self>,
            _name: &str,
            result: Result<AsyncValue, String>,
        ) -> ViewResult {
            let summary = result.ok().and_then(|v| v.downcast::<String>().ok());
            socket.assign(|s| s.summary = summary);
            Ok(())
        }

        async fn handle_info(&self, socket: &mut Socket<Self>, Info::Ping: Info) -> ViewResult {
            socket.assign(|s| s.pings += 1);
            Ok(())
        }

        fn render(&self, state: &State, _: &Meta<'_>) -> Rendered {
            html! {
                @match &state.total {
                    AsyncResult::Loading => { p #total { "loading" } }
                    AsyncResult::Ok(total) => { p #total { (total) } }
                    AsyncResult::Failed(reason) => { p #total { (reason) } }
                }
                p #summary { (state.summary.as_deref().unwrap_or("…")) }
                p #pings { (state.pings) }
            }
        }
    }

    fn app() -> std::sync::Arc<Endpoint> {
        Endpoint::builder(Router::new().live("/", Report))
            .random_secret_key()
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn render_async_waits_for_every_task_and_shows_the_results() -> Result<(), TestError> {
        let app = app();
        let mut view = live(&app, "/").await?;
        assert_eq!(view.text("#total")?, "loading");
        view.render_async().await?;
        assert_eq!(view.text("#total")?, "42");
        assert_eq!(view.text("#summary")?, "all good");
        Ok(())
    }

    #[tokio::test]
    async fn send_info_reaches_handle_info() -> Result<(), TestError> {
        let app = app();
        let mut view = live(&app, "/").await?;
        view.send_info::<Report>(Info::Ping).await?;
        view.send_info::<Report>(Info::Ping).await?;
        view.wait_for("#pings", "2").await?;
        // The wrong view type says so.
        let err = view.send_info::<super::Bindings>(()).await.unwrap_err();
        assert!(err.to_string().contains("is not a"), "{err}");
        Ok(())
    }
}
