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

mod report;

use report::{json_report, markdown, medians, number, targets};

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
}
