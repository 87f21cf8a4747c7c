//! A minimal `tracing` subscriber that writes every span and event, with all their fields,
//! into a shared string: to count attempts and to prove secrets never reach the traces.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<String>>);

impl Captured {
    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
    /// How many spans with this name were opened.
    pub fn spans(&self, name: &str) -> usize {
        self.text()
            .lines()
            .filter(|l| l.starts_with(&format!("span {name} ")))
            .count()
    }
}

struct Capture {
    out: Captured,
    next: AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = format!("span {} ", span.metadata().name());
        span.record(&mut Fields(&mut line));
        self.out.0.lock().unwrap().push_str(&(line + "\n"));
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = String::from("record");
        values.record(&mut Fields(&mut line));
        self.out.0.lock().unwrap().push_str(&(line + "\n"));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = format!("event {}", event.metadata().level());
        event.record(&mut Fields(&mut line));
        self.out.0.lock().unwrap().push_str(&(line + "\n"));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
}

/// Installs the capturing subscriber for the current thread until the guard drops.
pub fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let out = Captured::default();
    let guard = tracing::subscriber::set_default(Capture {
        out: out.clone(),
        next: AtomicU64::new(0),
    });
    (out, guard)
}
