//! The measured runs: many simulated browsers against one server (`ws`), and a keep-alive
//! HTTP request loop for dead renders (`http`, an equivalent of `wrk -t1 -cN`).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch, Notify, Semaphore};

use crate::client::{self, Joined};
use crate::procfs;

/// Named figures, in report order.
pub(crate) type Metrics = Vec<(String, f64)>;

/// A WebSocket run.
#[derive(Debug, Clone)]
pub(crate) struct WsSpec {
    pub(crate) server: SocketAddr,
    pub(crate) path: String,
    pub(crate) conns: usize,
    pub(crate) events: usize,
    pub(crate) event: String,
    /// The click's `value`, a JSON object.
    pub(crate) value: String,
    /// The server's pid, for memory and CPU figures.
    pub(crate) pid: Option<u32>,
    /// Loopback source addresses 127.0.0.1..=127.0.0.N to spread connections over.
    pub(crate) sources: u8,
    /// Connections being set up (GET, upgrade, join) at once.
    pub(crate) setup_concurrency: usize,
    /// Events on one extra connection before the measured run (JIT and caches warm).
    pub(crate) warmup_events: usize,
    /// Pause before reading the server's memory after the joins.
    pub(crate) settle: Duration,
}

fn source_for(index: usize, sources: u8) -> Option<Ipv4Addr> {
    (sources > 1).then(|| Ipv4Addr::new(127, 0, 0, 1 + (index % sources as usize) as u8))
}

/// Dropped when a connection leaves its event phase (done, failed or never joined).
struct Finished(Arc<AtomicUsize>, Arc<Notify>);

impl Drop for Finished {
    fn drop(&mut self) {
        if self.0.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.1.notify_one();
        }
    }
}

/// What one connection measured.
#[derive(Default)]
struct ConnResult {
    rtts_us: Vec<u32>,
    reply_bytes: u64,
    errors: u64,
}

/// Quantile `q` (0..=1) of sorted values (nearest rank).
pub(crate) fn quantile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64
}

