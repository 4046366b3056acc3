//! Development tasks for the liveview workspace, run as `cargo xtask <task>`
//! (the alias lives in `.cargo/config.toml`).
//!
//! Everything here spawns other programs: cargo (through the `CARGO`
//! environment variable), npm and node. The JavaScript side lives in `js/`:
//! the browser bundle (`js/app.js`), the conformance harness (`js/oracle/`)
//! and the browser tests (`js/e2e/`).

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, SystemTime};

mod services;

use services::{ensure_tools, hold_default_redis_port, RedisServer, CHROMIUM, REDIS_SERVER};

const USAGE: &str = "\
usage: cargo xtask <task> [args]

tasks:
  assets   install the npm packages of js/ if needed (npm ci) and bundle
           js/app.js into js/dist/app.js (esbuild)
  run [--nodes N]
           assets, then `cargo run --release -p examples` (args after the
           task are passed to the server; PORT overrides 4000). With
           `--nodes N` (N > 1): starts a redis-server of its own on a free
           port and N example servers sharing it (REDIS_URL, one SECRET_KEY)
           on ports PORT, PORT+1, ...; ctrl-c stops them all
  e2e      assets, build the example server, start it on a free port and
           run the browser tests js/e2e/*.test.mjs against it; then start a
           redis-server and two servers sharing it and run
           js/e2e/nodes/*.test.mjs (needs chromium and redis-server;
           CHROMIUM overrides the chromium on PATH)
  test     checks chromium and redis-server (installs them with apt-get when
           root on Debian, else stops with the command to run), starts a
           redis-server on a free port (REDIS_URL) and holds 127.0.0.1:6379
           with a decoy; then assets, `cargo test --workspace` (with the
           Redis backend and its tests), the oracle tests
           (js/oracle/test/*.test.js), the multi-node tests (examples/tests/
           nodes.rs), then e2e; stops redis-server at the end, also on failure
  fuzz-diff [--cases N]
           the property-based diff conformance test with N cases
  lint     `cargo fmt --all -- --check` and
           `cargo clippy --workspace --all-targets -- -D warnings` (also with
           the Redis backend and the multi-node tests)
  probe    [--only attack,attack]: the hardening probe (loadgen probe) against a
           fresh release examples server per attack: what each attack costs it
  bench    load benchmark: our server, LiveViewJS 0.8.1 (js/bench) and a bare
           WebSocket echo server driven by xtask/loadgen; prints the table and
           writes target/bench/results.{md,json}; then the criterion benches
           of liveview-diff. Quick by default; `--full` for figures (3 runs,
           hold_50000). Other args go to `loadgen suite` (e.g. `--only
           counter,table`, `--servers ours,echo`, `--reps 5`, `--hold 20000`)
  help     this text";

/// How long the example server may take to print its `listening on` line.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    let task = args.next().unwrap_or_else(|| "help".to_owned());
    let rest: Vec<String> = args.collect();
    let result = match task.as_str() {
        "assets" => assets(),
        "run" => run(&rest),
        "e2e" => e2e_task(),
        "test" => test(),
        "lint" => lint(),
        "fuzz-diff" => fuzz_diff(&rest),
        "fuzz" => fuzz(&rest),
        "bench" => bench(&rest),
        "probe" => probe(&rest),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("xtask: unknown task `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask {task}: {err}");
            ExitCode::FAILURE
        }
    }
}

/// A failed task, with a message for the user.
#[derive(Debug)]
struct TaskError(String);

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T, E = TaskError> = std::result::Result<T, E>;

fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(TaskError(message.into()))
}

/// The repository root (the parent of this crate).
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

/// A `Command` for the cargo that runs us.
fn cargo() -> Command {
    let program = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(program);
    cmd.current_dir(project_root());
    cmd
}

/// `program args...` for messages.
fn describe(cmd: &Command) -> String {
    let mut out = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        out.push(' ');
        out.push_str(&arg.to_string_lossy());
    }
    out
}

fn spawn_error(cmd: &Command, err: io::Error) -> TaskError {
    let program = cmd.get_program().to_string_lossy();
    let hint = match program.as_ref() {
        "npm" | "node" if err.kind() == io::ErrorKind::NotFound => {
            " (Node.js 20.19 or newer with npm must be on PATH)"
        }
        _ => "",
    };
    TaskError(format!("cannot start `{}`: {err}{hint}", describe(cmd)))
}

/// Runs `cmd` with inherited stdio and fails unless it exits successfully.
fn run_checked(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", describe(cmd));
    let status = cmd.status().map_err(|err| spawn_error(cmd, err))?;
    if status.success() {
        Ok(())
    } else {
        fail(format!("`{}` failed ({status})", describe(cmd)))
    }
}

// ---------------------------------------------------------------- assets

fn assets() -> Result<()> {
    let js = project_root().join("js");
    if npm_install_needed(&js) {
        // No package needs its install script: esbuild's binary comes in its
        // platform package, and playwright-core downloads no browser.
        run_checked(
            Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(&js),
        )?;
    }
    let esbuild = js.join("node_modules").join(".bin").join("esbuild");
    run_checked(
        Command::new(esbuild)
            .args([
                "app.js",
                "--bundle",
                "--format=iife",
                "--minify",
                "--target=es2020",
                "--outfile=dist/app.js",
                "--log-level=warning",
            ])
            .current_dir(&js),
    )
}

/// `npm ci` is needed when `js/node_modules` is missing or older than
/// `js/package-lock.json` (npm writes `node_modules/.package-lock.json` on
/// every install).
fn npm_install_needed(js: &Path) -> bool {
    let modified =
        |path: PathBuf| -> Option<SystemTime> { fs::metadata(path).ok()?.modified().ok() };
    let installed = modified(js.join("node_modules").join(".package-lock.json"));
    let locked = modified(js.join("package-lock.json"));
    match (installed, locked) {
        (Some(installed), Some(locked)) => locked > installed,
        _ => true,
    }
}

/// The files in `dir` (relative to the root) whose names end in `suffix`,
/// sorted, as paths relative to the root. `node --test DIR` cannot be used:
/// node 21+ takes its arguments as globs and no longer searches directories.
fn test_files(dir: &str, suffix: &str) -> Result<Vec<String>> {
    let entries = fs::read_dir(project_root().join(dir))
        .map_err(|err| TaskError(format!("cannot list {dir}: {err}")))?;
    let mut files: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(suffix))
        .map(|name| format!("{dir}/{name}"))
        .collect();
    files.sort();
    if files.is_empty() {
        return fail(format!("no *{suffix} files in {dir}"));
    }
    Ok(files)
}

// ---------------------------------------------------------------- run

fn run(args: &[String]) -> Result<()> {
    if let Some(index) = args.iter().position(|arg| arg == "--nodes") {
        let nodes = args.get(index + 1).and_then(|n| n.parse::<u16>().ok());
        let Some(nodes) = nodes.filter(|n| *n >= 1) else {
            return fail("usage: cargo xtask run --nodes N (N >= 1)");
        };
        if nodes > 1 {
            let mut rest = args.to_vec();
            rest.drain(index..index + 2);
            return run_nodes(nodes, &rest);
        }
        let mut rest = args.to_vec();
        rest.drain(index..index + 2);
        return run(&rest);
    }
    assets()?;
    let mut cmd = cargo();
    cmd.args(["run", "--release", "-p", "examples"]);
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    run_checked(&mut cmd)
}

/// `cargo xtask run --nodes N`: a redis-server of our own and N example servers (release)
/// sharing it, on ports PORT, PORT+1, ... (PORT defaults to 4000), with one `SECRET_KEY` (the
/// environment's, or a random one) so a page rendered by one node joins on any other. Runs
/// until ctrl-c or until a server exits; everything is stopped on the way out.
fn run_nodes(nodes: u16, args: &[String]) -> Result<()> {
    ensure_tools(&[REDIS_SERVER])?;
    assets()?;
    let bins = build_release_binaries(&["examples"])?;
    let Some(exe) = bins.iter().find(|bin| {
        bin.file_name()
            .is_some_and(|name| name == "liveview-examples")
    }) else {
        return fail("the release build produced no `liveview-examples` binary");
    };
    let base_port: u16 = match env::var("PORT") {
        Ok(port) => match port.parse() {
            Ok(port) => port,
            Err(_) => return fail(format!("PORT={port} is not a port number")),
        },
        Err(_) => 4000,
    };
    let redis = RedisServer::start()?;
    eprintln!("redis-server at {} (stopped with the nodes)", redis.url());
    let secret = match env::var("SECRET_KEY") {
        Ok(secret) => secret,
        Err(_) => random_hex(32)?,
    };
    let mut servers = Vec::new();
    for node in 0..nodes {
        let port = base_port
            .checked_add(node)
            .ok_or_else(|| TaskError(format!("no port {base_port} + {node}")))?;
        let label = format!("node {}", node_name(node));
        let server = Server::start_with(
            exe,
            &label,
            &[
                ("PORT", port.to_string()),
                ("REDIS_URL", redis.url()),
                ("SECRET_KEY", secret.clone()),
                ("NODE_NAME", node_name(node)),
            ],
            args,
        )?;
        servers.push(server);
    }
    eprintln!(
        "\n{nodes} nodes sharing {} (ctrl-c stops them):",
        redis.url()
    );
    for (node, server) in servers.iter().enumerate() {
        eprintln!("  {}: {}", node_name(node as u16), server.base_url);
    }
    loop {
        for server in &mut servers {
            if let Ok(Some(status)) = server.child.try_wait() {
                if status.success() {
                    // Stopped by ctrl-c (or SIGTERM): the others are stopped on the way out.
                    eprintln!(
                        "{} stopped; stopping the other nodes and redis-server",
                        server.label
                    );
                    return Ok(());
                }
                return fail(format!("{} exited ({status})", server.label));
            }
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// `a`, `b`, ... `z`, then `node26`, ...
fn node_name(node: u16) -> String {
    match u8::try_from(node) {
        Ok(n) if n < 26 => char::from(b'a' + n).to_string(),
        _ => format!("node{node}"),
    }
}

/// `bytes` random bytes from the OS, hex-encoded.
fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut random| io::Read::read_exact(&mut random, &mut buf))
        .map_err(|err| TaskError(format!("cannot read /dev/urandom: {err}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

// ---------------------------------------------------------------- e2e

/// `cargo xtask e2e`: the browser tests, with a redis-server of their own for the
/// multi-node ones.
fn e2e_task() -> Result<()> {
    ensure_tools(&[CHROMIUM, REDIS_SERVER])?;
    assets()?;
    let redis = RedisServer::start()?;
    e2e(&redis.url())
    // `redis` is dropped here, which stops it, also when a test failed.
}

/// The browser tests: js/e2e/*.test.mjs against one example server (in-process pub/sub),
/// then js/e2e/nodes/*.test.mjs against two servers sharing the Redis at `redis_url`.
fn e2e(redis_url: &str) -> Result<()> {
    let exe = build_example_server()?;
    let chromium = CHROMIUM
        .path()
        .ok_or_else(|| TaskError("chromium is not installed".into()))?;
    {
        let server = Server::start_with(&exe, "server", &[("PORT", "0".into())], &[])?;
        eprintln!("example server at {}", server.base_url);
        run_checked(
            Command::new("node")
                .arg("--test")
                .args(test_files("js/e2e", ".test.mjs")?)
                .env("BASE_URL", &server.base_url)
                .env("CHROMIUM", &chromium)
                .current_dir(project_root()),
        )?;
        // `server` is dropped here, which stops it, also when node failed.
    }
    let secret = random_hex(32)?;
    let mut urls = Vec::new();
    let mut servers = Vec::new();
    for node in ["a", "b"] {
        let server = Server::start_with(
            &exe,
            &format!("node {node}"),
            &[
                ("PORT", "0".into()),
                ("REDIS_URL", redis_url.to_owned()),
                ("SECRET_KEY", secret.clone()),
                ("NODE_NAME", node.to_owned()),
            ],
            &[],
        )?;
        urls.push(server.base_url.clone());
        servers.push(server);
    }
    eprintln!("two nodes sharing {redis_url}: {}", urls.join(" "));
    run_checked(
        Command::new("node")
            .arg("--test")
            .args(test_files("js/e2e/nodes", ".test.mjs")?)
            .env("BASE_URL_A", &urls[0])
            .env("BASE_URL_B", &urls[1])
            .env("CHROMIUM", &chromium)
            .current_dir(project_root()),
    )
}

/// Builds the `examples` package (debug) and returns the path of its binary.
fn build_example_server() -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "-p",
        "examples",
        "--message-format=json-render-diagnostics",
    ])
    .stdout(Stdio::piped());
    eprintln!("$ {}", describe(&cmd));
    let output = cmd.output().map_err(|err| spawn_error(&cmd, err))?;
    if !output.status.success() {
        return fail(format!("`{}` failed ({})", describe(&cmd), output.status));
    }
    let manifest = project_root().join("examples").join("Cargo.toml");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let bins = package_binaries(&stdout, &manifest);
    match bins.as_slice() {
        [exe] => Ok(exe.clone()),
        [] => fail("`cargo build -p examples` produced no binary"),
        many => fail(format!(
            "the examples package has several binaries, do not know which one serves the examples: {many:?}"
        )),
    }
}

/// Executables of the binary targets of the package at `manifest`, from
/// cargo's `--message-format=json` output.
fn package_binaries(messages: &str, manifest: &Path) -> Vec<PathBuf> {
    let mut bins = Vec::new();
    for line in messages.lines() {
        if json_string_field(line, "reason").as_deref() != Some("compiler-artifact")
            || !line.contains(r#""kind":["bin"]"#)
        {
            continue;
        }
        let Some(manifest_path) = json_string_field(line, "manifest_path") else {
            continue;
        };
        if Path::new(&manifest_path) != manifest {
            continue;
        }
        if let Some(exe) = json_string_field(line, "executable") {
            let exe = PathBuf::from(exe);
            if !bins.contains(&exe) {
                bins.push(exe);
            }
        }
    }
    bins
}

/// The first `"key":"value"` string in a line of cargo's compact JSON,
/// unescaped. Good enough for cargo's messages; not a JSON parser.
fn json_string_field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut out = String::new();
    let mut chars = line[start..].chars();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
}

/// A running example server; stopped when dropped.
#[derive(Debug)]
struct Server {
    child: Child,
    base_url: String,
    /// How its output lines are prefixed (`server`, `node a`).
    label: String,
}

impl Server {
    /// Starts `exe args` with the environment variables `envs` (`PORT` among them) and waits
    /// for its `listening on <url>` line. Its output is echoed prefixed with `[label]`.
    fn start_with(
        exe: &Path,
        label: &str,
        envs: &[(&str, String)],
        args: &[String],
    ) -> Result<Server> {
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .envs(envs.iter().map(|(key, value)| (*key, value.as_str())))
            .current_dir(project_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let shown: Vec<String> = envs
            .iter()
            .map(|(key, value)| match *key {
                "SECRET_KEY" => format!("{key}=…"),
                _ => format!("{key}={value}"),
            })
            .collect();
        eprintln!("$ {} {}", shown.join(" "), describe(&cmd));
        let mut child = cmd.spawn().map_err(|err| spawn_error(&cmd, err))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (found, listening) = mpsc::channel();
        let prefix = format!("[{label}]");
        // Keeps draining (and echoing) the server's output so it never blocks
        // on a full pipe.
        thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                eprintln!("{prefix} {line}");
                if let Some(url) = listening_url(&line) {
                    if let Some(found) = found.take() {
                        let _ = found.send(url);
                    }
                }
            }
        });
        let mut server = Server {
            child,
            base_url: String::new(),
            label: label.to_owned(),
        };
        match listening.recv_timeout(SERVER_START_TIMEOUT) {
            Ok(url) => {
                server.base_url = url;
                Ok(server)
            }
            Err(mpsc::RecvTimeoutError::Timeout) => fail(format!(
                "{label} printed no `listening on http://...` line within {}s",
                SERVER_START_TIMEOUT.as_secs()
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = server.child.wait().map(|s| s.to_string());
                fail(format!(
                    "{label} closed its stdout before printing `listening on http://...` ({})",
                    status.unwrap_or_else(|err| err.to_string())
                ))
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `http://127.0.0.1:PORT` from a line containing `listening on http://127.0.0.1:PORT`.
fn listening_url(line: &str) -> Option<String> {
    let rest = &line[line.find("listening on ")? + "listening on ".len()..];
    let url: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let url = url.trim_end_matches('/');
    let port = url.strip_prefix("http://")?.rsplit_once(':')?.1;
    (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())).then(|| url.to_owned())
}

// ---------------------------------------------------------------- test

fn test() -> Result<()> {
    // Stop at once (before the long build) if a program is missing and cannot be installed.
    ensure_tools(&[REDIS_SERVER, CHROMIUM])?;
    // Nothing may depend on the default Redis port: hold it (unless something else does).
    let _decoy = hold_default_redis_port();
    let redis = RedisServer::start()?;
    let redis_url = redis.url();
    eprintln!("redis-server for the tests at {redis_url} (stopped at the end)");
    let root = project_root();
    type Step<'a> = (String, Box<dyn Fn() -> Result<()> + 'a>);
    let steps: Vec<Step<'_>> = vec![
        ("assets".into(), Box::new(assets)),
        (
            format!(
                "REDIS_URL={redis_url} cargo test --workspace --features liveview-pubsub/redis \
                 (the Redis tests use REDIS_URL; 127.0.0.1:6379 is not Redis)"
            ),
            Box::new(|| {
                run_checked(
                    cargo()
                        .args(["test", "--workspace", "--features", "liveview-pubsub/redis"])
                        .env("REDIS_URL", &redis_url),
                )
            }),
        ),
        (
            "node --test js/oracle/test/*.test.js".into(),
            Box::new(move || {
                run_checked(
                    Command::new("node")
                        .arg("--test")
                        .args(test_files("js/oracle/test", ".test.js")?)
                        .current_dir(&root),
                )
            }),
        ),
        (
            "cargo test -p examples --features redis-tests --test nodes \
             (server processes sharing a redis-server of each test's own)"
                .into(),
            Box::new(|| {
                run_checked(
                    cargo()
                        .args(["test", "-p", "examples", "--features", "redis-tests"])
                        .args(["--test", "nodes"]),
                )
            }),
        ),
        ("e2e".into(), Box::new(|| e2e(&redis_url))),
    ];
    let count = steps.len();
    for (index, (name, step)) in steps.iter().enumerate() {
        eprintln!("\n==> xtask test: step {}/{count}: {name}", index + 1);
        if let Err(err) = step() {
            return fail(format!("step {}/{count} ({name}) FAILED: {err}", index + 1));
        }
    }
    eprintln!("\n==> xtask test: all {count} steps passed");
    Ok(())
    // `redis` and the decoy are dropped here (and on every early return): both are stopped.
}

// ---------------------------------------------------------------- fuzz-diff

/// `cargo xtask fuzz-diff --cases N`: the property-based diff conformance test (random
/// templates and state changes, merged by the real client) with N cases instead of the default.
fn fuzz_diff(args: &[String]) -> Result<()> {
    let cases = match args {
        [] => "1024".to_owned(),
        [flag, cases] if flag == "--cases" && cases.parse::<u64>().is_ok() => cases.clone(),
        _ => return fail("usage: cargo xtask fuzz-diff [--cases N]"),
    };
    assets()?;
    run_checked(
        cargo()
            .args([
                "test",
                "--release",
                "-p",
                "liveview-diff",
                "--test",
                "fuzz_diff",
                "--",
                "--nocapture",
            ])
            .env("LIVEVIEW_FUZZ_CASES", cases),
    )
}

// ---------------------------------------------------------------- fuzz

/// `cargo xtask fuzz <target|all> [--seconds N] [--sanitizer address|none] [-- LIBFUZZER_ARGS]`:
/// runs the cargo-fuzz targets of `fuzz/` (libFuzzer) for N seconds each (default 60), with
/// the committed seeds (`fuzz/seeds/<target>`) and the local corpus (`fuzz/corpus/<target>`,
/// git-ignored). Installs cargo-fuzz if `cargo fuzz` is missing; runs it on the stable
/// toolchain with `RUSTC_BOOTSTRAP=1`. A crash, a hang (an input running over 10 s) or a leak
/// fails the task; libFuzzer saves the input under `fuzz/artifacts/<target>/`. Prints the
/// executions of each target at the end.
fn fuzz(args: &[String]) -> Result<()> {
    const TARGETS: [&str; 4] = ["frame_text", "frame_binary", "event_payload", "escape"];
    const USAGE: &str = "usage: cargo xtask fuzz <target|all> [--seconds N] \
        [--sanitizer address|none] [-- LIBFUZZER_ARGS]\ntargets: frame_text frame_binary \
        event_payload escape";
    let (ours, libfuzzer_args) = match args.iter().position(|arg| arg == "--") {
        Some(index) => (&args[..index], &args[index + 1..]),
        None => (args, &[][..]),
    };
    let mut targets = Vec::new();
    let mut seconds = 60u64;
    let mut sanitizer = None;
    let mut ours = ours.iter();
    while let Some(arg) = ours.next() {
        match arg.as_str() {
            "--seconds" => match ours.next().and_then(|n| n.parse().ok()) {
                Some(n) => seconds = n,
                None => return fail(USAGE),
            },
            "--sanitizer" => match ours.next() {
                Some(name) => sanitizer = Some(name.clone()),
                None => return fail(USAGE),
            },
            "all" => targets.extend(TARGETS),
            target => match TARGETS.iter().find(|known| **known == target) {
                Some(known) => targets.push(*known),
                None => return fail(format!("unknown fuzz target `{target}`\n{USAGE}")),
            },
        }
    }
    if targets.is_empty() {
        return fail(USAGE);
    }

    let installed = cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !installed {
        run_checked(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }

    let fuzz_dir = project_root().join("fuzz");
    let mut done = Vec::new();
    for target in targets {
        let corpus = fuzz_dir.join("corpus").join(target);
        fs::create_dir_all(&corpus)
            .map_err(|err| TaskError(format!("cannot create {}: {err}", corpus.display())))?;
        let mut cmd = cargo();
        cmd.args(["fuzz", "run"]);
        if let Some(sanitizer) = &sanitizer {
            cmd.args(["--sanitizer", sanitizer]);
        }
        cmd.arg(target)
            .arg(&corpus)
            .arg(fuzz_dir.join("seeds").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-timeout=10")
            .arg("-print_final_stats=1");
        if target != "frame_binary" {
            let dict = fuzz_dir.join("dict").join("protocol.dict");
            cmd.arg(format!("-dict={}", dict.display()));
        }
        cmd.args(libfuzzer_args)
            .env("RUSTC_BOOTSTRAP", "1")
            .stderr(Stdio::piped());
        eprintln!("$ RUSTC_BOOTSTRAP=1 {}", describe(&cmd));
        let mut child = cmd.spawn().map_err(|err| spawn_error(&cmd, err))?;
        // Echo libFuzzer's output (it writes to stderr) and keep its final figures.
        let mut executions = None;
        for line in BufReader::new(child.stderr.take().expect("stderr is piped")).lines() {
            let Ok(line) = line else { break };
            eprintln!("{line}");
            if let Some(count) = line.strip_prefix("stat::number_of_executed_units: ") {
                executions = Some(count.trim().to_owned());
            }
        }
        let status = child.wait().map_err(|err| spawn_error(&cmd, err))?;
        if !status.success() {
            return fail(format!(
                "fuzz target {target} failed ({status}); the input is in fuzz/artifacts/{target}/"
            ));
        }
        done.push((target, executions.unwrap_or_else(|| "?".to_owned())));
    }
    eprintln!("\n==> xtask fuzz: {seconds} s per target, no failure");
    for (target, executions) in done {
        eprintln!("    {target:<14} {executions:>12} executions");
    }
    Ok(())
}

// ---------------------------------------------------------------- lint

fn lint() -> Result<()> {
    run_checked(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run_checked(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The Redis backend and the multi-node tests are behind features.
    run_checked(cargo().args([
        "clippy",
        "-p",
        "liveview-pubsub",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    run_checked(cargo().args([
        "clippy",
        "-p",
        "examples",
        "--all-targets",
        "--features",
        "redis-tests",
        "--",
        "-D",
        "warnings",
    ]))
}

// ---------------------------------------------------------------- bench

/// Builds the example server and `loadgen` in release, installs the LiveViewJS fixture
/// (`npm ci` in `js/bench`), runs `loadgen suite` with a raised open-file limit, then the
/// criterion benches of `liveview-diff`. Dead renders are measured by loadgen's own
/// keep-alive request loop (an equivalent of `wrk -t1 -c2`), so wrk is not needed.
/// The hardening probe: attacks a fresh release examples server per attack (loopback only) and
/// reports what each cost it (`loadgen probe`).
fn probe(args: &[String]) -> Result<()> {
    let bins = build_release_binaries(&["examples", "loadgen"])?;
    let find = |name: &str| {
        bins.iter()
            .find(|b| b.file_name().is_some_and(|f| f == name))
            .cloned()
            .ok_or_else(|| TaskError(format!("the release build produced no `{name}` binary")))
    };
    run_checked(
        Command::new(find("loadgen")?)
            .arg("probe")
            .arg("--exe")
            .arg(find("liveview-examples")?)
            .args(args),
    )
}

fn bench(args: &[String]) -> Result<()> {
    let root = project_root();
    let full = args.iter().any(|a| a == "--full");
    let fixture = root.join("js").join("bench");
    if npm_install_needed(&fixture) {
        run_checked(
            Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(&fixture),
        )?;
    }
    let bins = build_release_binaries(&["examples", "loadgen"])?;
    let bin = |name: &str| -> Result<PathBuf> {
        match bins
            .iter()
            .find(|b| b.file_name().is_some_and(|f| f == name))
        {
            Some(path) => Ok(path.clone()),
            None => fail(format!("the release build produced no `{name}` binary")),
        }
    };
    let (ours, loadgen, echo) = (
        bin("liveview-examples")?,
        bin("loadgen")?,
        bin("echo-server")?,
    );
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let out = target.join("bench");
    fs::create_dir_all(&out).map_err(|err| TaskError(format!("{}: {err}", out.display())))?;
    // Tens of thousands of sockets: raise the open-file limit for loadgen and the servers it
    // starts (they inherit it).
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@""#)
        .arg(&loadgen)
        .arg("suite")
        .arg("--ours")
        .arg(&ours)
        .arg("--echo")
        .arg(&echo)
        .arg("--node-dir")
        .arg(&fixture)
        .arg("--out")
        .arg(&out)
        .args(args)
        .current_dir(&root);
    run_checked(&mut cmd)?;
    if root.join("liveview-diff").join("benches").is_dir() {
        let mut cmd = cargo();
        cmd.args(["bench", "-p", "liveview-diff", "--bench", "*", "--"]);
        if !full {
            cmd.args(["--warm-up-time", "0.5", "--measurement-time", "1"]);
        }
        run_checked(&mut cmd)?;
    }
    Ok(())
}

/// Builds `packages` in release and returns their binaries.
fn build_release_binaries(packages: &[&str]) -> Result<Vec<PathBuf>> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
    ]);
    for package in packages {
        cmd.args(["-p", package]);
    }
    cmd.stdout(Stdio::piped());
    eprintln!("$ {}", describe(&cmd));
    let output = cmd.output().map_err(|err| spawn_error(&cmd, err))?;
    if !output.status.success() {
        return fail(format!("`{}` failed ({})", describe(&cmd), output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let root = project_root();
    let mut bins = Vec::new();
    for dir in ["examples", "xtask/loadgen"] {
        bins.extend(package_binaries(
            &stdout,
            &root.join(dir).join("Cargo.toml"),
        ));
    }
    Ok(bins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_url_is_found() {
        assert_eq!(
            listening_url("listening on http://127.0.0.1:4000").as_deref(),
            Some("http://127.0.0.1:4000")
        );
        assert_eq!(
            listening_url("2026-01-01T00:00:00Z INFO examples: listening on http://127.0.0.1:39017/ (ctrl-c stops)")
                .as_deref(),
            Some("http://127.0.0.1:39017")
        );
        assert_eq!(
            listening_url("listening on http://127.0.0.1:41\u{1b}[0m").as_deref(),
            Some("http://127.0.0.1:41")
        );
        assert_eq!(listening_url("listening on http://127.0.0.1:"), None);
        assert_eq!(listening_url("starting"), None);
    }

    #[test]
    fn binaries_are_read_from_cargo_messages() {
        let manifest = Path::new("/repo/examples/Cargo.toml");
        let messages = [
            r#"{"reason":"compiler-artifact","package_id":"path+file:///repo/examples#0.1.0","manifest_path":"/repo/examples/Cargo.toml","target":{"kind":["custom-build"],"name":"build-script-build"},"executable":null,"fresh":true}"#,
            r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.0","manifest_path":"/home/.cargo/itoa/Cargo.toml","target":{"kind":["lib"],"name":"itoa"},"executable":null,"fresh":true}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///repo/examples#0.1.0","manifest_path":"/repo/examples/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"example-server"},"executable":"/repo/target/debug/example-server","fresh":false}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(
            package_binaries(&messages, manifest),
            vec![PathBuf::from("/repo/target/debug/example-server")]
        );
    }

    #[test]
    fn json_strings_are_unescaped() {
        assert_eq!(
            json_string_field(r#"{"a":"x\"y\\z\u00e9"}"#, "a").as_deref(),
            Some("x\"y\\z\u{e9}")
        );
        assert_eq!(json_string_field(r#"{"a":null}"#, "a"), None);
    }
}
