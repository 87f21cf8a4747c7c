//! What the commands print: JSON on a pipe (or with `--json`), a readable summary on a
//! terminal, errors on stderr; colours through anstream, which drops them when the stream
//! is not a terminal or `NO_COLOR` is set.

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use serde_json::Value;

use crate::exit::Failure;

const KEY: Style = Style::new().bold();
const NOTE: Style = Style::new().dimmed();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const GOOD: Style = AnsiColor::Green.on_default();

/// Where and how results are printed.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// JSON on stdout (a pipe, or `--json`); otherwise a readable summary.
    pub json: bool,
}

impl Output {
    /// JSON when asked for or when stdout is not a terminal.
    pub fn new(force_json: bool) -> Output {
        Output {
            json: force_json || !std::io::stdout().is_terminal(),
        }
    }

    /// Prints an answer: pretty JSON as it arrived, or key/value lines with every signed
    /// URL's query redacted.
    pub fn value(&self, value: &Value) {
        if self.json {
            let text = serde_json::to_string_pretty(value).unwrap_or_default();
            out(&format!("{text}\n"));
            return;
        }
        let redacted = geopera::models::Descriptor::new(value.clone()).redacted();
        let mut lines = Vec::new();
        flatten(&redacted, String::new(), &mut lines);
        let width = lines
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for (key, value) in &lines {
            if key.is_empty() {
                text.push_str(&format!("{value}\n"));
            } else {
                let pad = width.saturating_sub(key.chars().count());
                text.push_str(&format!("{KEY}{key}{KEY:#}{}  {value}\n", " ".repeat(pad)));
            }
        }
        out(&text);
        if redacted != *value {
            note("signed URLs are shown without their query; --json prints them whole");
        }
    }

    /// Prints rows under a header, in aligned columns (the last one unpadded).
    pub fn table<const N: usize>(&self, header: [&str; N], rows: &[[&str; N]]) {
        let mut widths = header.map(|h| h.chars().count());
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[&str; N], style: Style| {
            let mut text = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i + 1 == N {
                    text.push_str(&format!("{style}{cell}{style:#}"));
                } else {
                    let pad = w.saturating_sub(cell.chars().count());
                    text.push_str(&format!("{style}{cell}{style:#}{}  ", " ".repeat(pad)));
                }
            }
            text.push('\n');
            text
        };
        let mut text = line(&header, KEY);
        for row in rows {
            text.push_str(&line(row, Style::new()));
        }
        out(&text);
    }
}

/// `key.path  value` lines of a JSON value; scalars as they read, empty containers as
/// `[]` / `{}`.
fn flatten(value: &Value, prefix: String, lines: &mut Vec<(String, String)>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten(v, join(k), lines);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(v, join(&i.to_string()), lines);
            }
        }
        Value::String(s) => lines.push((printable(&prefix), printable(s))),
        other => lines.push((printable(&prefix), other.to_string())),
    }
}

/// Text from the server as it may be shown on a terminal: control characters (an escape
/// sequence that would move the cursor or retitle the window, a carriage return that would
/// overwrite the line) are shown escaped instead of acted on.
fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Writes to stdout; a closed pipe (`geopera op --list | head`) is not an error.
pub fn out(text: &str) {
    let mut stdout = anstream::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// A line on stderr, for a person.
pub fn note(text: &str) {
    let _ = writeln!(anstream::stderr(), "{NOTE}{text}{NOTE:#}");
}

/// A line on stderr saying something went well.
pub fn good(text: &str) {
    let _ = writeln!(anstream::stderr(), "{GOOD}{text}{GOOD:#}");
}

/// Prints a failure: `error: ` and its one line, then its details indented.
pub fn failure(failure: &Failure) {
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(stderr, "{ERROR}error:{ERROR:#} {}", failure.message);
    for detail in &failure.details {
        let _ = writeln!(stderr, "  {detail}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_cannot_drive_the_terminal() {
        let mut lines = Vec::new();
        let value = serde_json::json!({"name\u{1b}]0;x": "ok\u{1b}[2J\rfake"});
        flatten(&value, String::new(), &mut lines);
        assert_eq!(
            lines,
            [(
                "name\\u{1b}]0;x".to_owned(),
                "ok\\u{1b}[2J\\rfake".to_owned()
            )]
        );
    }

    #[test]
    fn nested_values_flatten_to_dotted_keys() {
        let mut lines = Vec::new();
        let value =
            serde_json::json!({"id": "upl_1", "downloads": [{"size": 3}], "none": {}, "n": null});
        flatten(&value, String::new(), &mut lines);
        assert_eq!(
            lines,
            [
                ("downloads.0.size".to_owned(), "3".to_owned()),
                ("id".into(), "upl_1".into()),
                ("n".into(), "null".into()),
                ("none".into(), "{}".into()),
            ]
        );
    }
}
