//! `cargo xtask test`, `fuzz-diff`, `fuzz` and `lint`.

use super::*;

pub(crate) fn test() -> Result<()> {
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
pub(crate) fn fuzz_diff(args: &[String]) -> Result<()> {
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
pub(crate) fn fuzz(args: &[String]) -> Result<()> {
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

pub(crate) fn lint() -> Result<()> {
    run_checked(cargo().args(["fmt", "--all", "--", "--check"]))?;
    build_docs()?;
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
