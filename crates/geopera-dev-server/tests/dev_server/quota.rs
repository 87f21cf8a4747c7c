//! Quota: reservation at initiate, release at fail, used storage at complete, 402 when full,
//! and no over-reservation under concurrency.

use crate::common::{Harness, pattern};
use geopera_dev_server::DevConfig;
use serde_json::json;

#[tokio::test]
async fn initiate_beyond_the_quota_is_a_402_problem_with_numbers() {
    let h = Harness::with(DevConfig::default().quota_bytes(1000)).await;
    h.demo();
    let reply = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "total_bytes": 5000}),
        )
        .await;
    let detail = reply.problem(402);
    assert!(
        detail.contains("Storage quota exceeded: requested 5000 bytes, 1000 available"),
        "{detail}"
    );
    assert_eq!(reply.json()["title"], "Payment Required");
    assert_eq!(h.server.state().reserved_bytes(), 0);
    assert!(h.server.state().sessions().is_empty());
}

#[tokio::test]
async fn reservations_count_against_the_quota_until_released() {
    let h = Harness::with(DevConfig::default().quota_bytes(1000)).await;
    h.demo();
    let first = h.initiate(1, 600).await;
    assert_eq!(h.server.state().reserved_bytes(), 600);
    let second = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "total_bytes": 401}),
        )
        .await;
    assert!(
        second
            .problem(402)
            .contains("requested 401 bytes, 400 available")
    );
    let exact = h.initiate(1, 400).await;
    assert_eq!(h.server.state().reserved_bytes(), 1000);

    let failed = h
        .op(
            "uploads.fail",
            json!({"upload_id": first, "error_message": "gave up"}),
        )
        .await;
    assert_eq!(failed.status, 200);
    assert_eq!(h.server.state().reserved_bytes(), 400);
    assert_eq!(
        h.server
            .state()
            .session(&first)
            .expect("session")
            .reserved_bytes,
        0
    );
    h.initiate(1, 600).await;
    assert_eq!(h.server.state().reserved_bytes(), 1000);
    let _ = exact;
}

#[tokio::test]
async fn complete_turns_the_reservation_into_actual_used_bytes() {
    let h = Harness::with(DevConfig::default().quota_bytes(10_000)).await;
    h.demo();
    let upload_id = h.initiate(1, 4000).await;
    let (url, _) = h.sign(&upload_id, "a.tif", "image/tiff").await;
    assert_eq!(
        h.put(&url, "image/tiff", pattern(2500, 1)).await.status,
        200
    );
    assert_eq!(
        h.server.state().used_bytes(),
        0,
        "a PUT alone does not use quota"
    );
    let done = h
        .op("uploads.complete", json!({"upload_id": upload_id}))
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    let state = h.server.state();
    assert_eq!((state.reserved_bytes(), state.used_bytes()), (0, 2500));
    // Used storage keeps counting against the quota.
    let reply = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "total_bytes": 7501}),
        )
        .await;
    assert!(reply.problem(402).contains("7500 available"));
    // A repeated complete does not count the bytes twice.
    h.op("uploads.complete", json!({"upload_id": upload_id}))
        .await;
    assert_eq!(state.used_bytes(), 2500);
}

#[tokio::test]
async fn fifty_concurrent_initiates_never_over_reserve() {
    let h = Harness::with(DevConfig::default().quota_bytes(1000)).await;
    h.demo();
    let calls = (0..50).map(|_| {
        h.op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "total_bytes": 100}),
        )
    });
    let replies = futures_util::future::join_all(calls).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let refused = replies.iter().filter(|r| r.status == 402).count();
    assert_eq!((ok, refused), (10, 40));
    assert_eq!(h.server.state().reserved_bytes(), 1000);
    assert_eq!(h.server.state().sessions().len(), 10);
}

#[tokio::test]
async fn seeded_objects_do_not_use_quota() {
    let h = Harness::start().await;
    h.demo();
    assert_eq!(h.server.state().used_bytes(), 0);
    assert_eq!(h.server.state().quota_bytes(), 10 << 30);
}
