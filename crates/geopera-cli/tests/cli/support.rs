//! Starting a dev server and running the binary against it.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use geopera_dev_server::DevServer;
use tokio::io::AsyncWriteExt;

/// A dev server with the demo data (`prj_demo`, `itm_demo`/`visual`, `clip_demo`/`visual`).
pub async fn server() -> DevServer {
    let server = DevServer::start().await.unwrap();
    server.state().seed_demo().unwrap();
    server
}

/// A home directory with no credentials file (it does not exist), so no test reads the
/// credentials of the person running it.
pub fn empty_home() -> PathBuf {
    std::env::temp_dir().join(format!("geopera-cli-test-no-home-{}", std::process::id()))
}

/// The binary, pointed at `server` with its token, colours off, no profile.
pub fn geopera(server: &DevServer) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_geopera"));
    command
        .env("HOME", empty_home())
        .env("GEOPERA_API_URL", server.base_url())
        .env("GEOPERA_API_TOKEN", server.token())
        .env_remove("GEOPERA_PROFILE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// What one run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `geopera ARGS` against `server` and waits for it.
pub async fn run(server: &DevServer, args: &[&str]) -> Run {
    geopera(server).args(args).output().await.unwrap().into()
}

/// Runs `geopera ARGS` in `dir` with `stdin` as its standard input.
pub async fn run_in(server: &DevServer, dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = geopera(server);
    command.args(args).current_dir(dir);
    let Some(input) = stdin else {
        return command.output().await.unwrap().into();
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(input.as_bytes()).await.unwrap();
    drop(pipe);
    child.wait_with_output().await.unwrap().into()
}

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "geopera-cli-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
