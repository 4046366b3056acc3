//! `cargo xtask e2e` and the example server it starts (release build, free port, stopped when dropped).

use super::*;

/// `cargo xtask e2e`: the browser tests, with a redis-server of their own for the
/// multi-node ones.
pub(crate) fn e2e_task() -> Result<()> {
    ensure_tools(&[CHROMIUM, REDIS_SERVER])?;
    assets()?;
    let redis = RedisServer::start()?;
    e2e(&redis.url())
    // `redis` is dropped here, which stops it, also when a test failed.
}

/// The browser tests: js/e2e/*.test.mjs against one example server (in-process pub/sub),
/// then js/e2e/nodes/*.test.mjs against two servers sharing the Redis at `redis_url`.
pub(crate) fn e2e(redis_url: &str) -> Result<()> {
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
pub(crate) fn build_example_server() -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "-p",
        "examples",
        // The server of every example (the package also has the small login app).
        "--bin",
        "liveview-examples",
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
pub(crate) fn package_binaries(messages: &str, manifest: &Path) -> Vec<PathBuf> {
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
pub(crate) fn json_string_field(line: &str, key: &str) -> Option<String> {
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
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base_url: String,
    /// How its output lines are prefixed (`server`, `node a`).
    pub(crate) label: String,
}

impl Server {
    /// Starts `exe args` with the environment variables `envs` (`PORT` among them) and waits
    /// for its `listening on <url>` line. Its output is echoed prefixed with `[label]`.
    pub(crate) fn start_with(
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
pub(crate) fn listening_url(line: &str) -> Option<String> {
    let rest = &line[line.find("listening on ")? + "listening on ".len()..];
    let url: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let url = url.trim_end_matches('/');
    let port = url.strip_prefix("http://")?.rsplit_once(':')?.1;
    (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())).then(|| url.to_owned())
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
