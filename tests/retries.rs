//! The retry policy against a scripted server: which failures are repeated, how often,
//! `Retry-After`, the idempotency rule for `uploads.initiate`, and retries switched off.

mod support;

use std::time::{Duration, Instant, SystemTime};

use geopera::models::{UploadInitiate, UploadProgressInput};
use geopera::{AuthenticatedClient, RetryPolicy, ops};
use serde_json::json;
use support::{Reply, Scripted};

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

fn client(server: &Scripted, policy: RetryPolicy) -> AuthenticatedClient {
    AuthenticatedClient::builder()
        .base_url(&server.base_url)
        .token("t")
        .retry_policy(policy)
        .build()
        .unwrap()
}

fn progress() -> UploadProgressInput {
    UploadProgressInput::new("u", "uploading", 1)
}

#[tokio::test]
async fn idempotent_operation_recovers_from_a_503_burst() {
    let server = Scripted::start().await;
    server
        .reply(Reply::problem(503, "Service Unavailable", "x"))
        .reply(Reply::raw(502, "text/html", "<h1>bad gateway</h1>"))
        .reply(Reply::json(200, json!({"id": "u"})));
    let out = ops::uploads_progress::send(&client(&server, fast()), &progress())
        .await
        .unwrap();
    assert_eq!(out.id, "u");
    assert_eq!(server.requests().len(), 3);
    let bodies: Vec<_> = server.requests().iter().map(|r| r.json()).collect();
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "every attempt sends the same body"
    );
}

#[tokio::test]
async fn attempts_are_bounded() {
    let server = Scripted::start().await;
    for _ in 0..5 {
        server.reply(Reply::raw(503, "text/plain", "busy"));
    }
    let e = ops::uploads_progress::send(&client(&server, fast()), &progress())
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn initiate_is_not_repeated_after_a_response_unless_opted_in() {
    let server = Scripted::start().await;
    server
        .reply(Reply::raw(503, "text/plain", "busy"))
        .reply(Reply::json(200, json!({"id": "u"})));
    let e = ops::uploads_initiate::send(&client(&server, fast()), &UploadInitiate::new("p"))
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        server.requests().len(),
        1,
        "initiate reserves quota: no automatic repeat"
    );

    let out = ops::uploads_initiate::send(
        &client(&server, fast().retry_non_idempotent(true)),
        &UploadInitiate::new("p"),
    )
    .await;
    // The queued 200 answers the opted-in call's first attempt.
    assert_eq!(out.unwrap().id, "u");
}

#[tokio::test]
async fn retry_after_is_honoured_and_documented_errors_are_not_retried() {
    let server = Scripted::start().await;
    server
        .reply(Reply::raw(429, "text/plain", "slow down").header("retry-after", "0"))
        .reply(Reply::json(200, json!({"id": "u"})));
    ops::uploads_progress::send(&client(&server, fast()), &progress())
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);

    let server = Scripted::start().await;
    server
        .reply(Reply::problem(404, "Not Found", "gone"))
        .reply(Reply::json(200, json!({"id": "u"})));
    let e = ops::uploads_progress::send(&client(&server, fast()), &progress())
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_stops_retrying() {
    let server = Scripted::start().await;
    server
        .reply(Reply::raw(503, "text/plain", "busy").header("retry-after", "3600"))
        .reply(Reply::json(200, json!({"id": "u"})));
    let policy = fast().with_max_elapsed(Duration::from_secs(5));
    let e = ops::uploads_progress::send(&client(&server, policy), &progress())
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(server.requests().len(), 1);
}

/// `Retry-After: 18446744073709551615` (`u64::MAX` seconds) once the call has run for over
/// a second: a delay past the deadline ends the call with the 503 at once, without a panic
/// adding it to the elapsed time, without a retry and without a wait.
#[tokio::test]
async fn a_retry_after_of_u64_max_seconds_returns_the_503_at_once() {
    let server = Scripted::start().await;
    server
        .reply(
            Reply::raw(503, "text/plain", "busy")
                .header("retry-after", u64::MAX.to_string())
                // A slow server: the call has run for over a second when the 503 arrives.
                .after(Duration::from_millis(1100)),
        )
        .reply(Reply::json(200, json!({"id": "u"})));
    let (client, input) = (client(&server, fast()), progress());
    let started = Instant::now();
    let call = ops::uploads_progress::send(&client, &input);
    let e = tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .expect("the call ends instead of waiting out the delay")
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(u64::MAX)));
    assert_eq!(server.requests().len(), 1, "not retried");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no wait after the 503: {:?}",
        started.elapsed()
    );
}

