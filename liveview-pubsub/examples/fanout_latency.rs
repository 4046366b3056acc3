//! Cross-node delivery latency of the Redis backend alone: node A publishes, `SUBSCRIBERS`
//! subscriptions on node B (default 1,000) receive. Each sample is the time from just before
//! `publish` on A to one subscription's `recv` on B. Messages go one at a time (the next once
//! every subscriber has the previous one).
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:PORT cargo run --release -p liveview-pubsub --features redis \
//!     --example fanout_latency [SUBSCRIBERS] [MESSAGES]
//! ```

use std::time::{Duration, Instant};

use bytes::Bytes;
use liveview_pubsub::{PubSub, RedisPubSub};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").map_err(|_| "set REDIS_URL")?;
    let mut args = std::env::args().skip(1);
    let subscribers: usize = args.next().map_or(Ok(1000), |n| n.parse())?;
    let messages: usize = args.next().map_or(Ok(200), |n| n.parse())?;
    let prefix = format!("fanout-latency:{}:", std::process::id());
    let a = RedisPubSub::builder(url.as_str())
        .prefix(prefix.as_str())
        .connect()
        .await?;
    let b = RedisPubSub::builder(url.as_str())
        .prefix(prefix.as_str())
        .capacity(4)
        .connect()
        .await?;
    // One arrival per subscriber and message in flight at most.
    let (arrivals, mut arrived) = mpsc::channel::<Instant>(subscribers);
    for _ in 0..subscribers {
        let mut subscription = b.subscribe("room").await?;
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            while subscription.recv().await.is_some() {
                if arrivals.send(Instant::now()).await.is_err() {
                    return;
                }
            }
        });
    }
    drop(arrivals);
    let mut samples = Vec::with_capacity(subscribers * messages);
    for i in 0..messages {
        let sent = Instant::now();
        a.publish("room", Bytes::from(i.to_string())).await?;
        for _ in 0..subscribers {
            let at = tokio::time::timeout(Duration::from_secs(10), arrived.recv())
                .await?
                .ok_or("subscribers gone")?;
            samples.push(at.duration_since(sent).as_micros() as u64);
        }
    }
    samples.sort_unstable();
    let quantile =
        |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    println!(
        "subscribers {subscribers}, messages {messages}, samples {}: p50 {} us, p90 {} us, p99 {} us, max {} us",
        samples.len(),
        quantile(0.5),
        quantile(0.9),
        quantile(0.99),
        samples.last().copied().unwrap_or(0)
    );
    Ok(())
}
