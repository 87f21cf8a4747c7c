//! Cancellation by token: any future that completes when the transfer should stop (a
//! `tokio_util` `CancellationToken`'s `cancelled_owned()`, a oneshot receiver, a timer),
//! shared by every clone of the options that hold it.

use std::borrow::Cow;
use std::future::Future;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use geopera::Error;

/// The token of one set of options: none, or a shared future that completes on cancel.
#[derive(Clone, Default)]
pub(crate) struct Cancel(Option<Shared<BoxFuture<'static, ()>>>);

impl Cancel {
    /// A token that fires when `signal` completes.
    pub(crate) fn on(signal: impl Future<Output = ()> + Send + 'static) -> Cancel {
        Cancel(Some(signal.boxed().shared()))
    }

    /// Whether a token was given.
    pub(crate) fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// Completes when the token fires; never without a token.
    pub(crate) async fn cancelled(&self) {
        match &self.0 {
            Some(signal) => signal.clone().await,
            None => std::future::pending().await,
        }
    }
}

/// The error of a cancelled transfer: [`Error::Io`] of kind
/// [`Interrupted`](std::io::ErrorKind::Interrupted), never retried.
pub(crate) fn cancelled(operation: &'static str) -> Error {
    Error::Io {
        operation: Cow::Borrowed(operation),
        source: std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "the transfer was cancelled",
        ),
    }
}
