//! `loadgen`: the LiveView load generator of `cargo xtask bench`.
//!
//! It speaks the protocol like the real client (page GET with a cookie jar, CSRF token,
//! container id and session from the page, `/live/websocket`, `phx_join`, one event at a time
//! per connection, heartbeats) and measures joins, event round trips, throughput, reply sizes,
//! errors, and the server's memory and CPU from `/proc`.
//!
//! ```text
//! loadgen suite --ours EXE --echo EXE --node-dir DIR --out DIR [--full] [--reps N]
//!               [--hold N] [--hold-js N] [--secs N] [--only a,b] [--servers ours,liveviewjs,echo]
//! loadgen ws    --server 127.0.0.1:4000 [--path /counter] [--conns 1] [--events 2000]
//!               [--event inc] [--value '{"value":""}'] [--pid PID] [--sources N]
//! loadgen http  --server 127.0.0.1:4000 [--path /counter] [--conns 2] [--secs 10] [--pid PID]
//! loadgen fanout --sender 127.0.0.1:4000 --receivers 127.0.0.1:4001 [--path /rtcounter]
//!               [--conns 1000] [--messages 50] [--event inc] [--setup N]
//! loadgen probe --exe target/release/liveview-examples [--only deep-query,slowloris]
//! ```
//!
//! Traffic only ever goes to 127.0.0.0/8: other addresses are refused.

mod client;
mod fanout;
mod load;
mod probe;
mod procfs;
mod suite;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage:
  loadgen suite --ours EXE --echo EXE --node-dir DIR --out DIR [--full] [--reps N]
                [--hold N] [--hold-js N] [--secs N] [--only a,b] [--servers ours,liveviewjs,echo]
  loadgen ws    --server ADDR [--path /counter] [--conns 1] [--events 2000] [--event inc]
                [--value JSON] [--pid PID] [--sources N] [--setup N]
  loadgen http  --server ADDR [--path /counter] [--conns 2] [--secs 10] [--pid PID]
  loadgen fanout --sender ADDR --receivers ADDR [--path /rtcounter] [--conns 1000]
                [--messages 50] [--event inc] [--setup N]
                (cross-node delivery latency: two nodes sharing a pub/sub backend)
  loadgen probe --exe EXAMPLES_SERVER [--only attack,attack]   (the hardening probe)";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let options = match parse_options(args) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("loadgen: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_str() {
        "suite" => suite_command(&options),
        "ws" => ws_command(&options),
        "http" => http_command(&options),
        "fanout" => fanout_command(&options),
        "probe" => probe_command(&options),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loadgen {command}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `--flag value` pairs; `--full` is the only flag without a value.
struct Options(HashMap<String, String>);

fn parse_options(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut map = HashMap::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let Some(name) = arg.strip_prefix("--") else {
            return Err(format!("unexpected argument `{arg}`"));
        };
        if name == "full" {
            map.insert(name.to_owned(), "true".to_owned());
            continue;
        }
        let value = args
            .next()
            .ok_or_else(|| format!("--{name} needs a value"))?;
        map.insert(name.to_owned(), value);
    }
    Ok(Options(map))
}

impl Options {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required"))
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            Some(text) => text
                .parse()
                .map_err(|_| format!("--{name}: `{text}` is not a number")),
            None => Ok(default),
        }
    }

    fn server(&self) -> Result<SocketAddr, String> {
        self.address("server")
    }

    /// `--name 127.0.0.1:PORT` (or `http://...`): a loopback address.
    fn address(&self, name: &str) -> Result<SocketAddr, String> {
        let text = self.required(name)?;
        let text = text.trim_start_matches("http://").trim_end_matches('/');
        let address: SocketAddr = text
            .parse()
            .map_err(|_| format!("--{name}: `{text}` is not IP:PORT"))?;
        match address {
            SocketAddr::V4(v4) if v4.ip().is_loopback() => Ok(address),
            _ => Err(format!("--{name} {address}: only 127.0.0.0/8 is allowed")),
        }
    }
}

fn suite_command(o: &Options) -> Result<(), String> {
    let full = o.get("full").is_some();
    let hold = o.number("hold", if full { 50_000 } else { 1_000 })?;
    let servers = match o.get("servers") {
        Some(list) => list
            .split(',')
            .map(|name| suite::Kind::parse(name).ok_or_else(|| format!("unknown server `{name}`")))
            .collect::<Result<Vec<_>, _>>()?,
        None => suite::Kind::ALL.to_vec(),
    };
    let settings = suite::Settings {
        full,
        reps: o.number("reps", if full { 3 } else { 1 })?,
        hold,
        hold_js: o.number("hold-js", hold.min(10_000))?,
        dead_render_secs: o.number("secs", if full { 10 } else { 3 })?,
        only: o
            .get("only")
            .map(|list| list.split(',').map(str::to_owned).collect()),
        servers,
        ours: PathBuf::from(o.required("ours")?),
        echo: PathBuf::from(o.required("echo")?),
        node_dir: PathBuf::from(o.required("node-dir")?),
        out: PathBuf::from(o.required("out")?),
    };
    let markdown = suite::run(&settings)?;
    println!("{markdown}");
    eprintln!(
        "written: {} and results.json",
        settings.out.join("results.md").display()
    );
    Ok(())
}

fn print_metrics(metrics: &load::Metrics) {
    for (name, value) in metrics {
        println!("{name:>24}  {value:.4}");
    }
}

fn ws_command(o: &Options) -> Result<(), String> {
    let conns = o.number("conns", 1)?;
    let spec = load::WsSpec {
        server: o.server()?,
        path: o.get("path").unwrap_or("/counter").to_owned(),
        conns,
        events: o.number("events", 2000)?,
        event: o.get("event").unwrap_or("inc").to_owned(),
        value: o.get("value").unwrap_or(r#"{"value":""}"#).to_owned(),
        pid: o
            .get("pid")
            .map(str::parse)
            .transpose()
            .map_err(|_| "--pid")?,
        sources: o.number("sources", 1)?,
        setup_concurrency: o.number("setup", conns.min(256))?,
        warmup_events: o.number("warmup", 0)?,
        settle: Duration::from_millis(500),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    print_metrics(&runtime.block_on(load::run_ws(spec)));
    Ok(())
}

fn fanout_command(o: &Options) -> Result<(), String> {
    let conns = o.number("conns", 1000)?;
    let spec = fanout::FanoutSpec {
        sender: o.address("sender")?,
        receivers: o.address("receivers")?,
        path: o.get("path").unwrap_or("/rtcounter").to_owned(),
        conns,
        messages: o.number("messages", 50)?,
        event: o.get("event").unwrap_or("inc").to_owned(),
        setup_concurrency: o.number("setup", conns.min(64))?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    print_metrics(&runtime.block_on(fanout::run_fanout(spec))?);
    Ok(())
}

fn http_command(o: &Options) -> Result<(), String> {
    let metrics = load::run_http(
        o.server()?,
        o.get("path").unwrap_or("/counter"),
        o.number("conns", 2)?,
        Duration::from_secs(o.number("secs", 10)?),
        o.get("pid")
            .map(str::parse)
            .transpose()
            .map_err(|_| "--pid")?,
    );
    print_metrics(&metrics);
    Ok(())
}

fn probe_command(o: &Options) -> Result<(), String> {
    let only: Option<Vec<String>> = o
        .get("only")
        .map(|list| list.split(',').map(str::to_owned).collect());
    let report = probe::run(&PathBuf::from(o.required("exe")?), only.as_deref())?;
    println!("{report}");
    Ok(())
}
