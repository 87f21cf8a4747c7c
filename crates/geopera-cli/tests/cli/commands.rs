//! `op`, `op --list`, the typed tree, errors and exit codes, completions and the man page.

use geopera_dev_server::{Fault, FaultKind, FaultTarget};
use serde_json::json;

use crate::support::{TempDir, run, run_in, server};

#[tokio::test(flavor = "multi_thread")]
async fn op_calls_an_operation_with_a_json_body_from_an_argument_a_file_or_stdin() {
    let server = server().await;
    let inline = run(
        &server,
        &["op", "clip.job.downloads", r#"{"job_id": "clip_demo"}"#],
    )
    .await;
    assert_eq!(inline.code, Some(0), "{inline:?}");
    let answer = inline.json();
    assert_eq!(answer["job_id"], "clip_demo");
    assert_eq!(answer["downloads"][0]["mosaic_type"], "visual");

    let dir = TempDir::new();
    std::fs::write(dir.path().join("body.json"), r#"{"job_id": "clip_demo"}"#).unwrap();
    let from_file = run_in(
        &server,
        dir.path(),
        &["op", "clip.job.downloads", "@body.json"],
        None,
    )
    .await;
    assert_eq!(from_file.json(), answer, "{from_file:?}");
    let from_stdin = run_in(
        &server,
        dir.path(),
        &["op", "clip.job.downloads", "-"],
        Some(r#"{"job_id": "clip_demo"}"#),
    )
    .await;
    assert_eq!(from_stdin.json(), answer, "{from_stdin:?}");
    assert_eq!(server.state().calls("clip.job.downloads"), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn op_list_names_every_operation_with_its_scope() {
    let server = server().await;
    let list = run(&server, &["op", "--list"]).await;
    assert_eq!(list.code, Some(0), "{list:?}");
    let rows = list.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), geopera::ops::OPERATIONS.len());
    for op in geopera::ops::OPERATIONS {
        let row = rows.iter().find(|r| r["id"] == op.id).unwrap();
        assert_eq!(row["scope"], json!(op.required_scope), "{}", op.id);
        assert_eq!(row["summary"], op.summary);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_typed_command_sends_its_flags_as_the_body() {
    let server = server().await;
    let initiated = run(
        &server,
        &[
            "uploads",
            "initiate",
            "--project-id",
            "prj_demo",
            "--total-bytes",
            "1234",
            "--file-count",
            "2",
            "--transfer-method",
            "signed_url",
        ],
    )
    .await;
    assert_eq!(initiated.code, Some(0), "{initiated:?}");
    let id = initiated.json()["id"].as_str().unwrap().to_owned();
    let session = server.state().session(&id).unwrap();
    assert_eq!((session.total_bytes, session.file_count), (1234, 2));
    assert_eq!(session.transfer_method, "signed_url");
    assert_eq!(server.state().reserved_bytes(), 1234);

    let failed = run(
        &server,
        &[
            "uploads",
            "fail",
            "--upload-id",
            &id,
            "--error-message",
            "changed my mind",
        ],
    )
    .await;
    assert_eq!(failed.code, Some(0), "{failed:?}");
    assert_eq!(server.state().reserved_bytes(), 0);

    // uploads.complete's body is free-form: it goes in --body.
    let second = run(
        &server,
        &["uploads", "initiate", "--project-id", "prj_demo"],
    )
    .await;
    let id = second.json()["id"].as_str().unwrap().to_owned();
    let body = format!(r#"{{"upload_id": "{id}"}}"#);
    let completed = run(&server, &["uploads", "complete", "--body", &body]).await;
    assert_eq!(completed.code, Some(0), "{completed:?}");
    assert_eq!(completed.json()["id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2_and_send_nothing() {
    let server = server().await;
    let missing = run(&server, &["uploads", "initiate", "--total-bytes", "1"]).await;
    assert_eq!(missing.code, Some(2), "{missing:?}");
    assert!(missing.stderr.contains("--project-id"), "{missing:?}");
    let bad_enum = run(
        &server,
        &[
            "uploads",
            "initiate",
            "--project-id",
            "p",
            "--transfer-method",
            "fax",
        ],
    )
    .await;
    assert_eq!(bad_enum.code, Some(2), "{bad_enum:?}");
    assert!(
        bad_enum.stderr.contains("signed_url"),
        "lists the values: {bad_enum:?}"
    );
    let unknown = run(&server, &["op", "no.such.op", "{}"]).await;
    assert_eq!(unknown.code, Some(2), "{unknown:?}");
    assert!(
        unknown.stderr.starts_with("error: no.such.op:"),
        "{unknown:?}"
    );
    let not_json = run(&server, &["op", "uploads.initiate", "{nope"]).await;
    assert_eq!(not_json.code, Some(2), "{not_json:?}");
    assert!(
        not_json.stderr.starts_with("error: uploads.initiate:"),
        "{not_json:?}"
    );
    assert_eq!(server.state().calls("uploads.initiate"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_422_shows_each_failing_field_on_its_own_line() {
    let server = server().await;
    let long_id = "u".repeat(300);
    let long_name = "f".repeat(1100);
    let rejected = run(
        &server,
        &[
            "uploads",
            "signed-url",
            "--upload-id",
            &long_id,
            "--file-name",
            &long_name,
        ],
    )
    .await;
    assert_eq!(rejected.code, Some(6), "{rejected:?}");
    let lines: Vec<&str> = rejected.stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: uploads.signed_url: 422"),
        "{rejected:?}"
    );
    assert!(
        lines[1..]
            .iter()
            .any(|l| l.trim_start().starts_with("body.upload_id:")),
        "{rejected:?}"
    );
    assert!(
        lines[1..]
            .iter()
            .any(|l| l.trim_start().starts_with("body.file_name:")),
        "{rejected:?}"
    );
    assert!(rejected.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_follow_the_kind_of_failure() {
    let server = server().await;
    let code = |run: &crate::support::Run| run.code;

    let quota = run(
        &server,
        &[
            "op",
            "uploads.initiate",
            r#"{"project_id": "prj_demo", "total_bytes": 999999999999999}"#,
        ],
    )
    .await;
    assert_eq!(code(&quota), Some(5), "{quota:?}");
    assert!(
        quota.stderr.starts_with("error: uploads.initiate: 402"),
        "{quota:?}"
    );

    let missing = run(
        &server,
        &[
            "op",
            "items.asset.download",
            r#"{"item_id": "itm_nope", "asset_id": "visual"}"#,
        ],
    )
    .await;
    assert_eq!(code(&missing), Some(4), "{missing:?}");

    let local = run(&server, &["op", "uploads.initiate", "{}"]).await;
    assert_eq!(
        code(&local),
        Some(6),
        "rejected by the model before sending: {local:?}"
    );

    let wrong_token = crate::support::geopera(&server)
        .env("GEOPERA_API_TOKEN", "not-a-token")
        .args(["op", "clip.job.downloads", r#"{"job_id": "clip_demo"}"#])
        .output()
        .await
        .unwrap();
    assert_eq!(wrong_token.status.code(), Some(3));
    assert!(!String::from_utf8_lossy(&wrong_token.stderr).contains("not-a-token"));

    let no_token = crate::support::geopera(&server)
        .env_remove("GEOPERA_API_TOKEN")
        .args(["op", "clip.job.downloads", "{}"])
        .output()
        .await
        .unwrap();
    assert_eq!(no_token.status.code(), Some(3));

    server.state().inject(
        FaultTarget::operation("clip.job.downloads"),
        Fault::new(
            1,
            FaultKind::Status {
                status: 500,
                retry_after: None,
            },
        ),
    );
    let failing = run(
        &server,
        &["op", "clip.job.downloads", r#"{"job_id": "clip_demo"}"#],
    )
    .await;
    assert_eq!(code(&failing), Some(8), "{failing:?}");

    // Nothing listens on a port the OS just handed out and took back.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = crate::support::geopera(&server)
        .args([
            "--api-url",
            &format!("http://127.0.0.1:{port}"),
            "op",
            "clip.job.downloads",
            r#"{"job_id": "j"}"#,
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(7));
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(stderr.starts_with("error: clip.job.downloads:"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn help_documents_the_exit_codes_and_completions_and_man_come_from_the_same_definition() {
    let server = server().await;
    let help = run(&server, &["--help"]).await;
    assert_eq!(help.code, Some(0));
    assert!(
        help.stdout.contains("Exit codes:") && help.stdout.contains("130"),
        "{help:?}"
    );
    let bash = run(&server, &["completions", "bash"]).await;
    assert_eq!(bash.code, Some(0));
    assert!(
        bash.stdout.contains("geopera__uploads__signed__url") || bash.stdout.contains("signed-url"),
        "the typed tree is completed"
    );
    assert!(bash.stdout.contains("--project-id"));
    let man = run(&server, &["man"]).await;
    assert_eq!(man.code, Some(0));
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    assert!(man.stdout.contains("uploads"));
    let dir = TempDir::new();
    let pages = run_in(&server, dir.path(), &["man", "--out-dir", "man1"], None).await;
    assert_eq!(pages.code, Some(0), "{pages:?}");
    for page in [
        "geopera.1",
        "geopera-upload.1",
        "geopera-uploads-signed-url.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join("man1").join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn dev_server_starts_the_embedded_server_that_the_other_commands_reach() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_geopera"))
        .env("HOME", crate::support::empty_home())
        .args([
            "dev-server",
            "--addr",
            "127.0.0.1:0",
            "--token",
            "offline-token",
            "--quiet",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap()).lines();
    let url = loop {
        let line = stdout
            .next_line()
            .await
            .unwrap()
            .expect("the dev server printed no URL");
        if let Some(url) = line.strip_prefix("GEOPERA_API_URL=") {
            break url.to_owned();
        }
    };
    let dir = TempDir::new();
    let answer = tokio::process::Command::new(env!("CARGO_BIN_EXE_geopera"))
        .env("HOME", crate::support::empty_home())
        .env("GEOPERA_API_URL", &url)
        .env("GEOPERA_API_TOKEN", "offline-token")
        .args(["download", "clip", "clip_demo", "--mosaic", "visual", "-o"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert_eq!(answer.status.code(), Some(0), "{answer:?}");

    let pid = server.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.wait().await.unwrap();
    assert_eq!(status.code(), Some(0), "stops cleanly on Ctrl-C");
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_connect_through_the_profiles_and_name_their_failures() {
    let server = server().await;
    let home = TempDir::new();
    let not_logged_in = crate::support::geopera(&server)
        .env("HOME", home.path())
        .env_remove("GEOPERA_API_TOKEN")
        .args(["op", "clip.job.downloads", r#"{"job_id": "clip_demo"}"#])
        .output()
        .await
        .unwrap();
    assert_eq!(not_logged_in.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&not_logged_in.stderr).contains("geopera login"));

    let config = home.path().join(".config/geopera");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("credentials.json"), "{not json").unwrap();
    let unreadable = crate::support::geopera(&server)
        .env("HOME", home.path())
        .env_remove("GEOPERA_API_TOKEN")
        .args(["op", "clip.job.downloads", r#"{"job_id": "clip_demo"}"#])
        .output()
        .await
        .unwrap();
    assert_eq!(
        unreadable.status.code(),
        Some(9),
        "the credentials file is a local file"
    );
    assert!(String::from_utf8_lossy(&unreadable.stderr).contains("credentials.json"));
    assert_eq!(server.state().calls("clip.job.downloads"), 0);
}
