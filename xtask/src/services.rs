//! What the tasks need besides cargo and node: the system programs (`redis-server`,
//! `chromium`), installed with apt-get when we can or named with the command to run when
//! we cannot; a `redis-server` of our own on a port the OS picked, stopped when dropped; and
//! a decoy holding 127.0.0.1:6379, so no test can pass by reaching a Redis that happens to
//! run on the default port.

use std::env;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::{describe, fail, project_root, run_checked, spawn_error, Result, TaskError};

/// A system program a task needs, and the Debian package that provides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tool {
    /// The executable looked up on `PATH`.
    pub(crate) program: &'static str,
    /// The Debian package to install when it is missing.
    pub(crate) package: &'static str,
    /// An environment variable that may name the executable instead (`CHROMIUM`).
    pub(crate) override_var: Option<&'static str>,
}

/// The Redis server of the pub/sub and multi-node tests.
pub(crate) const REDIS_SERVER: Tool = Tool {
    program: "redis-server",
    package: "redis-server",
    override_var: None,
};

/// The browser of the browser tests (driven by playwright-core).
pub(crate) const CHROMIUM: Tool = Tool {
    program: "chromium",
    package: "chromium",
    override_var: Some("CHROMIUM"),
};

impl Tool {
    /// Where the program is: the override variable's path if it names a file, else the first
    /// executable on `PATH`.
    pub(crate) fn path(&self) -> Option<PathBuf> {
        if let Some(var) = self.override_var {
            if let Some(path) = env::var_os(var).map(PathBuf::from) {
                return path.is_file().then_some(path);
            }
        }
        find_on_path(self.program)
    }
}

/// The first executable file named `program` in the directories of `PATH`.
pub(crate) fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// How to get missing programs on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InstallPlan {
    /// Nothing is missing.
    Nothing,
    /// We are root on Debian: run these commands ourselves.
    AptGet(Vec<Vec<String>>),
    /// We cannot install: stop with this message (it names the exact command).
    Stop(String),
}

/// Decides how to get `missing` (programs not found), given whether we run as root and on
/// Debian (with apt-get). Pure, so the messages are tested.
pub(crate) fn install_plan(missing: &[Tool], root: bool, debian: bool) -> InstallPlan {
    if missing.is_empty() {
        return InstallPlan::Nothing;
    }
    let programs: Vec<&str> = missing.iter().map(|tool| tool.program).collect();
    let packages: Vec<&str> = missing.iter().map(|tool| tool.package).collect();
    let install = format!(
        "apt-get update && apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    if root && debian {
        let mut apt_install: Vec<String> = ["apt-get", "install", "-y", "--no-install-recommends"]
            .map(String::from)
            .to_vec();
        apt_install.extend(packages.iter().map(|p| p.to_string()));
        return InstallPlan::AptGet(vec![vec!["apt-get".into(), "update".into()], apt_install]);
    }
    let not_found = format!("{} not found on PATH", programs.join(" and "));
    let hint = if debian {
        format!("install with:\n\n    sudo sh -c '{install}'\n")
    } else {
        format!(
            "install {} with your system's package manager (on Debian: sudo sh -c '{install}')",
            packages.join(" and ")
        )
    };
    let overrides: Vec<String> = missing
        .iter()
        .filter_map(|tool| {
            tool.override_var
                .map(|var| format!("{var}=/path/to/{}", tool.program))
        })
        .collect();
    let alternative = if overrides.is_empty() {
        String::new()
    } else {
        format!("\n(or point {} at an installed one)", overrides.join(", "))
    };
    InstallPlan::Stop(format!("{not_found}; {hint}{alternative}"))
}

