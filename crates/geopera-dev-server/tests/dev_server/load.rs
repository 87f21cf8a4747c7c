//! Many concurrent upload sessions end to end: 200 sessions of 2 MiB each, every byte
//! verified by SHA-256 on download, quota accounting exact at the end. The peak memory of
//! the whole test process (server and clients) is printed; the server's own peak, as a
//! separate process, is measured by `benches/run.sh` (see BENCHMARKS.md).

use crate::common::{Harness, pattern};
use geopera_dev_server::{DevConfig, SessionStatus};
use serde_json::json;
use sha2::{Digest, Sha256};

const SESSIONS: usize = 200;
const FILE_BYTES: usize = 2 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_sessions_round_trip_every_byte() {
    let quota = (SESSIONS * FILE_BYTES) as u64;
    let h = Harness::with(DevConfig::default().quota_bytes(quota)).await;
    h.demo();
    let h = &h;
    let runs = (0..SESSIONS).map(|i| async move {
        let bytes = pattern(FILE_BYTES, i as u8);
        let (upload_id, items) = h.upload(&format!("tile_{i}.tif"), &bytes).await;
        let item_id = items.first().expect("an item per session");
        let descriptor = h.asset_descriptor(item_id, &format!("tile_{i}")).await;
        let body = h
            .get(descriptor["url"].as_str().unwrap_or_default())
            .await
            .bytes()
            .await
            .expect("body");
        assert_eq!(Sha256::digest(&body), Sha256::digest(&bytes), "session {i}");
        upload_id
    });
    let ids = futures_util::future::join_all(runs).await;

    let state = h.server.state();
    assert_eq!(state.used_bytes(), quota);
    assert_eq!(state.reserved_bytes(), 0);
    assert_eq!(ids.len(), SESSIONS);
    assert!(
        state
            .sessions()
            .iter()
            .all(|s| s.status == SessionStatus::Completed)
    );
    assert_eq!(state.egress().iter().map(|e| e.bytes).sum::<u64>(), quota);
    // The quota is now exactly full.
    let reply = h
        .op(
            "uploads.initiate",
            json!({"project_id": "prj_demo", "total_bytes": 1}),
        )
        .await;
    reply.problem(402);
    if let Some(peak) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
    {
        eprintln!(
            "load: {SESSIONS} sessions x {FILE_BYTES} bytes; peak RSS of the test process (server + clients holding every file): {peak}"
        );
    }
}