fn kb(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

/// Runs `spec` and returns its figures.
pub(crate) async fn run_ws(spec: WsSpec) -> Metrics {
    if spec.warmup_events > 0 {
        if let Ok((mut joined, _)) = Joined::open(spec.server, None, &spec.path).await {
            for _ in 0..spec.warmup_events {
                if !matches!(joined.click(&spec.event, &spec.value).await, Ok(r) if r.ok) {
                    break;
                }
            }
            joined.close().await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pid = spec.pid;
    let rss_before = pid.and_then(procfs::rss_bytes);
    let spec = Arc::new(spec);
    let setup = Arc::new(Semaphore::new(spec.setup_concurrency.max(1)));
    // Every connection idles (heartbeats) after its join until `go`; a hold run (no events)
    // then closes, the others send their events first.
    let (go_tx, go_rx) = watch::channel(false);
    let (joined_tx, mut joined_rx) = mpsc::unbounded_channel::<Result<u64, String>>();
    // Counts the connections still in their event phase; the last one wakes `events_done`.
    let remaining = Arc::new(AtomicUsize::new(spec.conns));
    let events_done = Arc::new(Notify::new());
    let setup_started = Instant::now();
    let mut tasks = Vec::with_capacity(spec.conns);
    for index in 0..spec.conns {
        let spec = spec.clone();
        let setup = setup.clone();
        let joined_tx = joined_tx.clone();
        let mut go = go_rx.clone();
        let finished = Finished(remaining.clone(), events_done.clone());
        tasks.push(tokio::spawn(async move {
            let mut result = ConnResult::default();
            let permit = setup.acquire_owned().await;
            let opened =
                Joined::open(spec.server, source_for(index, spec.sources), &spec.path).await;
            drop(permit);
            let mut joined = match opened {
                Ok((joined, micros)) => {
                    let _ = joined_tx.send(Ok(micros));
                    joined
                }
                Err(error) => {
                    let _ = joined_tx.send(Err(error));
                    result.errors += 1;
                    return result;
                }
            };
            drop(joined_tx);
            if let Err(error) = joined.idle_until(&mut go).await {
                eprintln!("loadgen: view lost while waiting: {error}");
                result.errors += 1;
                return result;
            }
            result.rtts_us.reserve(spec.events);
            for _ in 0..spec.events {
                let started = Instant::now();
                match joined.click(&spec.event, &spec.value).await {
                    Ok(reply) => {
                        result
                            .rtts_us
                            .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        result.reply_bytes += reply.bytes as u64;
                        if !reply.ok {
                            result.errors += 1;
                        }
                    }
                    Err(error) => {
                        eprintln!("loadgen: event failed: {error}");
                        result.errors += 1;
                        return result;
                    }
                }
            }
            drop(finished);
            joined.close().await;
            result
        }));
    }
    drop(joined_tx);
    let mut join_us = Vec::with_capacity(spec.conns);
    let mut join_errors = 0u64;
    let mut first_error = None;
    while let Some(outcome) = joined_rx.recv().await {
        match outcome {
            Ok(micros) => join_us.push(micros),
            Err(error) => {
                join_errors += 1;
                first_error.get_or_insert(error);
            }
        }
    }
    let setup_secs = setup_started.elapsed().as_secs_f64();
    if let Some(error) = first_error {
        eprintln!("loadgen: {join_errors} joins failed, the first: {error}");
    }
    tokio::time::sleep(spec.settle).await;
    let rss_joined = pid.and_then(procfs::rss_bytes);
    let cpu_before = pid.and_then(procfs::cpu_ticks);
    let own_before = procfs::cpu_ticks(std::process::id());
    let events_started = Instant::now();
    let _ = go_tx.send(true);
    events_done.notified().await;
    let events_secs = events_started.elapsed().as_secs_f64();
    let cpu_after = pid.and_then(procfs::cpu_ticks);
    let own_after = procfs::cpu_ticks(std::process::id());
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.unwrap_or_default());
    }

    let mut rtts: Vec<u64> = results
        .iter()
        .flat_map(|r| r.rtts_us.iter().map(|&us| us as u64))
        .collect();
    rtts.sort_unstable();
    join_us.sort_unstable();
    let events = rtts.len() as f64;
    let errors: u64 = results.iter().map(|r| r.errors).sum::<u64>();
    let reply_bytes: u64 = results.iter().map(|r| r.reply_bytes).sum();
    let joined = join_us.len();

    let mut m: Metrics = Vec::new();
    let mut put = |name: &str, value: f64| m.push((name.to_owned(), value));
    put("views joined", joined as f64);
    put("join p50 ms", quantile(&join_us, 0.50) / 1000.0);
    put("join p99 ms", quantile(&join_us, 0.99) / 1000.0);
    put("joins/s (setup)", joined as f64 / setup_secs);
    if spec.events > 0 {
        put("events/s", events / events_secs);
        put("rtt p50 ms", quantile(&rtts, 0.50) / 1000.0);
        put("rtt p90 ms", quantile(&rtts, 0.90) / 1000.0);
        put("rtt p99 ms", quantile(&rtts, 0.99) / 1000.0);
        put("rtt max ms", quantile(&rtts, 1.0) / 1000.0);
        put("reply bytes/event", reply_bytes as f64 / events.max(1.0));
        if let (Some(a), Some(b)) = (cpu_before, cpu_after) {
            put(
                "server cpu ms/event",
                procfs::ticks_to_ms(b - a) / events.max(1.0),
            );
        }
        if let (Some(a), Some(b)) = (own_before, own_after) {
            put(
                "loadgen cpu ms/event",
                procfs::ticks_to_ms(b - a) / events.max(1.0),
            );
        }
    }
    put("errors", errors as f64);
    if let (Some(before), Some(after)) = (rss_before, rss_joined) {
        put("server rss before KB", kb(before));
        put("server rss joined KB", kb(after));
        put(
            "server KB/view",
            kb(after.saturating_sub(before)) / (joined.max(1) as f64),
        );
    }
    m
}

/// A dead-render run: `conns` keep-alive connections each sending `GET path` back to back
/// for `duration` (what `wrk -t1 -c<conns> -d<duration>` does).
pub(crate) fn run_http(
    server: SocketAddr,
    path: &str,
    conns: usize,
    duration: Duration,
    pid: Option<u32>,
) -> Metrics {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async {
        // Warm up (JIT, caches) for a tenth of the run.
        http_loop(server, path, Instant::now() + duration / 10).await;
        let cpu_before = pid.and_then(procfs::cpu_ticks);
        let started = Instant::now();
        let deadline = started + duration;
        let mut tasks = Vec::new();
        for _ in 0..conns {
            let path = path.to_owned();
            tasks.push(tokio::spawn(async move {
                http_loop(server, &path, deadline).await
            }));
        }
        let (mut ok, mut errors, mut latency) = (0u64, 0u64, Duration::ZERO);
        for task in tasks {
            let (o, e, l) = task.await.unwrap_or((0, 1, Duration::ZERO));
            ok += o;
            errors += e;
            latency += l;
        }
        let secs = started.elapsed().as_secs_f64();
        let cpu_after = pid.and_then(procfs::cpu_ticks);
        let mut m: Metrics = Vec::new();
        m.push(("requests/s".to_owned(), ok as f64 / secs));
        m.push((
            "latency avg ms".to_owned(),
            latency.as_secs_f64() * 1000.0 / ok.max(1) as f64,
        ));
        if let (Some(a), Some(b)) = (cpu_before, cpu_after) {
            m.push((
                "server cpu ms/request".to_owned(),
                procfs::ticks_to_ms(b - a) / ok.max(1) as f64,
            ));
        }
        m.push(("errors".to_owned(), errors as f64));
        m
    })
}

