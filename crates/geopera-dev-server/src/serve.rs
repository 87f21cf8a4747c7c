//! The accept loop: HTTP/1.1 over hyper, one task per connection, at most
//! [`DevConfig::max_connections`](super::DevConfig::max_connections) of them at once, graceful
//! shutdown driven by a caller-supplied future, and the ability to drop a connection without
//! answering (used by the `DropConnection` fault), which `axum::serve` cannot do.
//!
//! At the cap the loop stops accepting: further connections wait in the listen backlog (the
//! kernel has completed their handshake) and are taken on, in order, as open ones close.

use super::faults::DropConnection;
use super::state::DevState;
use axum::Router;
use axum::body::Body;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower_service::Service;

/// How long shutdown waits for in-flight requests before giving up on them.
const GRACE: Duration = Duration::from_secs(10);

/// How long a connection may sit without sending request headers, idle keep-alive
/// included. Longer than the idle lifetime of pooled client connections (reqwest keeps
/// them 90 s by default), so a client never reuses a connection the server has just
/// closed: that race shows up as a spurious "connection closed before message completed".
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(120);

/// The connecting peer, put in each request's extensions.
#[derive(Debug, Clone, Copy)]
pub(super) struct PeerAddr(pub(super) SocketAddr);

/// The local address a connection arrived on, put in each request's extensions: the
/// authority of signed URLs when a request names no `Host` (HTTP/1.0).
#[derive(Debug, Clone, Copy)]
pub(super) struct LocalAddr(pub(super) SocketAddr);

/// Returned to hyper to close a connection without writing a response.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Serves the dev server on `listener` until `shutdown` completes, then stops accepting,
/// gives in-flight requests up to 10 seconds to finish, and returns once every connection
/// task has ended. Serves at most `max_connections` (see [`DevConfig`](super::DevConfig))
/// connections at once; more wait in the listen backlog until one closes.
pub async fn serve(
    listener: TcpListener,
    state: DevState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(connection_slots(
        state.config().max_connections,
    )));
    let router = super::router(state);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // A free slot first: while every slot is taken, nothing more is accepted.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_closed) => break,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // Reap finished connection tasks so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) if is_per_connection(&err) => continue,
            Err(_) => {
                // Out of file descriptors or similar: back off instead of spinning (as axum does).
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let local = stream.local_addr().ok();
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |request| call(router.clone(), peer, local, request));
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            // Errors here are the peer's (or a dropped-connection fault): nothing to report.
            let _ = connection.await;
            // The slot frees when the connection ends.
            drop(slot);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
    // Abort whatever outlived the grace period and wait until every task (and the state it
    // holds) is gone, so an owned temp dir is removed when the caller drops its handles.
    connections.shutdown().await;
    Ok(())
}

/// How many connections the semaphore admits: at least one, at most what it can count.
fn connection_slots(max_connections: usize) -> usize {
    max_connections.clamp(1, Semaphore::MAX_PERMITS)
}

fn is_per_connection(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

async fn call(
    mut router: Router,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    request: hyper::Request<Incoming>,
) -> Result<Response, Dropped> {
    let mut request = request.map(Body::new);
    request.extensions_mut().insert(PeerAddr(peer));
    if let Some(local) = local {
        request.extensions_mut().insert(LocalAddr(local));
    }
    let response = match router.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.extensions().get::<DropConnection>().is_some() {
        return Err(Dropped);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_configured_cap_is_a_usable_number_of_slots() {
        assert_eq!(connection_slots(0), 1);
        assert_eq!(connection_slots(256), 256);
        assert_eq!(connection_slots(usize::MAX), Semaphore::MAX_PERMITS);
        // Semaphore::new panics above MAX_PERMITS; the clamped value does not.
        let slots = Semaphore::new(connection_slots(usize::MAX));
        assert_eq!(slots.available_permits(), Semaphore::MAX_PERMITS);
    }
}
