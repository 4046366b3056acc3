//! `loadgen suite`: every scenario against our server, LiveViewJS and the echo server, each
//! run on a freshly started server process, medians over repetitions, ratios, targets, and
//! `results.md` / `results.json`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::load::{self, Metrics, WsSpec};

/// The servers under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Ours,
    LiveViewJs,
    Echo,
}

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::Ours, Kind::LiveViewJs, Kind::Echo];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::LiveViewJs => "liveviewjs",
            Kind::Echo => "echo",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::LiveViewJs => "LiveViewJS 0.8.1",
            Kind::Echo => "echo ceiling",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Suite settings (`loadgen suite --help`).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) full: bool,
    pub(crate) reps: usize,
    pub(crate) hold: usize,
    /// Views held by LiveViewJS (Node's heap makes 50,000 impractical).
    pub(crate) hold_js: usize,
    pub(crate) dead_render_secs: u64,
    pub(crate) only: Option<Vec<String>>,
    pub(crate) servers: Vec<Kind>,
    pub(crate) ours: PathBuf,
    pub(crate) echo: PathBuf,
    pub(crate) node_dir: PathBuf,
    pub(crate) out: PathBuf,
}

#[derive(Debug, Clone)]
enum Load {
    Ws {
        path: &'static str,
        conns: usize,
        events: usize,
        event: &'static str,
        value: &'static str,
    },
    Hold,
    /// `conns` views joined all at once (a reconnect storm after a deploy).
    Storm {
        conns: usize,
    },
    Http {
        path: &'static str,
        conns: usize,
    },
}

#[derive(Debug, Clone)]
struct Scenario {
    name: String,
    what: String,
    load: Load,
}

const CLICK: &str = r#"{"value":""}"#;

fn scenarios(settings: &Settings) -> Vec<Scenario> {
    let ws = |name: &str, what: &str, path, conns, events, event, value| Scenario {
        name: name.to_owned(),
        what: what.to_owned(),
        load: Load::Ws {
            path,
            conns,
            events,
            event,
            value,
        },
    };
    vec![
        ws(
            "counter_1x2000",
            "one connection, 2,000 `inc` events, each waiting for its reply",
            "/counter",
            1,
            2000,
            "inc",
            CLICK,
        ),
        ws(
            "counter_200x50",
            "200 connections, 50 `inc` events each, all at once",
            "/counter",
            200,
            50,
            "inc",
            CLICK,
        ),
        ws(
            "table_50x100",
            "`/table`, 50 connections, 100 `bump` events each (`{\"id\": \"5\"}`)",
            "/table",
            50,
            100,
            "bump",
            r#"{"id":"5"}"#,
        ),
        Scenario {
            name: format!("hold_{}", settings.hold),
            what: format!(
                "{} idle counter views held open (LiveViewJS: {}), memory per view",
                settings.hold, settings.hold_js
            ),
            load: Load::Hold,
        },
        Scenario {
            name: "storm_1000".to_owned(),
            what: "1,000 counter views joined all at once (a reconnect storm), memory per view"
                .to_owned(),
            load: Load::Storm { conns: 1000 },
        },
        Scenario {
            name: "dead_render".to_owned(),
            what: format!(
                "`GET /counter` over 2 keep-alive connections for {} s (like `wrk -t1 -c2`)",
                settings.dead_render_secs
            ),
            load: Load::Http {
                path: "/counter",
                conns: 2,
            },
        },
    ]
}

/// A server process under test; killed when dropped.
struct Server {
    child: Child,
    address: SocketAddr,
}

