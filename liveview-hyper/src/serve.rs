//! Serving: the accept loop (`serve`, `serve_with_shutdown`, `serve_with_options`,
//! `serve_app`) with its bounds (`ServeOptions`: connections, header read timeout, shutdown
//! grace) and the shutdown signal.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::service::{LiveService, PeerAddr};

/// Accepts connections on `listener` and serves each with `service` (HTTP/1.1 with
/// upgrades) until ctrl-c or SIGTERM, then shuts down gracefully (see
/// [`serve_with_shutdown`]).
pub async fn serve(listener: TcpListener, service: LiveService) -> std::io::Result<()> {
    serve_with_shutdown(listener, service, shutdown_signal()).await
}

/// Resolves on ctrl-c (SIGINT) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// How [`serve_with_options`] serves connections: the bounds every client is held to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Connections served at once, HTTP requests and LiveView sockets together (default: three
    /// quarters of the process's open-file limit, leaving the rest for upload files, logs and
    /// the pub/sub backend; 10,000 where the limit cannot be read). At the limit, new
    /// connections wait in the listen backlog until one ends, so the process never runs out of
    /// file descriptors.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, the first request's and, on a
    /// kept-alive connection, each next one's (default 10 s). A connection past it is closed:
    /// half-sent requests (slowloris) and idle keep-alive connections are not held.
    pub header_read_timeout: Duration,
    /// How long a graceful shutdown waits for connections to finish (default 10 s).
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_connections: default_max_connections(),
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl ServeOptions {
    /// Sets [`ServeOptions::max_connections`] (at least 1).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Sets [`ServeOptions::header_read_timeout`].
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`ServeOptions::shutdown_grace`].
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// Three quarters of the soft open-file limit (10,000 where it cannot be read).
fn default_max_connections() -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `getrlimit` only writes the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0
            && limit.rlim_cur != libc::RLIM_INFINITY
        {
            let soft = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
            return (soft / 4 * 3).max(1);
        }
    }
    10_000
}

/// The permit of one served connection, carried in its requests' extensions so that a
/// LiveView socket keeps counting against [`ServeOptions::max_connections`] after its HTTP
/// connection handed it over.

#[derive(Debug, Clone)]
pub(crate) struct ConnectionPermit(#[allow(dead_code)] pub(crate) Arc<OwnedSemaphorePermit>);

/// Like [`serve`], but shuts down when `signal` resolves: stops accepting, asks HTTP
/// connections to finish, closes every LiveView socket with code 1001 (clients reconnect
/// elsewhere), and returns once they are gone or after 10 seconds.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    service: LiveService,
    signal: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with_options(listener, service, ServeOptions::default(), signal).await
}

/// [`serve_with_shutdown`] with explicit [`ServeOptions`] (connection cap, header timeout,
/// shutdown grace).
pub async fn serve_with_options(
    listener: TcpListener,
    service: LiveService,
    options: ServeOptions,
    signal: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_app(listener, service.clone(), service, options, signal).await
}

/// Serves `app`, a tower service (an axum `Router` with `live` as its fallback, say), with
/// the same defences as [`serve_with_options`]: the connection cap, the header read timeout,
/// and a graceful shutdown that closes `live`'s sockets. Each request carries the
/// connection's [`PeerAddr`] in its extensions (and what keeps a LiveView socket counted
/// against the cap), so `live` sees them behind the application's routes.
///
/// ```no_run
/// # async fn run(app: liveview_hyper::LiveService) -> std::io::Result<()> {
/// # let live = app.clone();
/// // `app`: e.g. `axum::Router::new().route(...).fallback_service(live.clone())`.
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
/// liveview_hyper::serve_app(
///     listener,
///     app,
///     live,
///     liveview_hyper::ServeOptions::default(),
///     liveview_hyper::shutdown_signal(),
/// )
/// .await
/// # }
/// ```
pub async fn serve_app<S, B>(
    listener: TcpListener,
    app: S,
    live: LiveService,
    options: ServeOptions,
    signal: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let service = live;
    let mut signal = std::pin::pin!(signal);
    let permits = Arc::new(Semaphore::new(options.max_connections));
    let mut at_limit_logged = false;
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                at_limit_logged = false;
                permit
            }
            Err(_) => {
                if !at_limit_logged {
                    tracing::warn!(
                        max = options.max_connections,
                        "connection limit reached: new connections wait"
                    );
                    at_limit_logged = true;
                }
                tokio::select! {
                    _ = &mut signal => break,
                    permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                }
            }
        };
        let accepted = tokio::select! {
            _ = &mut signal => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_transient(&error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        let _ = stream.set_nodelay(true);
        let mut shutdown = service.shutdown_watch();
        let app = app.clone();
        let permit = ConnectionPermit(Arc::new(permit));
        let header_read_timeout = options.header_read_timeout;
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(permit.clone());
                request.extensions_mut().insert(PeerAddr(peer));
                let mut app = app.clone();
                async move {
                    std::future::poll_fn(|cx| app.poll_ready(cx)).await?;
                    app.call(request).await
                }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), handler)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = async { shutdown.wait_for(|closing| *closing).await.is_ok() } => {
                    // Idle keep-alive connections close at once; a request in flight finishes.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "http connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: closing sockets");
    service.close_sockets();
    let deadline = tokio::time::Instant::now() + options.shutdown_grace;
    while service.open_connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || error.raw_os_error() == Some(24) // EMFILE: too many open files, retry later
}
