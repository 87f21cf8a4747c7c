//! The `geopera` binary: [`geopera_cli::run`] (the crate documentation describes the
//! commands and the exit codes).

fn main() -> std::process::ExitCode {
    geopera_cli::run()
}
