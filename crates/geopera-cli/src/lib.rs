//! # geopera
//!
//! The Geopera command line, built on the `geopera` SDK and `geopera-transfer`:
//!
//! * `geopera op ID [JSON | @file | -]` calls any operation of the SDK's operation table
//!   by id (`geopera op --list` lists them: id, scope, summary);
//! * `geopera uploads initiate --project-id ... --total-bytes ...`: the same operations
//!   as a command tree generated from the table, one flag per body field (required
//!   flags enforced, enum values listed in `--help`), `--body` for the rest;
//! * `geopera upload PATH... --project ID` uploads files in one session with a progress
//!   bar per file and one overall (one plain line per event when stderr is not a
//!   terminal) and prints the created item ids; Ctrl-C fails the session, so its quota
//!   reservation is released, before exiting with 130;
//! * `geopera download item ITEM ASSET [-o PATH]` and
//!   `geopera download clip JOB (--mosaic TYPE | --all) [-o DIR]`: verified, resumable
//!   downloads that never leave a partial file and never replace one without `--force`;
//! * `geopera dev-server [FLAGS]` starts the embedded dev server (the flags of the
//!   standalone `geopera-dev-server`), so every command can be tried offline;
//! * `geopera completions SHELL` and `geopera man [--out-dir DIR]` print a completion
//!   script and the man page (or write a page per command), generated from the same
//!   definitions.
//!
//! Connection: `--api-url`, else `GEOPERA_API_URL`, else the profile's, else
//! `https://api.geopera.com`; the credential in `GEOPERA_API_TOKEN`, else the profile's
//! (`geopera login`). Output is JSON when stdout is not a terminal (or
//! with `--json`), a readable summary on a terminal; colours follow `NO_COLOR`. Errors are
//! one line on stderr naming the operation, redacted like every SDK error, and a 422 lists
//! each failing field under it.
//!
//! ## Exit codes
//!
//! | code | kind |
//! |---|---|
//! | 0 | success |
//! | 1 | a failure of no other kind |
//! | 2 | usage: unknown flag or operation, bad JSON argument, unreadable `@file` |
//! | 3 | auth: not logged in, a credential refused (401, 403), or a bad client setting |
//! | 4 | not found (404) |
//! | 5 | quota exceeded (402) |
//! | 6 | validation: rejected by the API (422, 413) or, before sending, by the model |
//! | 7 | transport: the API or storage could not be reached (after retries) |
//! | 8 | server: 5xx, or a status or body the API does not declare |
//! | 9 | local file: unreadable or unwritable (or the credentials file), or the destination exists (see `--force`) |
//! | 130 | interrupted (Ctrl-C), after releasing the upload's reservation |
//!
//! `geopera login` (the device flow, or `--api-key`), `logout` and `whoami` share the
//! platform's Python command line's credentials file and precedence ([`auth`], [`profile`],
//! [`oidc`]); every other command connects through [`auth::resolve`].
//!
//! The binary is [`run`].

#![warn(missing_docs)]

pub mod auth;
mod cli;
mod completions;
mod connect;
mod download;
mod exit;
pub mod oidc;
mod op;
mod output;
pub mod profile;
mod progress;
mod signal;
mod tree;
mod upload;

use std::process::ExitCode;

use clap::FromArgMatches;

use crate::cli::{Cli, Command};
use crate::exit::{Exit, Failure};
use crate::output::Output;

/// Runs the `geopera` command line on the process's arguments and returns its exit code.
pub fn run() -> ExitCode {
    let matches = match cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(e) => {
            // Help and version print to stdout and exit 0; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(Exit::Usage as u8));
        }
    };
    let result = Cli::from_arg_matches(&matches)
        .map_err(|e| Failure::usage(e.to_string()))
        .and_then(|cli| dispatch(cli, &matches));
    match result {
        Ok(code) => code,
        Err(failure) => {
            output::failure(&failure);
            failure.exit.code()
        }
    }
}

fn dispatch(cli: Cli, matches: &clap::ArgMatches) -> Result<ExitCode, Failure> {
    let output = Output::new(cli.global.json);
    match &cli.command {
        Some(Command::Completions { shell }) => {
            completions::completions(*shell);
            return Ok(Exit::Ok.code());
        }
        Some(Command::Man { out_dir }) => {
            return completions::man(out_dir.as_deref()).map(|()| Exit::Ok.code());
        }
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(Exit::Failure, format!("starting the async runtime: {e}")))?;
    if let Some(Command::DevServer(flags)) = &cli.command {
        return Ok(runtime.block_on(geopera_dev_server::run(flags.clone())));
    }
    runtime
        .block_on(async {
            match &cli.command {
                Some(Command::Op(args)) => op::run(&cli.global, args, &output).await,
                Some(Command::Upload(args)) => upload::run(&cli.global, args, &output).await,
                Some(Command::Download(args)) => download::run(&cli.global, args, &output).await,
                Some(Command::Auth(command)) => Ok(command.run(&cli.global.auth).await?),
                Some(Command::Completions { .. } | Command::Man { .. } | Command::DevServer(_)) => {
                    Ok(())
                }
                None => match tree::resolve(matches) {
                    Some(Ok((spec, body))) => op::invoke(&cli.global, spec.id, body, &output).await,
                    Some(Err(failure)) => Err(failure),
                    None => Err(Failure::usage("no command given; see geopera --help")),
                },
            }
        })
        .map(|()| Exit::Ok.code())
}
