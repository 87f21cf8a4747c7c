//! The progress display of uploads and downloads: on a terminal (stderr), an indicatif bar
//! per file and one overall with bytes, rate and ETA; otherwise one plain line per event
//! (a file started, started again, finished).
//!
//! One [`Board`] holds every file of a command; each transfer reports to it through a
//! [`Sink`] that knows where its files sit on the board (an upload's files from 0, the
//! n-th of several parallel downloads at n).

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use geopera_transfer::{Progress, ProgressEvent};
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the lines say: `uploading` / `uploaded`, `downloading` / `downloaded`.
#[derive(Debug, Clone, Copy)]
pub struct Verbs {
    /// A file started.
    pub started: &'static str,
    /// A file finished.
    pub finished: &'static str,
}

/// The files of one command and how they are shown.
pub struct Board {
    verbs: Verbs,
    slots: Mutex<Vec<Slot>>,
    bars: Option<Bars>,
}

struct Slot {
    name: String,
    bytes: u64,
    total: Option<u64>,
    started: bool,
    done: bool,
    /// The last quarter of the size (1 to 3) a line was printed for.
    quarter: u8,
}

impl Slot {
    fn new(name: String) -> Slot {
        Slot {
            name,
            bytes: 0,
            total: None,
            started: false,
            done: false,
            quarter: 0,
        }
    }

    /// Takes one report of this file (`finished`: the transfer's last report) and returns
    /// the lines the plain log shows for it.
    fn advance(
        &mut self,
        verbs: Verbs,
        bytes: u64,
        total: Option<u64>,
        finished: bool,
    ) -> Vec<String> {
        let mut lines = Vec::new();
        let restarted = bytes < self.bytes;
        self.bytes = bytes;
        self.total = total.or(self.total);
        let finishing = finished && !self.done;
        let size = self
            .total
            .map(|t| format!(" ({})", HumanBytes(t)))
            .unwrap_or_default();
        let quarter = match self.total {
            // At most 3: the end is the finished line. u128: no overflow for any u64.
            Some(total) if total > 0 => (u128::from(bytes) * 4 / u128::from(total)).min(3) as u8,
            _ => 0,
        };
        if restarted {
            lines.push(format!(
                "{} {} again from byte {bytes}",
                verbs.started, self.name
            ));
            self.quarter = quarter;
        } else if !self.started && bytes > 0 && !finishing {
            lines.push(format!("{} {}{size}", verbs.started, self.name));
        }
        if !finishing && quarter > self.quarter {
            let total = self
                .total
                .map(HumanBytes)
                .map(|t| t.to_string())
                .unwrap_or_default();
            lines.push(format!(
                "{} {}: {}% ({} of {total})",
                verbs.started,
                self.name,
                u32::from(quarter) * 25,
                HumanBytes(bytes)
            ));
            self.quarter = quarter;
        }
        if finishing {
            lines.push(format!("{} {}{size}", verbs.finished, self.name));
        }
        self.started |= bytes > 0;
        self.done |= finishing;
        lines
    }
}

struct Bars {
    /// Keeps the bars' shared drawing state.
    _multi: MultiProgress,
    files: Vec<ProgressBar>,
    overall: Option<ProgressBar>,
}

impl Board {
    /// A board for files `names`: bars when stderr is a terminal, plain lines otherwise.
    pub fn new(names: Vec<String>, verbs: Verbs) -> Arc<Board> {
        let bars = std::io::stderr().is_terminal().then(|| Bars::new(&names));
        Arc::new(Board {
            verbs,
            slots: Mutex::new(names.into_iter().map(Slot::new).collect()),
            bars,
        })
    }

    /// The sink of a transfer whose first file is file `offset` of the board.
    pub fn sink(self: &Arc<Board>, offset: usize) -> Sink {
        Sink {
            board: self.clone(),
            offset,
        }
    }