/// `Retry-After` as an HTTP-date: a date a few seconds ahead is a delay of about that much,
/// waited for when it fits the deadline and ending the call at once when it does not.
#[tokio::test]
async fn a_retry_after_date_is_honoured() {
    let in_secs = |secs| httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(secs));

    let server = Scripted::start().await;
    server
        .reply(Reply::raw(503, "text/plain", "busy").header("retry-after", in_secs(8)))
        .reply(Reply::json(200, json!({"id": "u"})));
    let policy = fast().with_max_elapsed(Duration::from_secs(4));
    let e = ops::uploads_progress::send(&client(&server, policy), &progress())
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    let delay = e.retry_after().expect("the date is read");
    assert!(
        delay > Duration::from_secs(6) && delay <= Duration::from_secs(8),
        "{delay:?}"
    );
    assert_eq!(server.requests().len(), 1, "the date is past the deadline");

    let server = Scripted::start().await;
    server
        .reply(Reply::raw(503, "text/plain", "busy").header("retry-after", in_secs(3)))
        .reply(Reply::json(200, json!({"id": "u"})));
    let started = Instant::now();
    ops::uploads_progress::send(&client(&server, fast()), &progress())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the date is waited for: {:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

/// A `Retry-After` date in the past means "retry now": no delay, not the backoff.
#[tokio::test]
async fn a_retry_after_date_in_the_past_is_no_delay() {
    let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
    let server = Scripted::start().await;
    server.reply(Reply::raw(503, "text/plain", "busy").header("retry-after", past.clone()));
    let e = ops::uploads_progress::send(&client(&server, RetryPolicy::disabled()), &progress())
        .await
        .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::ZERO));

    // With a backoff of up to 20 s, only the zero delay makes this prompt.
    let server = Scripted::start().await;
    server
        .reply(Reply::raw(503, "text/plain", "busy").header("retry-after", past))
        .reply(Reply::json(200, json!({"id": "u"})));
    let slow_backoff = fast().with_backoff(Duration::from_secs(20), Duration::from_secs(20));
    let started = Instant::now();
    ops::uploads_progress::send(&client(&server, slow_backoff), &progress())
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn disabled_policy_makes_one_attempt() {
    let server = Scripted::start().await;
    server
        .reply(Reply::raw(503, "text/plain", "busy"))
        .reply(Reply::json(200, json!({"id": "u"})));
    let e = ops::uploads_progress::send(&client(&server, RetryPolicy::disabled()), &progress())
        .await
        .unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_for_every_operation_then_reported() {
    let base = support::refused_base_url().await;
    let client = AuthenticatedClient::builder()
        .base_url(base)
        .token("t")
        .retry_policy(fast())
        .build()
        .unwrap();
    let e = ops::uploads_initiate::send(&client, &UploadInitiate::new("p"))
        .await
        .unwrap_err();
    assert!(e.is_connect(), "{e:?}");
}

#[tokio::test]
async fn a_retried_call_reports_the_final_attempt_and_sends_credentials_every_time() {
    let server = Scripted::start().await;
    server
        .reply(Reply::raw(503, "text/plain", "busy").header("x-request-id", "r-1"))
        .reply(Reply::json(200, json!({"id": "u"})).header("x-request-id", "r-2"));
    let response = ops::uploads_progress::send_detailed(&client(&server, fast()), &progress())
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.request_id(), Some("r-2"));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.header("authorization"), Some("Bearer t"));
        assert_eq!(r.header("api-version"), Some("2.1.0"));
    }

    // A last attempt whose success body is unreadable is a Decode error with the declared
    // success status (progenitor reads a success body itself, so its headers are not kept;
    // the request id is on the attempt's trace span).
    let server = Scripted::start().await;
    server
        .reply(Reply::raw(503, "text/plain", "busy").header("x-request-id", "r-1"))
        .reply(Reply::raw(200, "text/html", "<html>proxy</html>").header("x-request-id", "r-2"));
    let e = ops::uploads_progress::send(&client(&server, fast()), &progress())
        .await
        .unwrap_err();
    assert!(matches!(e, geopera::Error::Decode { .. }), "{e:?}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn invoke_retries_like_the_typed_call() {
    let server = Scripted::start().await;
    server
        .reply(Reply::raw(502, "text/html", "<h1>bad gateway</h1>"))
        .reply(Reply::json(200, json!({"id": "u"})).header("x-request-id", "r-2"));
    let geopera = geopera::Geopera::from(client(&server, fast()));
    let body = json!({"upload_id": "u", "status": "uploading", "bytes_uploaded": 1});
    let response = geopera
        .invoke_detailed("uploads.progress", body.clone())
        .await
        .unwrap();
    assert_eq!(response.body()["id"], "u");
    assert_eq!(response.request_id(), Some("r-2"));
    assert_eq!(server.requests().len(), 2);

    // invoke of uploads.initiate is the typed call: not idempotent, so a 503 is returned
    // as it is.
    let server = Scripted::start().await;
    server
        .reply(Reply::raw(503, "text/plain", "busy"))
        .reply(Reply::json(200, json!({"id": "u"})));
    let geopera = geopera::Geopera::from(client(&server, fast()));
    let e = geopera
        .invoke("uploads.initiate", json!({"project_id": "p"}))
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.requests().len(), 1);
}

