//! The accept loop: hyper's HTTP/1 connection builder with a timer, so a client that does not
//! finish its headers (or an idle keep-alive connection) is closed after the header timeout,
//! and a connection limit (never above what the open-file limit allows) that closes the oldest
//! idle connection to make room, so idle connections can never lock out a real request.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::AbortHandle;
use tower::ServiceExt;

/// File descriptors kept free for everything but client connections: the database files, the
/// provider verification requests, logs, the listener.
const RESERVED_FDS: u64 = 64;

/// How long shutdown waits for requests in progress before closing their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How the server treats connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send a request's headers; also the keep-alive idle timeout.
    pub header_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

/// The open-file limit of this process, when the system says.
#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every Unix
    (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as u64)
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// `configured`, lowered so client connections leave [`RESERVED_FDS`] descriptors free.
pub fn effective_max_connections(configured: usize) -> usize {
    match open_file_limit() {
        Some(fds) => configured
            .min(fds.saturating_sub(RESERVED_FDS).max(8) as usize)
            .max(1),
        None => configured.max(1),
    }
}

/// One open connection: how many of its requests are in progress, and how to close it.
struct Slot {
    busy: Arc<AtomicUsize>,
    abort: AbortHandle,
}

/// The open connections, oldest first (ids only grow).
#[derive(Default)]
struct Connections {
    next: u64,
    open: BTreeMap<u64, Slot>,
}

/// Shared handle on [`Connections`].
#[derive(Clone, Default)]
struct Tracker(Arc<Mutex<Connections>>);

impl Tracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Connections> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn len(&self) -> usize {
        self.lock().open.len()
    }

    /// Closes the oldest connection with no request in progress; `false` when every one is busy.
    fn evict_oldest_idle(&self) -> bool {
        let slot = {
            let mut connections = self.lock();
            let id = connections
                .open
                .iter()
                .find(|(_, s)| s.busy.load(Ordering::Acquire) == 0)
                .map(|(id, _)| *id);
            id.and_then(|id| connections.open.remove(&id))
        };
        match slot {
            Some(slot) => {
                slot.abort.abort();
                true
            }
            None => false,
        }
    }
}

/// Removes its connection from the tracker when the connection's task ends or is aborted.
struct Untrack(Tracker, u64);

impl Drop for Untrack {
    fn drop(&mut self) {
        self.0.lock().open.remove(&self.1);
    }
}

/// Counts a request in progress on its connection while alive.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(counter))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Whether an accept error means this process (or the system) ran out of file descriptors.
fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(code) if code == 24 || code == 23) // EMFILE, ENFILE
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets requests in progress
/// finish (up to [`SHUTDOWN_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = effective_max_connections(limits.max_connections);
    if max < limits.max_connections {
        tracing::info!(
            max_connections = max,
            "connection limit lowered to fit the open-file limit"
        );
    }
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let tracker = Tracker::default();
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    if out_of_descriptors(&e) {
                        // Make room by closing an idle connection, then accept again.
                        tracker.evict_oldest_idle();
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    } else {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        tracing::trace!(%peer, "connection accepted");
        if tracker.len() >= max && !tracker.evict_oldest_idle() {
            // Every connection is busy with a request: refuse this one rather than queue it.
            tracing::debug!(%peer, "connection refused: every connection is busy");
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let busy = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&busy);
        let app = router.clone();
        let service = tower::service_fn(move |mut req: axum::http::Request<Incoming>| {
            let guard = Busy::new(&counter);
            req.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            async move {
                let response = app.oneshot(req.map(axum::body::Body::new)).await;
                drop(guard);
                response
            }
        });
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        let mut connections = tracker.lock();
        let id = connections.next;
        connections.next += 1;
        let untrack = Untrack(tracker.clone(), id);
        // Spawned while the tracker is locked, so the task cannot untrack itself before it is
        // tracked.
        let task = tokio::spawn(async move {
            let _untrack = untrack;
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
        connections.open.insert(
            id,
            Slot {
                busy,
                abort: task.abort_handle(),
            },
        );
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in progress at shutdown were cut off");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_limit_never_exceeds_the_open_file_limit() {
        let max = effective_max_connections(usize::MAX);
        if let Some(fds) = open_file_limit() {
            assert!(max as u64 <= fds, "{max} > {fds}");
        }
        assert_eq!(effective_max_connections(1), 1);
    }
}
