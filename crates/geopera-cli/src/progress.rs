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
            slots: Mutex::new(
                names
                    .into_iter()
                    .map(|name| Slot {
                        name,
                        bytes: 0,
                        total: None,
                        started: false,
                        done: false,
                    })
                    .collect(),
            ),
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
            let restarted = file.bytes < slot.bytes;
            slot.bytes = file.bytes;
            slot.total = file.total.or(slot.total);
            let finished = event.finished && !slot.done;
            match &self.bars {
                Some(bars) => {
                    if let Some(bar) = bars.files.get(index) {
                        if let Some(total) = slot.total {
                            bar.set_length(total);
                        }
                        bar.set_position(slot.bytes);
                        if finished {
                            bar.finish();
                        }
                    }
                }
                None => {
                    let size = slot
                        .total
                        .map(|t| format!(" ({})", HumanBytes(t)))
                        .unwrap_or_default();
                    if restarted {
                        eprintln!(
                            "{} {} again from byte {}",
                            self.verbs.started, slot.name, slot.bytes
                        );
                    } else if !slot.started && slot.bytes > 0 && !finished {
                        eprintln!("{} {}{size}", self.verbs.started, slot.name);
                    }
                    if finished {
                        eprintln!("{} {}{size}", self.verbs.finished, slot.name);
                    }
                }
            }
            slot.started |= slot.bytes > 0;
            slot.done |= finished;
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