/// Makes sure every tool is installed: installs the missing ones with apt-get when running as
/// root on Debian (saying so), or fails at once with the command to run.
pub(crate) fn ensure_tools(tools: &[Tool]) -> Result<()> {
    let missing: Vec<Tool> = tools
        .iter()
        .copied()
        .filter(|tool| tool.path().is_none())
        .collect();
    match install_plan(&missing, is_root(), is_debian()) {
        InstallPlan::Nothing => Ok(()),
        InstallPlan::Stop(message) => fail(message),
        InstallPlan::AptGet(commands) => {
            let programs: Vec<&str> = missing.iter().map(|tool| tool.program).collect();
            eprintln!(
                "==> {} missing: installing with apt-get (running as root on Debian)",
                programs.join(" and ")
            );
            for command in commands {
                let mut cmd = Command::new(&command[0]);
                cmd.args(&command[1..])
                    .env("DEBIAN_FRONTEND", "noninteractive");
                run_checked(&mut cmd)?;
            }
            match missing.iter().find(|tool| tool.path().is_none()) {
                None => Ok(()),
                Some(tool) => fail(format!(
                    "apt-get installed {} but `{}` is still not on PATH",
                    tool.package, tool.program
                )),
            }
        }
    }
}

/// Whether we run as root (`id -u` prints 0).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Whether this is Debian (or a derivative) with apt-get.
fn is_debian() -> bool {
    Path::new("/etc/debian_version").exists() && find_on_path("apt-get").is_some()
}

/// A loopback port nobody listens on right now (the OS picks it). Another process may take
/// it before we use it; [`RedisServer::start`] retries with a new port when that happens.
pub(crate) fn free_port() -> Result<u16> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|err| TaskError(format!("cannot get a free loopback port: {err}")))
}

/// How long `redis-server` may take to answer `PING` after it was started.
const REDIS_START_TIMEOUT: Duration = Duration::from_secs(10);

