//! Progress reports: the [`Progress`] sink, its no-op default [`NoProgress`], and
//! [`from_fn`], a sink made of a closure.
//!
//! A transfer calls its sink at most [`REPORT_INTERVAL`]-often while bytes move, and once
//! more at the end with [`ProgressEvent::finished`] set, whatever the interval.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The shortest time between two reports of one transfer (the final one excepted).
pub const REPORT_INTERVAL: Duration = Duration::from_millis(250);

/// Receives progress reports. Implementations must be quick: they are called on the task
/// that moves the bytes.
pub trait Progress: Send + Sync {
    /// One report: every file's bytes so far, and the sums.
    fn report(&self, event: &ProgressEvent<'_>);
}

/// A sink that ignores every report: the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _event: &ProgressEvent<'_>) {}
}

/// A sink that calls `f` with each report: `UploadOptions::default().progress(from_fn(|e| ...))`.
pub fn from_fn<F>(f: F) -> FnProgress<F>
where
    F: Fn(&ProgressEvent<'_>) + Send + Sync,
{
    FnProgress(f)
}

/// A [`Progress`] sink made of a closure, from [`from_fn`].
#[derive(Clone, Copy)]
pub struct FnProgress<F>(F);

impl<F> std::fmt::Debug for FnProgress<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnProgress(..)")
    }
}

impl<F> Progress for FnProgress<F>
where
    F: Fn(&ProgressEvent<'_>) + Send + Sync,
{
    fn report(&self, event: &ProgressEvent<'_>) {
        (self.0)(event)
    }
}

/// A [`Progress`] sink that drives an [`indicatif::ProgressBar`] with the overall bytes
/// (feature `indicatif`): its length once every size is known, its position, and
/// `finish()` with the last report.
#[cfg(feature = "indicatif")]
#[derive(Debug, Clone)]
pub struct Indicatif(pub indicatif::ProgressBar);

#[cfg(feature = "indicatif")]
impl Progress for Indicatif {
    fn report(&self, event: &ProgressEvent<'_>) {
        if let Some(total) = event.total {
            self.0.set_length(total);
        }
        self.0.set_position(event.bytes);
        if event.finished {
            self.0.finish();
        }
    }
}

/// One file's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileProgress {
    /// The file's name (an upload's `file_name`, a download's destination file name).
    pub name: String,
    /// Bytes moved so far. It goes back when a transfer has to start the file again (a
    /// re-PUT, a download the server would not resume).
    pub bytes: u64,
    /// The file's size, once known (a download learns it from the response).
    pub total: Option<u64>,
}

/// A progress report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgressEvent<'a> {
    /// Every file of the transfer, in the order they were given.
    pub files: &'a [FileProgress],
    /// Bytes moved so far, over all files.
    pub bytes: u64,
    /// The sum of the files' sizes, once every size is known.
    pub total: Option<u64>,
    /// Set on the last report, sent once the transfer succeeded.
    pub finished: bool,
}

/// Counts bytes per file and reports them to a sink, throttled.
pub(crate) struct Reporter {
    sink: Arc<dyn Progress>,
    state: Mutex<State>,
}

struct State {
    files: Vec<FileProgress>,
    last: Option<Instant>,
}

impl Reporter {
    pub(crate) fn new(sink: Arc<dyn Progress>, files: Vec<FileProgress>) -> Reporter {
        Reporter {
            sink,
            state: Mutex::new(State { files, last: None }),
        }
    }

    /// Adds `n` bytes to file `index`, and reports when the last report is old enough
    /// (the first bytes are reported at once).
    pub(crate) fn add(&self, index: usize, n: u64) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if let Some(file) = state.files.get_mut(index) {
            file.bytes = file.bytes.saturating_add(n);
        }
        let now = Instant::now();
        let due = state
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= REPORT_INTERVAL);
        if due {
            state.last = Some(now);
            self.emit(&state.files, false);
        }
    }

    /// Sets file `index`'s bytes (a restart sets 0, a resume the bytes kept) and size,
    /// shown by the next report.
    pub(crate) fn set(&self, index: usize, bytes: u64, total: Option<u64>) {
        if let Ok(mut state) = self.state.lock()
            && let Some(file) = state.files.get_mut(index)
        {
            file.bytes = bytes;
            file.total = total;
        }
    }

    /// The bytes counted so far over every file.
    pub(crate) fn bytes(&self) -> u64 {
        self.state.lock().map_or(0, |state| {
            state
                .files
                .iter()
                .fold(0u64, |s, f| s.saturating_add(f.bytes))
        })
    }

    /// The final report.
    pub(crate) fn finish(&self) {
        if let Ok(state) = self.state.lock() {
            self.emit(&state.files, true);
        }
    }

    fn emit(&self, files: &[FileProgress], finished: bool) {
        let bytes = files.iter().fold(0u64, |s, f| s.saturating_add(f.bytes));
        let total = files
            .iter()
            .try_fold(0u64, |s, f| f.total.map(|t| s.saturating_add(t)));
        self.sink.report(&ProgressEvent {
            files,
            bytes,
            total,
            finished,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "indicatif")]
    #[test]
    fn the_indicatif_bar_ends_full_and_finished() {
        let bar = indicatif::ProgressBar::hidden();
        let files = vec![FileProgress {
            name: "a".into(),
            bytes: 0,
            total: Some(10),
        }];
        let reporter = Reporter::new(Arc::new(Indicatif(bar.clone())), files);
        reporter.add(0, 4);
        assert_eq!((bar.position(), bar.length()), (4, Some(10)));
        reporter.add(0, 6);
        reporter.finish();
        assert_eq!((bar.position(), bar.length()), (10, Some(10)));
        assert!(bar.is_finished());
    }
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn reports_are_throttled_and_the_last_one_has_every_byte() {
        let calls = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(Mutex::new(None));
        let (c, l) = (calls.clone(), last.clone());
        let sink = from_fn(move |e: &ProgressEvent<'_>| {
            c.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut l) = l.lock() {
                *l = Some((e.bytes, e.total, e.finished));
            }
        });
        let files = vec![
            FileProgress {
                name: "a".into(),
                bytes: 0,
                total: Some(1000),
            },
            FileProgress {
                name: "b".into(),
                bytes: 0,
                total: Some(24),
            },
        ];
        let reporter = Reporter::new(Arc::new(sink), files);
        for _ in 0..1000 {
            reporter.add(0, 1);
        }
        reporter.add(1, 24);
        // Far fewer reports than updates: the first one, then at most one per interval.
        assert!(calls.load(Ordering::SeqCst) < 10);
        reporter.finish();
        assert_eq!(
            *last.lock().unwrap_or_else(|p| p.into_inner()),
            Some((1024, Some(1024), true))
        );
    }
}
