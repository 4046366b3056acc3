//! `/async`: a dashboard whose panels load at different speeds without blocking the page
//! (`assign_async`, `AsyncResult`), one that fails and can be retried, and a long report built
//! with `start_async`/`handle_async`. The page shows how many async tasks the server runs;
//! leaving it cancels the page's tasks (`/async/tasks` shows the count afterwards).

use std::time::Duration;

use liveview_core::{
    html, telemetry, AsyncResult, AsyncValue, LiveView, Meta, Params, Rendered, Session, Socket,
    ViewResult,
};
use serde::Deserialize;

/// The dashboard view, with the speed of its (simulated) services.
#[derive(Debug, Clone)]
pub struct AsyncDashboard {
    fast: Duration,
    slow: Duration,
    report: Duration,
}

impl Default for AsyncDashboard {
    fn default() -> Self {
        Self {
            fast: Duration::from_millis(300),
            slow: Duration::from_millis(1500),
            report: Duration::from_secs(60),
        }
    }
}

/// One dashboard's state: each panel is an [`AsyncResult`] the template matches on.
#[derive(Debug, Default)]
pub struct State {
    visitors: AsyncResult<u64>,
    revenue: AsyncResult<String>,
    rates: AsyncResult<String>,
    /// How many times the rates were asked for (the first attempt fails).
    rate_attempts: u32,
    /// The yearly report, built by `start_async`: `None` while it builds.
    report: Option<String>,
    /// Async tasks running on the server, refreshed by a tick.
    tasks: usize,
}

/// The dashboard's events.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// `phx-click="retry-rates"`: load the failed panel again.
    RetryRates,
}

/// The dashboard's infos.
#[derive(Debug)]
pub enum Info {
    /// Refresh the task count.
    Tick,
}

/// The exchange-rate service: down on the first call of each page, up afterwards.
async fn fetch_rates(attempt: u32, delay: Duration) -> Result<String, String> {
    tokio::time::sleep(delay).await;
    if attempt == 1 {
        Err("the rate service is unavailable (503)".to_owned())
    } else {
        Ok("1 EUR = 1.08 USD".to_owned())
    }
}

impl AsyncDashboard {
    fn load_rates(&self, socket: &mut Socket<Self>) {
        let attempt = socket.assign(|state| {
            state.rate_attempts += 1;
            state.rate_attempts
        });
        let delay = self.fast;
        socket.assign_async("rates", |s| &mut s.rates, fetch_rates(attempt, delay));
    }
}

impl LiveView for AsyncDashboard {
    type State = State;
    type Event = Event;
    type Info = Info;

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Async dashboard");
        let (fast, slow, report) = (self.fast, self.slow, self.report);
        socket.assign_async("visitors", |s| &mut s.visitors, async move {
            tokio::time::sleep(fast).await;
            Ok::<_, String>(1_284)
        });
        socket.assign_async("revenue", |s| &mut s.revenue, async move {
            tokio::time::sleep(slow).await;
            Ok::<_, String>("€ 12,940".to_owned())
        });
        self.load_rates(socket);
        socket.start_async("report", async move {
            tokio::time::sleep(report).await;
            "412 orders, 3 refunds".to_owned()
        });
        socket.repeat(Duration::from_millis(250), || Info::Tick);
        socket.assign(|state| state.tasks = telemetry::async_tasks());
        Ok(())
    }

    async fn handle_event(&self, socket: &mut Socket<Self>, event: Event) -> ViewResult {
        let Event::RetryRates = event;
        self.load_rates(socket);
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, info: Info) -> ViewResult {
        let Info::Tick = info;
        let tasks = telemetry::async_tasks();
        if socket.context().tasks != tasks {
            socket.assign(|state| state.tasks = tasks);
        }
        Ok(())
    }

    async fn handle_async(
        &self,
        socket: &mut Socket<Self>,
        name: &str,
        result: Result<AsyncValue, String>,
    ) -> ViewResult {
        if name == "report" {
            let report = match result {
                Ok(value) => value.downcast::<String>().unwrap_or_default(),
                Err(reason) => format!("The report failed: {reason}"),
            };
            socket.assign(|state| state.report = Some(report));
        }
        Ok(())
    }

    fn render(&self, state: &State, _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Async dashboard" }
            p { "Each panel loads on its own; the page never waits for the slowest." }
            div.panels {
                section.panel #visitors {
                    h2 { "Visitors today" }
                    @match &state.visitors {
                        AsyncResult::Loading => { p.loading { "Loading…" } }
                        AsyncResult::Ok(count) => { p.value { (count) } }
                        AsyncResult::Failed(reason) => { p.error { (reason) } }
                    }
                }
                section.panel #revenue {
                    h2 { "Revenue" }
                    @match &state.revenue {
                        AsyncResult::Loading => { p.loading { "Loading…" } }
                        AsyncResult::Ok(amount) => { p.value { (amount) } }
                        AsyncResult::Failed(reason) => { p.error { (reason) } }
                    }
                }
                section.panel #rates {
                    h2 { "Exchange rates" }
                    @match &state.rates {
                        AsyncResult::Loading => { p.loading { "Loading…" } }
                        AsyncResult::Ok(rates) => { p.value { (rates) } }
                        AsyncResult::Failed(reason) => {
                            p.error { "Could not load: " (reason) }
                            button #retry-rates phx-click="retry-rates" { "Retry" }
                        }
                    }
                }
                section.panel #report {
                    h2 { "Yearly report" }
                    @match &state.report {
                        None => { p.loading { "Building (this takes a minute)…" } }
                        Some(report) => { p.value { (report) } }
                    }
                }
            }
            p #tasks { "Async tasks running on the server: " span #task-count { (state.tasks) } }
            p {
                a #leave href="/async/tasks" data-phx-link="redirect" data-phx-link-state="push" { "Leave this page" }
                " · "
                a href="/" { "All examples" }
            }
        }
    }
}

/// `/async/tasks`: how many async tasks the server runs (to see that leaving `/async`
/// cancelled its tasks).
#[derive(Debug, Default)]
pub struct AsyncTasks;

impl LiveView for AsyncTasks {
    type State = usize;
    type Event = ();
    type Info = ();

    async fn mount(&self, socket: &mut Socket<Self>, _: &Params, _: &Session) -> ViewResult {
        socket.page_title("Async tasks");
        socket.repeat(Duration::from_millis(250), || ());
        socket.assign(|tasks| *tasks = telemetry::async_tasks());
        Ok(())
    }

    async fn handle_info(&self, socket: &mut Socket<Self>, _: ()) -> ViewResult {
        let tasks = telemetry::async_tasks();
        if *socket.context() != tasks {
            socket.assign(|count| *count = tasks);
        }
        Ok(())
    }

    fn render(&self, tasks: &usize, _meta: &Meta<'_>) -> Rendered {
        html! {
            h1 { "Async tasks" }
            p #tasks { "Async tasks running on the server: " span #task-count { (tasks) } }
            p {
                a href="/async" data-phx-link="redirect" data-phx-link-state="push" { "Back to the async dashboard" }
                " · "
                a href="/" { "All examples" }
            }
        }
    }
}
