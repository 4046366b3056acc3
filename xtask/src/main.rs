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

mod assets;
mod bench;
mod checks;
mod docs;
mod run;
mod server;
mod services;

use assets::*;
use bench::*;
use checks::*;
use docs::*;
use run::*;
use server::*;
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
  lint     `cargo fmt --all -- --check`,
           `cargo clippy --workspace --all-targets -- -D warnings` (also with
           the Redis backend and the multi-node tests) and the docs build
           without warnings
  probe    [--only attack,attack]: the hardening probe (loadgen probe) against a
           fresh release examples server per attack: what each attack costs it
  bench    load benchmark: our server, LiveViewJS 0.8.1 (js/bench) and a bare
           WebSocket echo server driven by xtask/loadgen; prints the table and
           writes target/bench/results.{md,json}; then the criterion benches
           of liveview-diff. Quick by default; `--full` for figures (3 runs,
           hold_50000). Other args go to `loadgen suite` (e.g. `--only
           counter,table`, `--servers ours,echo`, `--reps 5`, `--hold 20000`)
  docs [--no-open]
           `cargo doc` of the workspace (warnings are errors), then opens the
           user guide (target/doc/liveview_hyper/guide/index.html)
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
        "docs" => docs(&rest),
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
