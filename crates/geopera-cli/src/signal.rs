//! Ctrl-C as a future, for the commands that must clean up before exiting (an upload
//! releases its reservation, a download removes its temporary file).

/// Completes on Ctrl-C (SIGINT); never, when the signal cannot be listened for. The
/// handler is installed when the future is first polled, so poll it first
/// (`tokio::select! { biased; ... }`).
pub async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
