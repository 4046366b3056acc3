//! `loadgen fanout`: cross-node delivery latency. `--conns` views join on the receiving node
//! (`--receivers`) and one view on the sending node (`--sender`), all at `--path`
//! (`/rtcounter`: each click broadcasts the new count through the nodes' shared pub/sub).
//! The sender clicks `--messages` times, one click at a time; every receiving view times the
//! diff push the click caused. A sample is the time from just before the click was sent on
//! the sender's socket to the push read from a receiver's socket: the sending node's event
//! handling, the pub/sub hop between the nodes (Redis), the fan-out to the receiving node's
//! views, their renders and socket writes, and the clients' reads.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::de::IgnoredAny;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::client::Joined;
use crate::load::{quantile, Metrics};

/// What to run.
pub(crate) struct FanoutSpec {
    pub(crate) sender: SocketAddr,
    pub(crate) receivers: SocketAddr,
    pub(crate) path: String,
    pub(crate) conns: usize,
    pub(crate) messages: usize,
    pub(crate) event: String,
    pub(crate) setup_concurrency: usize,
}

/// How long one message may take to reach every receiver.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs the measurement; the metrics are in microseconds.
pub(crate) async fn run_fanout(spec: FanoutSpec) -> Result<Metrics, String> {
    // At most `conns` arrivals are in flight per message: the channel holds one message's.
    let (arrivals, mut arrived) = mpsc::channel::<Instant>(spec.conns.max(1));
    let started = Instant::now();
    let mut receivers = Vec::with_capacity(spec.conns);
    let mut opened = 0;
    while opened < spec.conns {
        let batch = spec.setup_concurrency.min(spec.conns - opened).max(1);
        let joins = (0..batch).map(|_| Joined::open(spec.receivers, None, &spec.path));
        for result in futures_util::future::join_all(joins).await {
            let (joined, _) = result.map_err(|e| format!("receiver join: {e}"))?;
            receivers.push(tokio::spawn(receive(joined, arrivals.clone())));
        }
        opened += batch;
    }
    drop(arrivals);
    eprintln!(
        "fanout: {} receivers joined on {} in {:?}",
        spec.conns,
        spec.receivers,
        started.elapsed()
    );
    let (mut sender, _) = Joined::open(spec.sender, None, &spec.path)
        .await
        .map_err(|e| format!("sender join: {e}"))?;
    // Let what the joins caused settle, then forget it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    while arrived.try_recv().is_ok() {}

    let mut samples = Vec::with_capacity(spec.conns * spec.messages);
    let mut lost = 0usize;
    for _ in 0..spec.messages {
        let sent = Instant::now();
        let reply = sender.click(&spec.event, r#"{"value":""}"#).await?;
        if !reply.ok {
            return Err("the sender's click was refused".to_owned());
        }
        let deadline = tokio::time::Instant::now() + DELIVERY_TIMEOUT;
        let mut got = 0;
        while got < spec.conns {
            match tokio::time::timeout_at(deadline, arrived.recv()).await {
                Ok(Some(at)) => {
                    samples.push(at.saturating_duration_since(sent).as_micros() as u64);
                    got += 1;
                }
                Ok(None) => return Err("every receiver is gone".to_owned()),
                Err(_) => {
                    lost += spec.conns - got;
                    break;
                }
            }
        }
    }
    for receiver in receivers {
        receiver.abort();
    }
    sender.close().await;
    samples.sort_unstable();
    let mean = samples.iter().sum::<u64>() as f64 / samples.len().max(1) as f64;
    Ok(vec![
        ("receivers".into(), spec.conns as f64),
        ("messages".into(), spec.messages as f64),
        ("samples".into(), samples.len() as f64),
        ("lost".into(), lost as f64),
        ("latency_us_p50".into(), quantile(&samples, 0.50)),
        ("latency_us_p90".into(), quantile(&samples, 0.90)),
        ("latency_us_p99".into(), quantile(&samples, 0.99)),
        (
            "latency_us_max".into(),
            *samples.last().unwrap_or(&0) as f64,
        ),
        ("latency_us_mean".into(), mean),
    ])
}

/// Reads one receiver's frames and reports the arrival of every `diff` push.
async fn receive(mut joined: Joined, arrivals: mpsc::Sender<Instant>) {
    while let Some(Ok(message)) = joined.ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let at = Instant::now();
        type Frame<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
            &'a str,
            IgnoredAny,
        );
        if let Ok((_, None, _, "diff", _)) = serde_json::from_str::<Frame<'_>>(&text) {
            if arrivals.send(at).await.is_err() {
                return;
            }
        }
    }
}