/// A `redis-server` of our own on 127.0.0.1 (no persistence, data in a directory under
/// `target/xtask/`); stopped when dropped, also when the task fails.
#[derive(Debug)]
pub(crate) struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one on a free port (a few attempts, in case another process takes the port
    /// between our probe and redis' bind).
    pub(crate) fn start() -> Result<RedisServer> {
        let mut last = None;
        for _ in 0..5 {
            match RedisServer::start_on(free_port()?) {
                Ok(server) => return Ok(server),
                Err(err) => last = Some(err),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// Starts one on `port`, waiting until it answers `PING`.
    pub(crate) fn start_on(port: u16) -> Result<RedisServer> {
        let binary = REDIS_SERVER
            .path()
            .ok_or_else(|| TaskError("redis-server is not on PATH".into()))?;
        let dir = target_dir().join("xtask").join(format!("redis-{port}"));
        fs::create_dir_all(&dir)
            .map_err(|err| TaskError(format!("cannot create {}: {err}", dir.display())))?;
        let mut cmd = Command::new(binary);
        cmd.args(["--bind", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--logfile", "redis.log"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().map_err(|err| spawn_error(&cmd, err))?;
        let mut server = RedisServer {
            child: Some(child),
            port,
            dir,
        };
        let deadline = Instant::now() + REDIS_START_TIMEOUT;
        loop {
            if redis_ping(port) {
                return Ok(server);
            }
            if let Some(child) = &mut server.child {
                if let Ok(Some(status)) = child.try_wait() {
                    server.child = None;
                    return fail(format!(
                        "`{}` exited ({status}) before answering PING; its log:\n{}",
                        describe(&cmd),
                        server.log_tail()
                    ));
                }
            }
            if Instant::now() > deadline {
                return fail(format!(
                    "`{}` did not answer PING within {}s; its log:\n{}",
                    describe(&cmd),
                    REDIS_START_TIMEOUT.as_secs(),
                    server.log_tail()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The last lines of its log file.
    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Stops it (kill and reap); idempotent.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a Redis answers `PING` on 127.0.0.1:`port`.
pub(crate) fn redis_ping(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    let mut read = 0;
    while read < reply.len() {
        match stream.read(&mut reply[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    &reply[..read] == b"+PONG\r\n"
}

/// The cargo target directory.
pub(crate) fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"))
}

/// What a decoy answers to every connection: a Redis error, so a client that reached it by
/// mistake fails with a message saying why.
pub(crate) const DECOY_REPLY: &[u8] =
    b"-ERR this is not a Redis: cargo xtask holds this port so that tests use REDIS_URL\r\n";

/// Holds a loopback port (6379 during `cargo xtask test`) and answers every connection with
/// [`DECOY_REPLY`]; released when dropped.
#[derive(Debug)]
pub(crate) struct Decoy {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    port: u16,
}

impl Decoy {
    /// Binds 127.0.0.1:`port`; fails if something else holds it (which is just as good).
    pub(crate) fn hold(port: u16) -> io::Result<Decoy> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => answer_as_decoy(stream),
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(20));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(Decoy {
            stop,
            thread: Some(thread),
            port,
        })
    }

    /// The port it holds.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Decoy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers [`DECOY_REPLY`], then reads what the client sent (for up to 200 ms) before closing,
/// so that the client reads the reply rather than a connection reset.
fn answer_as_decoy(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.write_all(DECOY_REPLY);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 512];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

/// Holds 127.0.0.1:6379 with a [`Decoy`] if it is free, and says what holds it.
pub(crate) fn hold_default_redis_port() -> Option<Decoy> {
    match Decoy::hold(6379) {
        Ok(decoy) => {
            eprintln!(
                "127.0.0.1:{} is held by a decoy for this run: the tests must use REDIS_URL",
                decoy.port()
            );
            Some(decoy)
        }
        Err(err) => {
            eprintln!("127.0.0.1:6379 is taken by something else ({err}): the tests use REDIS_URL");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: [Tool; 2] = [REDIS_SERVER, CHROMIUM];

    #[test]
    fn nothing_to_install_when_nothing_is_missing() {
        assert_eq!(install_plan(&[], false, false), InstallPlan::Nothing);
        assert_eq!(install_plan(&[], true, true), InstallPlan::Nothing);
    }

    #[test]
    fn root_on_debian_installs_with_apt_get() {
        let plan = install_plan(&BOTH, true, true);
        let expected = vec![
            vec!["apt-get", "update"],
            vec![
                "apt-get",
                "install",
                "-y",
                "--no-install-recommends",
                "redis-server",
                "chromium",
            ],
        ];
        let InstallPlan::AptGet(commands) = plan else {
            panic!("{plan:?}")
        };
        assert_eq!(commands, expected);
    }

    #[test]
    fn otherwise_it_stops_with_the_exact_command() {
        let InstallPlan::Stop(message) = install_plan(&[REDIS_SERVER], false, true) else {
            panic!()
        };
        assert!(
            message.starts_with("redis-server not found on PATH"),
            "{message}"
        );
        assert!(
            message.contains(
                "sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends redis-server'"
            ),
            "{message}"
        );
        assert!(!message.contains("CHROMIUM"), "{message}");

        let InstallPlan::Stop(message) = install_plan(&BOTH, true, false) else {
            panic!()
        };
        assert!(
            message.starts_with("redis-server and chromium not found on PATH"),
            "{message}"
        );
        assert!(message.contains("package manager"), "{message}");
        assert!(message.contains("CHROMIUM=/path/to/chromium"), "{message}");
    }

    #[test]
    fn free_ports_are_free() {
        let port = free_port().unwrap();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("nobody listens there");
    }

    #[test]
    fn a_decoy_answers_with_an_error_and_lets_the_port_go() {
        let decoy = Decoy::hold(0).unwrap();
        let port = decoy.port();
        assert!(
            TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err(),
            "the decoy holds the port"
        );
        assert!(!redis_ping(port), "a decoy is not a Redis");
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        stream.write_all(b"PING\r\n").unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).unwrap();
        assert_eq!(reply, DECOY_REPLY);
        drop(decoy);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("released");
    }
}
