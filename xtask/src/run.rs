//! `cargo xtask run`: the examples server, or several nodes sharing a Redis of their own.

use super::*;

pub(crate) fn run(args: &[String]) -> Result<()> {
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
pub(crate) fn run_nodes(nodes: u16, args: &[String]) -> Result<()> {
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
pub(crate) fn node_name(node: u16) -> String {
    match u8::try_from(node) {
        Ok(n) if n < 26 => char::from(b'a' + n).to_string(),
        _ => format!("node{node}"),
    }
}

/// `bytes` random bytes from the OS, hex-encoded.
pub(crate) fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut random| io::Read::read_exact(&mut random, &mut buf))
        .map_err(|err| TaskError(format!("cannot read /dev/urandom: {err}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