/// Requests on one keep-alive connection (reconnecting when the server closes it) until
/// `deadline`: (successful responses, errors, summed latency).
async fn http_loop(server: SocketAddr, path: &str, deadline: Instant) -> (u64, u64, Duration) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nUser-Agent: loadgen\r\n\r\n");
    let (mut ok, mut errors, mut latency) = (0u64, 0u64, Duration::ZERO);
    let mut buf = Vec::with_capacity(64 * 1024);
    'connect: while Instant::now() < deadline {
        let Ok(mut stream) = client::connect_tcp(server, None).await else {
            errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        buf.clear();
        while Instant::now() < deadline {
            let started = Instant::now();
            if stream.write_all(request.as_bytes()).await.is_err() {
                errors += 1;
                continue 'connect;
            }
            match read_response(&mut stream, &mut buf).await {
                Some((status, keep_alive)) => {
                    latency += started.elapsed();
                    if status == 200 {
                        ok += 1;
                    } else {
                        errors += 1;
                    }
                    if !keep_alive {
                        continue 'connect;
                    }
                }
                None => {
                    errors += 1;
                    continue 'connect;
                }
            }
        }
    }
    (ok, errors, latency)
}

/// Reads one response with a `Content-Length` body; returns (status, keep-alive). Bytes of a
/// following response stay in `buf`.
async fn read_response(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> Option<(u16, bool)> {
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = client::find(buf, b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let status: u16 = head.get(9..12)?.parse().ok()?;
    let mut length = None;
    let mut keep_alive = true;
    for line in head.split("\r\n").skip(1) {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            keep_alive = false;
        }
    }
    let total = head_end + 4 + length?;
    while buf.len() < total {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    buf.drain(..total);
    Some((status, keep_alive))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&[7], 0.99), 7.0);
    }
}
