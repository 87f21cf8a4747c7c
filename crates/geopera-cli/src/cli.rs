//! The fixed commands, declared with clap's derive: `op`, `upload`, `download`,
//! `dev-server`, `completions`, `man`, and the options every command takes ([`Global`]).
//!
//! The typed operation tree (`geopera uploads initiate ...`) is generated at run time from
//! the operation table in `tree.rs` and added to [`command`]'s result, so `--help`, the
//! completions and the man page all see both.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::exit::EXIT_CODES_HELP;

const AFTER_HELP: &str = "\
Credentials: GEOPERA_API_TOKEN, else the profile's (`geopera login`, stored in
~/.config/geopera/credentials.json, shared with the platform's Python command line). The
API: --api-url, else GEOPERA_API_URL, else the profile's, else https://api.geopera.com.
Try every command offline: `geopera dev-server` starts a local stand-in for the API and
prints its URL and token.

Output: JSON when stdout is not a terminal (or with --json), a readable summary on a
terminal (signed URLs shown without their query). Errors: one line on stderr naming the
operation, with secrets redacted; a 422 lists each failing field.
";

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "geopera",
    version,
    about = "The Geopera command line: every API operation, and uploads and downloads with progress",
    after_long_help = format!("{AFTER_HELP}\n{EXIT_CODES_HELP}"),
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// A fixed command; `None` when the command is one of the generated operation tree.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Which stored identity and which API (`--profile`, `--api-url`).
    #[command(flatten)]
    pub auth: crate::auth::AuthOptions,
    /// Print JSON even on a terminal
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
}

/// The fixed commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Call any operation by id with a JSON body, or list the operations
    #[command(
        long_about = "Call any operation by id with a JSON body (inline, @file, or - for stdin; {} when \
                      left out), or list the operations with --list. The body is checked against the \
                      operation's model before anything is sent."
    )]
    Op(OpArgs),
    /// Upload files in one session, with a progress bar per file
    #[command(
        long_about = "Upload files in one upload session: the quota is reserved for all of them, each \
                      file is signed and PUT from disk (a progress bar per file and one overall on a \
                      terminal, one line per event otherwise), and the session is completed once every \
                      PUT succeeded. Prints the created item ids at the end. Any failure, or Ctrl-C, \
                      fails the session so its reservation is released before the command exits."
    )]
    Upload(UploadArgs),
    /// Download an item's asset or a clip job's mosaics
    #[command(subcommand)]
    Download(DownloadCommand),
    /// Start the embedded dev server, a local stand-in for the API (same flags as geopera-dev-server)
    #[command(
        long_about = "Start the embedded dev server: a local, stateful stand-in for the Geopera API \
                      with demo data, for trying every command offline. It prints its URL and token \
                      (set GEOPERA_API_URL and GEOPERA_API_TOKEN to them in another shell) and serves \
                      until Ctrl-C. The flags are the standalone geopera-dev-server's."
    )]
    DevServer(geopera_dev_server::Flags),
    /// The login commands: login, logout, whoami.
    #[command(flatten)]
    Auth(crate::auth::AuthCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of geopera, or write one page per command to a directory
    Man {
        /// Write geopera.1 and a page for every subcommand (geopera-upload.1, ...) here
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// `geopera op`.
#[derive(Debug, Args)]
pub struct OpArgs {
    /// The operation id, e.g. uploads.initiate
    #[arg(required_unless_present = "list", value_name = "ID")]
    pub id: Option<String>,
    /// The JSON body: inline, @file, or - for stdin [default: {}]
    #[arg(value_name = "JSON")]
    pub body: Option<String>,
    /// List the operations (id, scope, summary)
    #[arg(long, conflicts_with_all = ["id", "body"])]
    pub list: bool,
}

/// `geopera upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The files to upload
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The project the new items belong to
    #[arg(long, value_name = "ID")]
    pub project: String,
    /// Add the files to this existing item instead of creating items
    #[arg(long, value_name = "ID")]
    pub item: Option<String>,
    /// The asset key of the single file added to --item [default: the file's stem]
    #[arg(long, value_name = "KEY", requires = "item")]
    pub asset_key: Option<String>,
    /// How many files are PUT at once
    #[arg(long, value_name = "N", default_value_t = geopera_transfer::DEFAULT_CONCURRENCY,
          value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..), usize::from))]
    pub concurrency: usize,
}

/// `geopera download`.
#[derive(Debug, Subcommand)]
pub enum DownloadCommand {
    /// Download one asset of an item to a file
    #[command(
        long_about = "Download one asset of an item to a file. The bytes go to a temporary file beside \
                      the destination, a broken-off transfer resumes, the length is checked, and only \
                      then is the file renamed into place: a failed download leaves nothing behind."
    )]
    Item {
        /// The item id
        item: String,
        /// The asset key, e.g. visual
        asset: String,
        /// The destination file [default: ./ASSET]
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Replace the destination when it exists
        #[arg(long)]
        force: bool,
        /// Connections one download may use: a large object comes in parts, in parallel
        #[arg(long, value_name = "N", default_value_t = geopera_transfer::DEFAULT_CONNECTIONS,
              value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..), usize::from))]
        connections: usize,
    },
    /// Download a clip job's mosaic (or all of them) into a directory
    Clip {
        /// The clip job id
        job: String,
        /// The mosaic to download, e.g. visual
        #[arg(
            long,
            value_name = "TYPE",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        mosaic: Option<String>,
        /// Download every mosaic of the job, in parallel
        #[arg(long)]
        all: bool,
        /// The directory to download into (each file keeps the job's file name)
        #[arg(short, long, value_name = "DIR", default_value = ".")]
        output: PathBuf,
        /// Replace files that exist
        #[arg(long)]
        force: bool,
        /// Connections each download may use: a large object comes in parts, in parallel
        #[arg(long, value_name = "N", default_value_t = geopera_transfer::DEFAULT_CONNECTIONS,
              value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..), usize::from))]
        connections: usize,
    },
}

/// The whole command definition: the fixed commands and the generated operation tree.
pub fn command() -> clap::Command {
    crate::tree::add_operations(Cli::command())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_definition_is_consistent() {
        super::command().debug_assert();
    }
}
