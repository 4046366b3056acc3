//! `cargo xtask bench` and `cargo xtask probe`: release builds measured by `loadgen`.

use super::*;

/// Builds the example server and `loadgen` in release, installs the LiveViewJS fixture
/// (`npm ci` in `js/bench`), runs `loadgen suite` with a raised open-file limit, then the
/// criterion benches of `liveview-diff`. Dead renders are measured by loadgen's own
/// keep-alive request loop (an equivalent of `wrk -t1 -c2`), so wrk is not needed.
/// The hardening probe: attacks a fresh release examples server per attack (loopback only) and
/// reports what each cost it (`loadgen probe`).
pub(crate) fn probe(args: &[String]) -> Result<()> {
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

pub(crate) fn bench(args: &[String]) -> Result<()> {
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
pub(crate) fn build_release_binaries(packages: &[&str]) -> Result<Vec<PathBuf>> {
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
