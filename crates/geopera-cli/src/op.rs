//! `geopera op ID [JSON | @file | -]` and `geopera op --list`: any operation of the
//! table, by id, through [`geopera::Geopera::invoke`].

use std::io::Read;

use geopera::ops::OPERATIONS;
use serde_json::{Value, json};

use crate::cli::{Global, OpArgs};
use crate::exit::Failure;
use crate::output::Output;

/// Reads a JSON argument: inline text, `@file`, or `-` for standard input. Empty text is
/// `{}`.
pub fn read_json(arg: &str) -> Result<Value, Failure> {
    let text = if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("reading the JSON body from stdin: {e}")))?;
        text
    } else if let Some(path) = arg.strip_prefix('@') {
        std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("reading the JSON body from {path}: {e}")))?
    } else {
        arg.to_owned()
    };
    if text.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(&text)
        .map_err(|e| Failure::usage(format!("the JSON body is not JSON: {e}")))
}

/// Runs `geopera op`.
pub async fn run(global: &Global, args: &OpArgs, output: &Output) -> Result<(), Failure> {
    if args.list {
        return list(output);
    }
    let Some(id) = args.id.as_deref() else {
        return Err(Failure::usage("an operation id is needed (or --list)"));
    };
    let Some(op) = geopera::ops::find(id) else {
        return Err(Failure::usage(format!(
            "{id}: no such operation in this build ({} operations; `geopera op --list` lists them)",
            OPERATIONS.len()
        )));
    };
    let body = match args.body.as_deref() {
        Some(arg) => {
            read_json(arg).map_err(|f| Failure::usage(format!("{}: {}", op.id, f.message)))?
        }
        None => json!({}),
    };
    invoke(global, op.id, body, output).await
}

/// Calls operation `id` with `body` and prints the answer.
pub async fn invoke(
    global: &Global,
    id: &str,
    body: Value,
    output: &Output,
) -> Result<(), Failure> {
    let answer = crate::connect::invoke(&global.auth, id, body).await?;
    output.value(&answer);
    Ok(())
}

fn list(output: &Output) -> Result<(), Failure> {
    if output.json {
        let rows: Vec<Value> = OPERATIONS
            .iter()
            .map(|op| {
                json!({
                    "id": op.id,
                    "scope": op.required_scope,
                    "summary": op.summary,
                    "method": op.method,
                    "path": op.path,
                    "idempotent": op.idempotent,
                })
            })
            .collect();
        output.value(&Value::Array(rows));
    } else {
        let rows: Vec<[&str; 3]> = OPERATIONS
            .iter()
            .map(|op| [op.id, op.required_scope.unwrap_or("-"), op.summary])
            .collect();
        output.table(["OPERATION", "SCOPE", "SUMMARY"], &rows);
    }
    Ok(())
}
