//! A `redis-server` process of a test's own, on a port the OS picked: started, killed and
//! restarted on the same port. Std only, so `examples/tests/nodes.rs` includes this file too.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` started by one test, on a port the OS picked; killed when dropped.
#[derive(Debug)]
pub struct RedisProcess {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl RedisProcess {
    /// Starts one on a free loopback port.
    pub fn start() -> RedisProcess {
        let mut last = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|listener| listener.local_addr())
                .expect("a free loopback port")
                .port();
            match RedisProcess::start_on(port) {
                Ok(process) => return process,
                Err(err) => last = err,
            }
        }
        panic!("cannot start redis-server: {last}");
    }

    /// Starts one on `port` (used to restart it where its clients expect it).
    pub fn start_on(port: u16) -> Result<RedisProcess, String> {
        let dir =
            std::env::temp_dir().join(format!("liveview-test-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|err| err.to_string())?;
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| {
                format!(
                    "cannot run redis-server ({err}); install it (`apt-get install \
                     redis-server`) or run `cargo xtask test`, which does"
                )
            })?;
        let mut process = RedisProcess {
            child: Some(child),
            port,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ping(port) {
            if let Some(Ok(Some(status))) = process.child.as_mut().map(Child::try_wait) {
                process.child = None;
                return Err(format!("redis-server on port {port} exited ({status})"));
            }
            if Instant::now() > deadline {
                return Err(format!("redis-server on port {port} did not answer PING"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(process)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it (SIGKILL: no goodbye to its clients) and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (after [`kill`](Self::kill)).
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match RedisProcess::start_on(self.port) {
                Ok(mut process) => {
                    self.child = process.child.take();
                    return;
                }
                Err(err) if Instant::now() > deadline => panic!("cannot restart redis: {err}"),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether a Redis answers `PING` on 127.0.0.1:`port`.
pub fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
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
