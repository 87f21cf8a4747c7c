//! `geopera completions SHELL` and `geopera man`: a completion script and the man page,
//! generated from the same definition as the parser (fixed commands and operation tree).

use crate::exit::{Exit, Failure};

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) {
    let mut command = crate::cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "geopera", &mut script);
    crate::output::out(&String::from_utf8_lossy(&script));
}

/// Prints the man page (roff) of `geopera`, or with `out_dir` writes it and a page for
/// every subcommand there.
pub fn man(out_dir: Option<&std::path::Path>) -> Result<(), Failure> {
    if let Some(dir) = out_dir {
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(crate::cli::command(), dir));
        return written.map_err(|e| {
            Failure::new(
                Exit::LocalFile,
                format!("writing the man pages to {}: {e}", dir.display()),
            )
        });
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(crate::cli::command())
        .render(&mut page)
        .map_err(|e| Failure::new(Exit::Failure, format!("rendering the man page: {e}")))?;
    crate::output::out(&String::from_utf8_lossy(&page));
    Ok(())
}