impl Server {
    fn start(kind: Kind, settings: &Settings, log: &Path) -> Result<Server, String> {
        let mut cmd = match kind {
            Kind::Ours => {
                let mut cmd = Command::new(&settings.ours);
                cmd.env("RUST_LOG", "warn").env(
                    "SECRET_KEY",
                    "bench-secret-key-0123456789abcdef0123456789abcdef",
                );
                cmd
            }
            Kind::LiveViewJs => {
                let mut cmd = Command::new("node");
                cmd.arg("--max-old-space-size=8192")
                    .arg("server.js")
                    .current_dir(&settings.node_dir);
                cmd
            }
            Kind::Echo => Command::new(&settings.echo),
        };
        let log_file = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        cmd.env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", kind.name()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = listening_address(&line) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(address);
                    }
                }
            }
        });
        let mut server = Server {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => {
                server.address = address;
                Ok(server)
            }
            Err(_) => Err(format!(
                "{} printed no `listening on http://…` line (log: {})",
                kind.name(),
                log.display()
            )),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in a `listening on http://127.0.0.1:PORT` line.
fn listening_address(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on http://")? + "listening on http://".len()..];
    let address: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    address.parse().ok()
}

/// The soft open-file limit of this process.
fn open_file_limit() -> Option<u64> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Medians per figure, per server, per scenario.
type Results = BTreeMap<String, BTreeMap<Kind, (Metrics, Vec<Metrics>)>>;

/// Runs the suite and writes the report; returns the Markdown table.
pub(crate) fn run(settings: &Settings) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let logs = settings.out.join("logs");
    fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    // Each process (the server, and this one) holds one socket per held view, and our server
    // serves at most three quarters of its open-file limit as connections
    // (`liveview_hyper::ServeOptions::max_connections`, the rest kept for files).
    let fits = |limit: u64| {
        limit
            .saturating_sub(1000)
            .min((limit / 4 * 3).saturating_sub(100))
    };
    let mut capped = settings.clone();
    if let Some(limit) = open_file_limit().filter(|&limit| fits(limit) < settings.hold as u64) {
        let hold = (fits(limit) as usize).max(100);
        eprintln!(
            "loadgen: warning: the open-file limit is {limit} (raise it with `ulimit -n`): \
             holding {hold} views instead of {}",
            settings.hold
        );
        capped.hold = hold;
        capped.hold_js = capped.hold_js.min(hold);
    }
    let settings = &capped;
    let all = scenarios(settings);
    let mut results: Results = BTreeMap::new();
    for scenario in &all {
        if let Some(only) = &settings.only {
            if !only.iter().any(|o| scenario.name.starts_with(o.as_str())) {
                continue;
            }
        }
        let reps = if matches!(scenario.load, Load::Hold | Load::Storm { .. }) {
            1
        } else {
            settings.reps
        };
        for &kind in &settings.servers {
            let mut runs = Vec::new();
            for rep in 1..=reps {
                let log = logs.join(format!("{}-{}-{rep}.log", scenario.name, kind.name()));
                let server = Server::start(kind, settings, &log)?;
                let pid = Some(server.pid());
                let metrics = match &scenario.load {
                    Load::Ws {
                        path,
                        conns,
                        events,
                        event,
                        value,
                    } => runtime.block_on(load::run_ws(WsSpec {
                        server: server.address,
                        path: (*path).to_owned(),
                        conns: *conns,
                        events: *events,
                        event: (*event).to_owned(),
                        value: (*value).to_owned(),
                        pid,
                        sources: 1,
                        setup_concurrency: *conns,
                        warmup_events: 200,
                        settle: Duration::from_millis(500),
                    })),
                    Load::Hold => {
                        let views = if kind == Kind::LiveViewJs {
                            settings.hold_js
                        } else {
                            settings.hold
                        };
                        runtime.block_on(load::run_ws(WsSpec {
                            server: server.address,
                            path: "/counter".to_owned(),
                            conns: views,
                            events: 0,
                            event: "inc".to_owned(),
                            value: CLICK.to_owned(),
                            pid,
                            // Each view takes two ports (page GET, socket): keep well under
                            // the ~28,000 ephemeral ports of one source address.
                            sources: (views / 8000 + 1).min(250) as u8,
                            setup_concurrency: 128,
                            warmup_events: 0,
                            settle: Duration::from_secs(2),
                        }))
                    }
                    Load::Storm { conns } => runtime.block_on(load::run_ws(WsSpec {
                        server: server.address,
                        path: "/counter".to_owned(),
                        conns: *conns,
                        events: 0,
                        event: "inc".to_owned(),
                        value: CLICK.to_owned(),
                        pid,
                        sources: 1,
                        setup_concurrency: *conns,
                        warmup_events: 0,
                        settle: Duration::from_secs(2),
                    })),
                    Load::Http { path, conns } => load::run_http(
                        server.address,
                        path,
                        *conns,
                        Duration::from_secs(settings.dead_render_secs),
                        pid,
                    ),
                };
                drop(server);
                eprintln!(
                    "{} {} run {rep}/{reps}: {}",
                    scenario.name,
                    kind.name(),
                    metrics
                        .iter()
                        .map(|(k, v)| format!("{k} {}", number(*v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                runs.push(metrics);
            }
            let median = medians(&runs);
            results
                .entry(scenario.name.clone())
                .or_default()
                .insert(kind, (median, runs));
        }
    }
    let targets = targets(settings, &results);
    let markdown = markdown(settings, &all, &results, &targets);
    fs::write(settings.out.join("results.md"), &markdown)
        .map_err(|e| format!("results.md: {e}"))?;
    let json = json_report(settings, &results, &targets);
    fs::write(
        settings.out.join("results.json"),
        serde_json::to_string_pretty(&json).expect("JSON") + "\n",
    )
    .map_err(|e| format!("results.json: {e}"))?;
    Ok(markdown)
}

/// The median of each figure over the runs (the order of the first run).
fn medians(runs: &[Metrics]) -> Metrics {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|(name, _)| {
            let mut values: Vec<f64> = runs
                .iter()
                .filter_map(|run| run.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
                .filter(|v| !v.is_nan())
                .collect();
            values.sort_by(f64::total_cmp);
            let median = match values.len() {
                0 => f64::NAN,
                n if n % 2 == 1 => values[n / 2],
                n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
            };
            (name.clone(), median)
        })
        .collect()
}

fn figure(results: &Results, scenario: &str, kind: Kind, name: &str) -> Option<f64> {
    results
        .get(scenario)?
        .get(&kind)?
        .0
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
}

/// A number for the table: integers above 100, otherwise 3 significant digits.
fn number(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let magnitude = value.abs();
    if magnitude >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else if magnitude >= 0.01 {
        format!("{value:.3}")
    } else {
        format!("{value:.4}")
    }
}

fn ratio(ours: Option<f64>, other: Option<f64>) -> Option<f64> {
    match (ours, other) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    }
}

fn ratio_text(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |r| format!("{}x", number(r)))
}

/// One target of the issue, checked.
struct Target {
    goal: String,
    value: String,
    pass: Option<bool>,
}

fn targets(settings: &Settings, r: &Results) -> Vec<Target> {
    let mut out = Vec::new();
    let mut check = |goal: &str, value: Option<f64>, unit: &str, pass: &dyn Fn(f64) -> bool| {
        out.push(Target {
            goal: goal.to_owned(),
            value: value.map_or_else(
                || "not measured".to_owned(),
                |v| format!("{}{unit}", number(v)),
            ),
            pass: value.map(pass),
        });
    };
    let ours = |s: &str, f: &str| figure(r, s, Kind::Ours, f);
    let js = |s: &str, f: &str| figure(r, s, Kind::LiveViewJs, f);
    let echo = |s: &str, f: &str| figure(r, s, Kind::Echo, f);
    let vs_echo = |s: &str, f: &str| ratio(ours(s, f), echo(s, f));
    check(
        "counter_1x2000 events/s ≥ 0.8x echo",
        vs_echo("counter_1x2000", "events/s"),
        "x",
        &|v| v >= 0.8,
    );
    check(
        "counter_1x2000 server CPU/event ≤ 1.5x echo",
        vs_echo("counter_1x2000", "server cpu ms/event"),
        "x",
        &|v| v <= 1.5,
    );
    check(
        "counter_200x50 server CPU/event ≤ 1.5x echo",
        vs_echo("counter_200x50", "server cpu ms/event"),
        "x",
        &|v| v <= 1.5,
    );
    check(
        "counter_200x50 events/s ≥ 0.9x echo",
        vs_echo("counter_200x50", "events/s"),
        "x",
        &|v| v >= 0.9,
    );
    check(
        "counter_200x50 rtt p99 ≤ 1.2x echo",
        vs_echo("counter_200x50", "rtt p99 ms"),
        "x",
        &|v| v <= 1.2,
    );
    let hold = format!("hold_{}", settings.hold);
    check(
        &format!(
            "idle counter view ({} views) ≤ 5 KB resident",
            settings.hold
        ),
        ours(&hold, "server KB/view"),
        " KB",
        &|v| v <= 5.0,
    );
    check(
        &format!(
            "idle counter view ({} views) below the echo's per-socket cost",
            settings.hold
        ),
        vs_echo(&hold, "server KB/view"),
        "x",
        &|v| v < 1.0,
    );
    check(
        "storm_1000: resident per view ≤ 0.8x the echo's per socket",
        vs_echo("storm_1000", "server KB/view"),
        "x",
        &|v| v <= 0.8,
    );
    check(
        "table_50x100 server memory per view ≤ 16 KB",
        ours("table_50x100", "server KB/view"),
        " KB",
        &|v| v <= 16.0,
    );
    check(
        "table_50x100 events/s ≥ 30x LiveViewJS",
        ratio(
            ours("table_50x100", "events/s"),
            js("table_50x100", "events/s"),
        ),
        "x",
        &|v| v >= 30.0,
    );
    check(
        "table_50x100 reply frame bytes/event < 130",
        ours("table_50x100", "reply bytes/event"),
        " B",
        &|v| v < 130.0,
    );
    check(
        "dead_render requests/s ≥ 0.9x echo",
        vs_echo("dead_render", "requests/s"),
        "x",
        &|v| v >= 0.9,
    );
    out
}

fn markdown(settings: &Settings, all: &[Scenario], r: &Results, targets: &[Target]) -> String {
    let mut md = String::new();
    let mode = if settings.full { "full" } else { "quick" };
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    md.push_str(&format!(
        "# LiveView load benchmark ({mode} mode)\n\n\
         {cpus} CPUs shared by the servers and the load generator; every server is restarted for \
         each run; figures are medians of {} run(s) ({} for hold). Ratios are ours / reference, \
         measured in the same run by the same generator (`xtask/loadgen`). Latencies are client \
         round trips (join: `phx_join` sent to its reply). Server memory is `VmRSS`, CPU is \
         `utime+stime` of `/proc/<pid>/stat` around the event phase.\n\n",
        settings.reps, 1
    ));
    md.push_str("## Targets\n\n| target | measured | |\n| --- | --- | --- |\n");
    for t in targets {
        let mark = match t.pass {
            Some(true) => "pass",
            Some(false) => "**miss**",
            None => "–",
        };
        md.push_str(&format!("| {} | {} | {mark} |\n", t.goal, t.value));
    }
    for scenario in all {
        let Some(by_kind) = r.get(&scenario.name) else {
            continue;
        };
        md.push_str(&format!("\n## {}\n\n{}\n\n", scenario.name, scenario.what));
        md.push_str("| figure |");
        for kind in &settings.servers {
            md.push_str(&format!(" {} |", kind.title()));
        }
        let ratio_js =
            settings.servers.contains(&Kind::LiveViewJs) && settings.servers.contains(&Kind::Ours);
        let ratio_echo =
            settings.servers.contains(&Kind::Echo) && settings.servers.contains(&Kind::Ours);
        if ratio_js {
            md.push_str(" ours / LiveViewJS |");
        }
        if ratio_echo {
            md.push_str(" ours / echo |");
        }
        md.push_str("\n| --- |");
        let columns = settings.servers.len() + usize::from(ratio_js) + usize::from(ratio_echo);
        md.push_str(&" ---: |".repeat(columns));
        md.push('\n');
        let mut names: Vec<&str> = Vec::new();
        for kind in &settings.servers {
            if let Some((median, _)) = by_kind.get(kind) {
                for (name, _) in median {
                    if !names.contains(&name.as_str()) {
                        names.push(name);
                    }
                }
            }
        }
        for name in names {
            md.push_str(&format!("| {name} |"));
            for &kind in &settings.servers {
                let value = figure(r, &scenario.name, kind, name);
                md.push_str(&format!(
                    " {} |",
                    value.map_or_else(|| "–".to_owned(), number)
                ));
            }
            let ours = figure(r, &scenario.name, Kind::Ours, name);
            if ratio_js {
                let js = figure(r, &scenario.name, Kind::LiveViewJs, name);
                md.push_str(&format!(" {} |", ratio_text(ratio(ours, js))));
            }
            if ratio_echo {
                let echo = figure(r, &scenario.name, Kind::Echo, name);
                md.push_str(&format!(" {} |", ratio_text(ratio(ours, echo))));
            }
            md.push('\n');
        }
    }
    md
}

fn metrics_json(metrics: &Metrics) -> Value {
    let mut map = Map::new();
    for (name, value) in metrics {
        map.insert(name.clone(), json!(value));
    }
    Value::Object(map)
}

fn json_report(settings: &Settings, r: &Results, targets: &[Target]) -> Value {
    let mut scenarios = Map::new();
    for (name, by_kind) in r {
        let mut kinds = Map::new();
        for (kind, (median, runs)) in by_kind {
            kinds.insert(
                kind.name().to_owned(),
                json!({
                    "median": metrics_json(median),
                    "runs": runs.iter().map(metrics_json).collect::<Vec<_>>(),
                }),
            );
        }
        scenarios.insert(name.clone(), Value::Object(kinds));
    }
    json!({
        "mode": if settings.full { "full" } else { "quick" },
        "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        "cpus": thread::available_parallelism().map_or(0, |n| n.get()),
        "reps": settings.reps,
        "hold_views": settings.hold,
        "hold_views_liveviewjs": settings.hold_js,
        "scenarios": scenarios,
        "targets": targets.iter().map(|t| json!({"target": t.goal, "measured": t.value, "pass": t.pass})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_lines_are_read() {
        assert_eq!(
            listening_address("listening on http://127.0.0.1:4100"),
            Some("127.0.0.1:4100".parse().unwrap())
        );
        assert_eq!(
            listening_address("\u{1b}[2m..\u{1b}[0m listening on http://127.0.0.1:39017/ (x)"),
            Some("127.0.0.1:39017".parse().unwrap())
        );
        assert_eq!(listening_address("starting"), None);
    }

    #[test]
    fn medians_of_odd_and_even_runs() {
        let run = |v: f64| vec![("x".to_owned(), v)];
        assert_eq!(
            medians(&[run(3.0), run(1.0), run(2.0)]),
            vec![("x".to_owned(), 2.0)]
        );
        assert_eq!(medians(&[run(1.0), run(2.0)]), vec![("x".to_owned(), 1.5)]);
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(number(12345.678), "12346");
        assert_eq!(number(4.5678), "4.57");
        assert_eq!(number(0.0123), "0.012");
        assert_eq!(number(0.00123), "0.0012");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(f64::NAN), "–");
    }
}