/// A response says how many attempts the call took, through every layer: 1 for a
/// first-try success, 2 after one retried 503.
#[tokio::test]
async fn a_response_counts_the_attempts_it_took() {
    let ok = || Reply::json(200, json!({"id": "u"}));
    let busy = || Reply::raw(503, "text/plain", "busy");
    let server = Scripted::start().await;
    let api = client(&server, fast());
    let geopera = geopera::Geopera::from(api.clone());
    let body = json!({"upload_id": "u", "status": "uploading", "bytes_uploaded": 1});

    server.reply(ok());
    let first = ops::uploads_progress::send_detailed(&api, &progress()).await;
    assert_eq!(first.unwrap().attempts(), 1);
    server.reply(busy()).reply(ok());
    let second = ops::uploads_progress::send_detailed(&api, &progress()).await;
    assert_eq!(second.unwrap().attempts(), 2);

    server.reply(ok());
    let first = geopera.uploads().progress(progress()).detailed().await;
    assert_eq!(first.unwrap().attempts(), 1);
    server.reply(busy()).reply(ok());
    let second = geopera.uploads().progress(progress()).detailed().await;
    assert_eq!(second.unwrap().attempts(), 2);

    server.reply(ok());
    let first = geopera
        .invoke_detailed("uploads.progress", body.clone())
        .await;
    assert_eq!(first.unwrap().attempts(), 1);
    server.reply(busy()).reply(ok());
    let second = geopera.invoke_detailed("uploads.progress", body).await;
    assert_eq!(second.unwrap().attempts(), 2);
    assert_eq!(server.requests().len(), 9);
}

/// Issue #10's hazard: the first `uploads.complete` answer is lost after the server
/// completed, the SDK repeats the call, and a server that does not replay its first result
/// answers the repeat with no item ids. The response shows it took two attempts.
#[tokio::test]
async fn a_complete_whose_first_answer_was_lost_shows_the_repeat() {
    let (base_url, requests) =
        support::losing_first_answer(200, json!({"id": "u", "item_ids": []})).await;
    let api = AuthenticatedClient::builder()
        .base_url(base_url)
        .token("t")
        .retry_policy(fast())
        .build()
        .unwrap();
    let done = geopera::Geopera::from(api)
        .uploads()
        .complete("u")
        .detailed()
        .await
        .unwrap();
    assert_eq!(done.attempts(), 2, "the lost answer was retried");
    assert_eq!(done.body()["item_ids"], json!([]));
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 2);
}
