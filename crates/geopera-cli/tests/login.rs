//! `geopera login`, `whoami` and `logout`, run as a user runs them (the binary, with a
//! throwaway home directory) against an in-process dev server: API keys from standard input,
//! the device login approved through the dev server, refresh after expiry, the credentials
//! file and its permissions, and the precedence of flags, environment and profile.

use geopera_dev_server::{DevConfig, DevServer};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// A key every test server knows (with every scope), shaped like a platform API key.
const KEY: &str = "gpra_test_key_0123456789";

/// The binary with its own home directory and none of the caller's GEOPERA_* settings.
struct Cli {
    home: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            home: tempfile::tempdir().expect("temp home"),
        }
    }

    fn credentials(&self) -> PathBuf {
        self.home.path().join(".config/geopera/credentials.json")
    }

    fn stored(&self) -> Value {
        let text = std::fs::read_to_string(self.credentials()).expect("credentials file");
        serde_json::from_str(&text).expect("credentials JSON")
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_geopera"));
        command
            .args(args)
            .env("HOME", self.home.path())
            .env_remove("GEOPERA_API_URL")
            .env_remove("GEOPERA_API_TOKEN")
            .env_remove("GEOPERA_PROFILE")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    async fn run_with(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
        let mut child = self.command(args, env).spawn().expect("spawn geopera");
        let mut input = child.stdin.take().expect("stdin");
        input
            .write_all(stdin.as_bytes())
            .await
            .expect("write stdin");
        drop(input);
        Run(child.wait_with_output().await.expect("geopera runs"))
    }

    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_with(args, env, "").await
    }

    /// `login --api-key -` with `key` on standard input, against `url`.
    async fn login_key(&self, url: &str, key: &str, extra: &[&str]) -> Run {
        let mut args = vec!["login", "--api-key", "-", "--api-url", url];
        args.extend_from_slice(extra);
        self.run_with(&args, &[], &format!("{key}\n")).await
    }
}

struct Run(Output);

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    fn code(&self) -> Option<i32> {
        self.0.status.code()
    }

    fn ok(&self) -> &Run {
        assert_eq!(
            self.code(),
            Some(0),
            "stdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// The value of a `whoami` line such as `api_url:         http://…`.
    fn field(&self, name: &str) -> String {
        self.stdout()
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}:")))
            .map(|value| value.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name} in {}", self.stdout()))
    }

    fn never_shows(&self, secret: &str) {
        assert!(
            !self.stdout().contains(secret) && !self.stderr().contains(secret),
            "a secret was printed:\n{}\n{}",
            self.stdout(),
            self.stderr()
        );
    }
}

async fn server(config: DevConfig) -> DevServer {
    DevServer::start_with(config.with_token(KEY, DevConfig::ALL_SCOPES))
        .await
        .expect("dev server")
}

#[tokio::test]
async fn an_api_key_from_stdin_logs_in_says_who_and_logs_out() {
    let dev = server(DevConfig::default()).await;
    let cli = Cli::new();
    let login = cli.login_key(dev.base_url(), KEY, &[]).await;
    login.ok().never_shows(KEY);
    assert!(
        login.stderr().contains("Logged in as key_"),
        "{}",
        login.stderr()
    );

    let stored = cli.stored();
    assert_eq!(stored["default"]["api_url"], dev.base_url());
    assert_eq!(stored["default"]["auth"]["type"], "api_key");
    assert_eq!(stored["default"]["auth"]["api_key"], KEY);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cli.credentials()), 0o600);
        assert_eq!(mode(cli.credentials().parent().unwrap()), 0o700);
    }

    // The stored URL and key are used without flags.
    let whoami = cli.run(&["whoami"], &[]).await;
    whoami.ok().never_shows(KEY);
    assert_eq!(whoami.field("principal_type"), "api_key");
    assert_eq!(whoami.field("org_id"), "org_dev");
    assert_eq!(whoami.field("api_url"), dev.base_url());
    assert_eq!(whoami.field("profile"), "default");
    let json = cli.run(&["whoami", "--json"], &[]).await;
    let info: Value = serde_json::from_str(&json.ok().stdout()).expect("JSON");
    assert_eq!(info["geopera_principal_type"], "api_key");

    let logout = cli.run(&["logout"], &[]).await;
    assert!(
        logout
            .ok()
            .stderr()
            .contains("Logged out (profile 'default')")
    );
    let stored = cli.stored();
    assert!(stored["default"].get("auth").is_none(), "{stored}");
    assert_eq!(stored["default"]["api_url"], dev.base_url());
    let after = cli.run(&["whoami"], &[]).await;
    assert_eq!(after.code(), Some(3), "{}", after.stderr());
    assert!(
        after.stderr().contains("not logged in"),
        "{}",
        after.stderr()
    );
    let again = cli.run(&["logout"], &[]).await;
    assert!(again.ok().stderr().contains("No stored credentials"));
}

