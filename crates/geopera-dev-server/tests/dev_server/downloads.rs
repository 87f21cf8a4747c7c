//! Download descriptors, egress metering on fetch, and clip jobs.

use crate::common::{Harness, pattern, send};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn is_rfc3339_utc(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && text.bytes().filter(u8::is_ascii_digit).count() == 14
}

#[tokio::test]
async fn asset_descriptor_is_metered_only_when_its_url_is_fetched() {
    let h = Harness::start().await;
    h.demo();
    let reply = send(
        h.post("items.asset.download")
            .bearer_auth(h.server.token())
            .header("user-agent", "sdk-test/1.0")
            .json(&json!({"item_id": "itm_demo", "asset_id": "visual"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let d = reply.json();
    assert_eq!(d["url"], d["href"]);
    assert_eq!(
        (d["item_id"].as_str(), d["asset_id"].as_str()),
        (Some("itm_demo"), Some("visual"))
    );
    assert_eq!(d["content_type"], "image/tiff");
    assert!(
        is_rfc3339_utc(d["expires_at"].as_str().unwrap_or_default()),
        "{}",
        d["expires_at"]
    );
    let size = d["size"].as_u64().expect("size");
    assert!(
        h.server.state().egress().is_empty(),
        "issuing a descriptor is not egress"
    );

    let fetched = h.get(d["url"].as_str().unwrap_or_default()).await;
    assert_eq!(fetched.headers()["content-type"], "image/tiff");
    let body = fetched.bytes().await.expect("body");
    assert_eq!(body.len() as u64, size);
    assert_eq!(&body[..4], b"II*\0", "the demo asset is a TIFF");

    let egress = h.server.state().egress();
    assert_eq!(egress.len(), 1);
    let record = &egress[0];
    assert_eq!(
        (record.operation.as_str(), record.object_path.as_str()),
        ("items.asset.download", "items/itm_demo/visual")
    );
    assert_eq!((record.bytes, record.complete), (size, true));
    assert_eq!(record.user_agent.as_deref(), Some("sdk-test/1.0"));
    assert_eq!(record.requester_ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn ranged_fetches_meter_the_bytes_sent_and_head_meters_nothing() {
    let h = Harness::start().await;
    h.demo();
    let d = h.asset_descriptor("itm_demo", "visual").await;
    let url = d["url"].as_str().unwrap_or_default();
    let head = h.http.head(url).send().await.expect("HEAD");
    assert_eq!(head.status(), 200);
    assert!(h.server.state().egress().is_empty());
    let part = h
        .http
        .get(url)
        .header("range", "bytes=0-99")
        .send()
        .await
        .expect("GET");
    assert_eq!(part.bytes().await.expect("body").len(), 100);
    let twice = h.get(url).await.bytes().await.expect("body");
    let egress = h.server.state().egress();
    assert_eq!(
        egress.iter().map(|e| e.bytes).collect::<Vec<_>>(),
        [100, twice.len() as u64]
    );
}

#[tokio::test]
async fn unknown_items_and_assets_are_404() {
    let h = Harness::start().await;
    h.demo();
    let item = h
        .op(
            "items.asset.download",
            json!({"item_id": "itm_nope", "asset_id": "visual"}),
        )
        .await;
    assert!(item.problem(404).contains("itm_nope"));
    let asset = h
        .op(
            "items.asset.download",
            json!({"item_id": "itm_demo", "asset_id": "nir"}),
        )
        .await;
    assert!(asset.problem(404).contains("available: visual"));
}

#[tokio::test]
async fn clip_jobs_list_and_resolve_their_mosaics() {
    let h = Harness::start().await;
    let visual = pattern(3000, 1);
    let ndvi = pattern(1200, 2);
    h.server
        .state()
        .add_clip_job(
            "clip_7f2a",
            &[
                ("visual", "clip_visual.tif", &visual, "image/tiff"),
                ("ndvi", "clip_ndvi.tif", &ndvi, "image/tiff"),
            ],
        )
        .expect("seeded");
    let listed = h
        .op("clip.job.downloads", json!({"job_id": "clip_7f2a"}))
        .await
        .json();
    assert_eq!(
        listed,
        json!({"job_id": "clip_7f2a", "downloads": [
            {"mosaic_type": "visual", "file_name": "clip_visual.tif", "size": 3000, "content_type": "image/tiff"},
            {"mosaic_type": "ndvi", "file_name": "clip_ndvi.tif", "size": 1200, "content_type": "image/tiff"}]})
    );

    let one = h
        .op(
            "clip.job.download",
            json!({"job_id": "clip_7f2a", "mosaic_type": "ndvi", "user_agent": "pipeline/2", "requester_ip": "203.0.113.9"}),
        )
        .await
        .json();
    assert_eq!(
        (one["size"].as_u64(), one["file_name"].as_str()),
        (Some(1200), Some("clip_ndvi.tif"))
    );
    assert_eq!(one["url"], one["href"]);
    assert!(h.server.state().egress().is_empty());
    let body = h
        .get(one["url"].as_str().unwrap_or_default())
        .await
        .bytes()
        .await
        .expect("body");
    assert_eq!(body.to_vec(), ndvi);
    let egress = h.server.state().egress();
    assert_eq!(egress.len(), 1);
    assert_eq!(egress[0].operation, "clip.job.download");
    assert_eq!(egress[0].object_path, "clips/clip_7f2a/clip_ndvi.tif");
    assert_eq!(egress[0].user_agent.as_deref(), Some("pipeline/2"));
    assert_eq!(egress[0].requester_ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(egress[0].bytes, 1200);
}

#[tokio::test]
async fn clip_attribution_defaults_to_the_caller() {
    let h = Harness::start().await;
    h.demo();
    let one = h
        .op(
            "clip.job.download",
            json!({"job_id": "clip_demo", "mosaic_type": "visual"}),
        )
        .await
        .json();
    h.get(one["url"].as_str().unwrap_or_default())
        .await
        .bytes()
        .await
        .expect("body");
    let egress = h.server.state().egress();
    assert_eq!(egress[0].requester_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        egress[0].user_agent, None,
        "reqwest sends no User-Agent by default"
    );
}

#[tokio::test]
async fn unknown_clip_jobs_and_mosaics_are_404() {
    let h = Harness::start().await;
    h.demo();
    h.op("clip.job.downloads", json!({"job_id": "clip_nope"}))
        .await
        .problem(404);
    h.op(
        "clip.job.download",
        json!({"job_id": "clip_nope", "mosaic_type": "visual"}),
    )
    .await
    .problem(404);
    let mosaic = h
        .op(
            "clip.job.download",
            json!({"job_id": "clip_demo", "mosaic_type": "ndvi"}),
        )
        .await;
    assert!(mosaic.problem(404).contains("available: visual"));
}

#[tokio::test]
async fn seeded_items_are_downloadable_and_listed() {
    let h = Harness::start().await;
    h.server
        .state()
        .add_item("itm_x", "prj_x", "data", b"seeded bytes", "text/plain")
        .expect("seeded");
    let items = h.server.state().items();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].id.as_str(), items[0].project_id.as_str()),
        ("itm_x", "prj_x")
    );
    let d = h.asset_descriptor("itm_x", "data").await;
    assert_eq!(d["content_type"], "text/plain");
    assert_eq!(
        h.get(d["url"].as_str().unwrap_or_default())
            .await
            .text()
            .await
            .expect("text"),
        "seeded bytes"
    );
    // add_item created the project too.
    let reply = h
        .op("uploads.initiate", json!({"project_id": "prj_x"}))
        .await;
    assert_eq!(reply.status, 200);
}

/// A client that goes away in the middle of a large download is metered for what was read
/// for it, as incomplete. The client reads through a small receive buffer, so the object
/// cannot all fit into the socket buffers before it leaves.
#[tokio::test]
async fn abandoned_downloads_are_metered_as_incomplete() {
    let h = Harness::start().await;
    let len = 16 << 20;
    h.server
        .state()
        .add_item(
            "itm_gone",
            "prj_gone",
            "data",
            &pattern(len, 5),
            "image/tiff",
        )
        .expect("item");
    let url = h.asset_descriptor("itm_gone", "data").await["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let path_and_query = url
        .strip_prefix(h.server.base_url())
        .expect("a URL on the dev server");
    let addr = h
        .server
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .expect("host:port");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(16 * 1024).expect("SO_RCVBUF");
    let mut stream = socket.connect(addr).await.expect("connect");
    // The URL signs its host.
    let request = format!("GET {path_and_query} HTTP/1.1\r\nhost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut received = vec![0u8; 256 * 1024];
    stream
        .read_exact(&mut received)
        .await
        .expect("the start of the body");
    assert!(received.starts_with(b"HTTP/1.1 200"));
    drop(stream); // unread data: the kernel resets the connection

    let egress = tokio::time::timeout(Duration::from_secs(30), h.server.state().wait_for_egress(1))
        .await
        .expect("the server noticed the client left");
    let record = &egress[0];
    assert!(!record.complete, "{record:?}");
    assert!(
        record.bytes >= 200 * 1024 && record.bytes < len as u64,
        "{} of {len} bytes",
        record.bytes
    );
}