    /// Stops drawing: what was drawn stays on the terminal.
    pub fn close(&self) {
        if let Some(bars) = &self.bars {
            for bar in bars.files.iter().chain(&bars.overall) {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
    }

    fn update(&self, offset: usize, event: &ProgressEvent<'_>) {
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        for (i, file) in event.files.iter().enumerate() {
            let Some(index) = offset.checked_add(i) else {
                continue;
            };
            let Some(slot) = slots.get_mut(index) else {
                continue;
            };
            let finishing = event.finished && !slot.done;
            let lines = slot.advance(self.verbs, file.bytes, file.total, event.finished);
            match &self.bars {
                Some(bars) => {
                    if let Some(bar) = bars.files.get(index) {
                        if let Some(total) = slot.total {
                            bar.set_length(total);
                        }
                        bar.set_position(slot.bytes);
                        if finishing {
                            bar.finish();
                        }
                    }
                }
                None => lines.iter().for_each(|line| eprintln!("{line}")),
            }
        }
        if let Some(overall) = self.bars.as_ref().and_then(|b| b.overall.as_ref()) {
            let bytes = slots.iter().fold(0u64, |s, f| s.saturating_add(f.bytes));
            let total = slots
                .iter()
                .try_fold(0u64, |s, f| f.total.map(|t| s.saturating_add(t)));
            if let Some(total) = total {
                overall.set_length(total);
            }
            overall.set_position(bytes);
            if slots.iter().all(|s| s.done) {
                overall.finish();
            }
        }
    }
}

impl Bars {
    fn new(names: &[String]) -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let colour =
            anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
        let bar = if colour {
            "{bar:30.cyan/blue}"
        } else {
            "{bar:30}"
        };
        let width = names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0)
            .min(40);
        let file_style = ProgressStyle::with_template(&format!(
            "{{prefix:<{width}}} {bar} {{bytes:>10}}/{{total_bytes:<10}} {{bytes_per_sec:>12}} {{eta:>4}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let files = names
            .iter()
            .map(|name| {
                let bar = multi.add(ProgressBar::no_length().with_style(file_style.clone()));
                bar.set_prefix(name.clone());
                bar
            })
            .collect();
        let overall = (names.len() > 1).then(|| {
            let style = ProgressStyle::with_template(&format!(
                "{{prefix:<{width}}} {bar} {{bytes:>10}}/{{total_bytes:<10}} {{bytes_per_sec:>12}} {{eta:>4}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bar = multi.add(ProgressBar::no_length().with_style(style));
            bar.set_prefix("total");
            bar
        });
        Bars {
            _multi: multi,
            files,
            overall,
        }
    }
}

/// A transfer's view of the [`Board`].
pub struct Sink {
    board: Arc<Board>,
    offset: usize,
}

impl Progress for Sink {
    fn report(&self, event: &ProgressEvent<'_>) {
        self.board.update(self.offset, event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERBS: Verbs = Verbs {
        started: "uploading",
        finished: "uploaded",
    };

    #[test]
    fn the_plain_log_has_a_line_per_event() {
        let mut slot = Slot::new("a.tif".into());
        let mut log = Vec::new();
        let mut report =
            |bytes, finished| log.extend(slot.advance(VERBS, bytes, Some(4096), finished));
        report(0, false);
        report(512, false);
        report(600, false);
        report(2048, false); // half-way, past the first quarter too: one line
        report(100, false); // started again
        report(3500, false);
        report(4096, true);
        report(4096, true); // a repeated last report adds nothing
        assert_eq!(
            log,
            [
                "uploading a.tif (4.00 KiB)",
                "uploading a.tif: 50% (2.00 KiB of 4.00 KiB)",
                "uploading a.tif again from byte 100",
                "uploading a.tif: 75% (3.42 KiB of 4.00 KiB)",
                "uploaded a.tif (4.00 KiB)",
            ]
        );
    }

    #[test]
    fn files_without_a_size_or_finished_at_once_get_no_percentages() {
        let mut unknown = Slot::new("b".into());
        assert_eq!(unknown.advance(VERBS, 10, None, false), ["uploading b"]);
        assert!(unknown.advance(VERBS, u64::MAX, None, false).is_empty());
        let mut empty = Slot::new("c".into());
        assert_eq!(empty.advance(VERBS, 0, Some(0), true), ["uploaded c (0 B)"]);
    }
}