#[tokio::test]
async fn api_keys_are_never_taken_as_arguments_and_bad_keys_are_not_stored() {
    let dev = server(DevConfig::default()).await;
    let cli = Cli::new();
    let argument = cli
        .run(
            &["login", "--api-key", KEY, "--api-url", dev.base_url()],
            &[],
        )
        .await;
    assert_eq!(argument.code(), Some(2), "{}", argument.stderr());
    argument.never_shows(KEY);
    assert!(!cli.credentials().exists());

    let refused = cli.login_key(dev.base_url(), "gpra_wrong", &[]).await;
    assert_eq!(refused.code(), Some(3), "{}", refused.stderr());
    assert!(refused.stderr().contains("API key validation failed"));
    assert!(!cli.credentials().exists());

    let empty = cli.login_key(dev.base_url(), "", &[]).await;
    assert_eq!(empty.code(), Some(2), "{}", empty.stderr());

    // `--api-key` alone reads standard input when it is not a terminal.
    let bare = cli
        .run_with(
            &["login", "--api-key", "--api-url", dev.base_url()],
            &[],
            &format!("{KEY}\n"),
        )
        .await;
    bare.ok().never_shows(KEY);
    assert_eq!(cli.stored()["default"]["auth"]["api_key"], KEY);
}

/// Starts `geopera login` (the device flow), reads the user code it prints, and returns the
/// running child with that code.
async fn start_device_login(cli: &Cli, url: &str) -> (tokio::process::Child, String) {
    let mut child = cli
        .command(&["login", "--no-browser", "--api-url", url], &[])
        .spawn()
        .expect("spawn geopera");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut previous = String::new();
    let code = loop {
        let line = lines
            .next_line()
            .await
            .expect("read stderr")
            .expect("the login prints a code before it ends");
        if previous.contains("confirm this code") {
            break line.trim().to_owned();
        }
        previous = line;
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, code)
}

