//! The binary on a pseudo-terminal, as a person sees it: progress bars drawn in place,
//! a readable summary, colours unless `NO_COLOR` is set.

use std::io::Read;
use std::process::{Command, Stdio};

use geopera_dev_server::DevServer;
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{Winsize, tcsetwinsize};

use crate::support::{TempDir, server};

/// Runs `geopera ARGS` in `dir` with stdout and stderr on a fresh pseudo-terminal of 120
/// columns, and returns everything it wrote there and its exit code.
async fn on_terminal(
    server: &DevServer,
    dir: &TempDir,
    args: &[&str],
    no_color: bool,
) -> (Option<i32>, String) {
    let base_url = server.base_url().to_owned();
    let token = server.token().to_owned();
    let dir = dir.path().to_owned();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let terminal = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().unwrap())
            .unwrap();
        tcsetwinsize(
            &terminal,
            Winsize {
                ws_row: 40,
                ws_col: 120,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_geopera"));
        command
            .args(&args)
            .current_dir(&dir)
            .env("HOME", crate::support::empty_home())
            .env("GEOPERA_API_URL", &base_url)
            .env("GEOPERA_API_TOKEN", &token)
            .env_remove("GEOPERA_PROFILE")
            .env("TERM", "xterm-256color")
            .env_remove("CLICOLOR_FORCE")
            .stdin(Stdio::null())
            .stdout(terminal.try_clone().unwrap())
            .stderr(terminal);
        if no_color {
            command.env("NO_COLOR", "1");
        } else {
            command.env_remove("NO_COLOR");
        }
        let mut child = command.spawn().unwrap();
        // Only the child holds the terminal now, so reading ends when it exits.
        drop(command);
        let mut screen = Vec::new();
        let mut master = std::fs::File::from(master);
        let mut chunk = [0u8; 8192];
        loop {
            match master.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => screen.extend_from_slice(&chunk[..n]),
                // Linux answers EIO once the last holder of the terminal closed it.
                Err(_) => break,
            }
        }
        let status = child.wait().unwrap();
        (status.code(), String::from_utf8_lossy(&screen).into_owned())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_an_upload_draws_bars_and_a_readable_summary() {
    let server = server().await;
    let dir = TempDir::new();
    std::fs::write(dir.path().join("north.tif"), vec![7u8; 1_500_000]).unwrap();
    std::fs::write(dir.path().join("south.tif"), vec![9u8; 600_000]).unwrap();

    let (code, screen) = on_terminal(
        &server,
        &dir,
        &["upload", "north.tif", "south.tif", "--project", "prj_demo"],
        true,
    )
    .await;
    assert_eq!(code, Some(0), "{screen}");
    // indicatif redraws in place (erase-line sequences), with a bar per file and a total.
    assert!(screen.contains("\u{1b}[2K"), "no bar was drawn: {screen:?}");
    // Each bar ends full: bytes over size, per file and overall.
    for (name, full) in [
        ("north.tif", "1.43 MiB/1.43 MiB"),
        ("south.tif", "585.94 KiB/585.94 KiB"),
        ("total", "2.00 MiB/2.00 MiB"),
    ] {
        assert!(
            screen.contains(name) && screen.contains(full),
            "{name} {full}: {screen:?}"
        );
    }
    // No plain event lines on a terminal, no JSON: a table and the item ids.
    assert!(!screen.contains("uploaded north.tif"), "{screen:?}");
    assert!(!screen.contains("\"item_ids\""), "{screen:?}");
    assert!(
        screen.contains("FILE") && screen.contains("ITEM"),
        "{screen:?}"
    );
    let session = &server.state().sessions()[0];
    for item in &session.item_ids {
        assert!(screen.contains(item.as_str()), "{item}: {screen:?}");
    }
    // NO_COLOR: styles such as bold and colours are left out.
    assert!(
        !screen.contains("\u{1b}[1m") && !screen.contains("\u{1b}[36m"),
        "{screen:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_answers_are_readable_coloured_and_hide_signatures() {
    let server = server().await;
    let dir = TempDir::new();
    let args = [
        "items",
        "asset",
        "download",
        "--item-id",
        "itm_demo",
        "--asset-id",
        "visual",
    ];
    let (code, screen) = on_terminal(&server, &dir, &args, false).await;
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("\u{1b}[1m"), "keys are bold: {screen:?}");
    assert!(
        screen.contains("item_id") && screen.contains("itm_demo"),
        "{screen:?}"
    );
    assert!(
        !screen.contains("Signature="),
        "signed URLs lose their query: {screen:?}"
    );
    assert!(screen.contains("--json prints them whole"), "{screen:?}");

    let (code, screen) = on_terminal(&server, &dir, &args, true).await;
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains('\u{1b}'), "NO_COLOR: {screen:?}");

    let (code, screen) = on_terminal(
        &server,
        &dir,
        &[
            "--json",
            "items",
            "asset",
            "download",
            "--item-id",
            "itm_demo",
            "--asset-id",
            "visual",
        ],
        true,
    )
    .await;
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("Signature="),
        "--json prints the answer whole: {screen:?}"
    );
}
