//! The runtime behind the `send_blocking` / `send_detailed_blocking` twins of every
//! operation (feature `blocking`).
//!
//! The twins wrap the async functions: they run them on one shared, lazily started
//! background runtime (one worker thread), so they work from a plain `fn main`. Inside an
//! async runtime they would stall it, so there they return
//! [`crate::Error::BlockingInRuntime`] instead of blocking or panicking: use the async
//! `send` there.

use std::future::Future;
use std::sync::OnceLock;

use crate::Error;

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// Runs `future` to completion on the shared runtime.
pub(crate) fn block_on<T>(
    operation: &'static str,
    future: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::BlockingInRuntime {
            operation: operation.into(),
        });
    }
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("geopera-blocking")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    match runtime {
        Ok(rt) => rt.block_on(future),
        Err(e) => Err(Error::Config {
            message: format!("starting the blocking runtime: {e}"),
        }),
    }
}