#[tokio::test]
async fn a_device_login_approved_through_the_dev_server() {
    let dev = server(DevConfig::default().device_poll_interval(Duration::from_secs(1))).await;
    let cli = Cli::new();
    let (child, code) = start_device_login(&cli, dev.base_url()).await;
    assert_eq!(dev.state().pending_device_codes(), vec![code.clone()]);
    assert!(dev.state().approve_device(&code));
    let output = child.wait_with_output().await.expect("login ends");
    assert!(output.status.success(), "{output:?}");

    let auth = &cli.stored()["default"]["auth"];
    assert_eq!(auth["type"], "oauth");
    assert!(auth["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        auth["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(auth["expires_at"].as_f64().is_some_and(|at| at > 1.0e9));
    assert_eq!(auth["scope"], "openid profile");
    assert_eq!(auth["issuer"], dev.base_url());

    let whoami = cli.run(&["whoami"], &[]).await;
    whoami.ok();
    assert_eq!(whoami.field("principal_type"), "user");
    assert_eq!(whoami.field("sub"), "usr_dev");
    assert_eq!(whoami.field("scope"), "openid profile");
}

#[tokio::test]
async fn a_denied_device_login_fails_as_an_auth_error_and_stores_nothing() {
    let dev = server(DevConfig::default().device_poll_interval(Duration::from_secs(1))).await;
    let cli = Cli::new();
    let (child, code) = start_device_login(&cli, dev.base_url()).await;
    assert!(dev.state().deny_device(&code));
    let output = child.wait_with_output().await.expect("login ends");
    assert_eq!(output.status.code(), Some(3));
    assert!(!cli.credentials().exists());
}

/// An auto-approved device login on `dev`, returning the stored auth entry.
async fn device_login(cli: &Cli, dev: &DevServer) -> Value {
    cli.run(&["login", "--no-browser", "--api-url", dev.base_url()], &[])
        .await
        .ok();
    cli.stored()["default"]["auth"].clone()
}

#[tokio::test]
async fn a_token_near_its_expiry_is_refreshed_before_use_and_rotated() {
    // 10 s is inside the 30 s leeway: the next command refreshes first.
    let config = DevConfig::default()
        .auto_approve_device(true)
        .device_poll_interval(Duration::ZERO)
        .access_token_ttl(Duration::from_secs(10));
    let dev = server(config).await;
    let cli = Cli::new();
    let first = device_login(&cli, &dev).await;

    let whoami = cli.run(&["whoami"], &[]).await;
    whoami.ok();
    assert_eq!(whoami.field("principal_type"), "user");
    let second = cli.stored()["default"]["auth"].clone();
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    whoami.never_shows(second["access_token"].as_str().unwrap());

    // The spent refresh token is not stored any more: another refresh works.
    cli.run(&["whoami"], &[]).await.ok();
    let third = cli.stored()["default"]["auth"].clone();
    assert_ne!(third["refresh_token"], second["refresh_token"]);
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_a_revoked_session_asks_for_login() {
    let config = DevConfig::default()
        .auto_approve_device(true)
        .device_poll_interval(Duration::ZERO);
    let dev = server(config).await;
    let cli = Cli::new();
    let first = device_login(&cli, &dev).await;

    // The stored expiry is minutes away, but the server has expired the token: a 401.
    dev.state().expire_access_tokens();
    cli.run(&["whoami"], &[]).await.ok();
    let second = cli.stored()["default"]["auth"].clone();
    assert_ne!(second["access_token"], first["access_token"]);

    // Logout ends the session on the server; the old tokens are gone from the file too.
    cli.run(&["logout"], &[]).await.ok();
    let mut store = cli.stored();
    store["default"]["auth"] = second.clone();
    std::fs::write(cli.credentials(), store.to_string()).unwrap();
    let revoked = cli.run(&["whoami"], &[]).await;
    assert_eq!(revoked.code(), Some(3), "{}", revoked.stderr());
    assert!(
        revoked.stderr().contains("geopera login"),
        "{}",
        revoked.stderr()
    );
}

#[tokio::test]
async fn flags_beat_the_environment_which_beats_the_profile() {
    let a = server(DevConfig::default()).await;
    let b = server(DevConfig::default()).await;
    let cli = Cli::new();
    cli.login_key(a.base_url(), KEY, &[]).await.ok();
    cli.login_key(b.base_url(), KEY, &["--profile", "ci"])
        .await
        .ok();
    assert_eq!(cli.stored()["ci"]["api_url"], b.base_url());

    let url = |run: Run| run.ok().field("api_url");
    // Profile, then environment, then flag.
    assert_eq!(url(cli.run(&["whoami"], &[]).await), a.base_url());
    let env_b = [("GEOPERA_API_URL", b.base_url())];
    assert_eq!(url(cli.run(&["whoami"], &env_b).await), b.base_url());
    assert_eq!(
        url(cli
            .run(&["whoami", "--api-url", a.base_url()], &env_b)
            .await),
        a.base_url()
    );

    // The profile: flag over GEOPERA_PROFILE over `default`.
    let env_ci = [("GEOPERA_PROFILE", "ci")];
    let ci = cli.run(&["whoami"], &env_ci).await;
    assert_eq!(ci.ok().field("profile"), "ci");
    assert_eq!(ci.field("api_url"), b.base_url());
    let flag = cli.run(&["whoami", "--profile", "default"], &env_ci).await;
    assert_eq!(flag.ok().field("profile"), "default");

    // GEOPERA_API_TOKEN beats the stored key: another principal, and a bad one is refused.
    let stored_sub = cli.run(&["whoami"], &[]).await.field("sub");
    let env_token = [("GEOPERA_API_TOKEN", a.token())];
    let by_env = cli.run(&["whoami"], &env_token).await;
    assert_ne!(by_env.ok().field("sub"), stored_sub);
    by_env.never_shows(a.token());
    let bad = cli
        .run(&["whoami"], &[("GEOPERA_API_TOKEN", "gpra_not_a_key")])
        .await;
    assert_eq!(bad.code(), Some(3), "{}", bad.stderr());
    assert!(
        bad.stderr().contains("GEOPERA_API_TOKEN"),
        "{}",
        bad.stderr()
    );
}
