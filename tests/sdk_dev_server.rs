//! The dev server's rules as an SDK user meets them: auth and scopes, FastAPI-shaped 422s,
//! quota and its accounting, the session lifecycle, signed-URL storage, download
//! descriptors with egress metered on fetch, and clip-job attribution — every call through
//! `geopera`, every outcome checked as a typed result or `geopera::Error`.

use geopera::models::{
    AssetDownloadInput, ClipDownloadInput, ClipJobInput, UploadFailInput, UploadInitiate,
};
use geopera::{Error, Geopera};
use geopera_dev_server::{DevConfig, DevServer, SessionStatus};
use serde_json::json;

const PROJECT: &str = "prj_sdk";

async fn start(config: DevConfig) -> (DevServer, Geopera) {
    let server = DevServer::start_with(config).await.expect("dev server");
    server.state().add_project(PROJECT);
    let client = server.client_builder().build().expect("client");
    (server, client)
}

fn status(e: &Error) -> Option<u16> {
    e.status().map(|s| s.as_u16())
}

#[tokio::test]
async fn auth_and_scopes_are_problems() {
    let (server, _) = start(DevConfig::default().with_token("reader-token", ["items:read"])).await;
    let stranger = Geopera::builder()
        .base_url(server.base_url())
        .token("who-are-you")
        .build()
        .unwrap();
    let e = stranger
        .uploads()
        .initiate(UploadInitiate::new(PROJECT))
        .await
        .unwrap_err();
    assert_eq!(status(&e), Some(401));
    assert!(e.problem().is_some(), "{e:?}");

    let reader = Geopera::builder()
        .base_url(server.base_url())
        .token("reader-token")
        .build()
        .unwrap();
    let e = reader
        .uploads()
        .initiate(UploadInitiate::new(PROJECT))
        .await
        .unwrap_err();
    assert_eq!(status(&e), Some(403), "items:read cannot upload");
    let demo = server.state().seed_demo().unwrap();
    reader
        .items()
        .asset()
        .download(AssetDownloadInput::new(&demo.item_id, &demo.asset_key))
        .await
        .expect("items:read may download");

    let by_key = Geopera::builder()
        .base_url(server.base_url())
        .api_key("reader-token")
        .build()
        .unwrap();
    by_key
        .items()
        .asset()
        .download(AssetDownloadInput::new(&demo.item_id, &demo.asset_key))
        .await
        .expect("x-api-key works too");
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let (_server, client) = start(DevConfig::default()).await;
    // A body the input model refuses fails before sending, naming the field: through
    // invoke as through the typed call.
    for (body, field) in [
        (
            json!({"project_id": PROJECT, "file_count": 0}),
            "file_count",
        ),
        (
            json!({"project_id": PROJECT, "transfer_method": "fax"}),
            "transfer_method",
        ),
        (json!({}), "project_id"),
    ] {
        let e = client.invoke("uploads.initiate", body).await.unwrap_err();
        let geopera::Error::InvalidInput { field: Some(f), .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(f, field, "{e}");
    }
    // A body only the server refuses is a 422 whose details name the field.
    let session = client
        .uploads()
        .initiate(UploadInitiate::for_files(PROJECT, [1]))
        .await
        .unwrap();
    let e = client
        .uploads()
        .signed_url(json!({"upload_id": session.id, "file_name": "../escape.tif"}))
        .await
        .unwrap_err();
    let v = e.validation().expect("a 422");
    let fields: Vec<String> = v.detail.iter().map(|d| format!("{:?}", d.loc)).collect();
    assert!(fields.iter().any(|f| f.contains("file_name")), "{fields:?}");
    assert!(e.to_string().contains("body.file_name"), "{e}");
}

#[tokio::test]
async fn quota_is_reserved_released_and_used_exactly() {
    let (server, client) = start(DevConfig::default().quota_bytes(1000)).await;
    let a = client
        .uploads()
        .initiate(UploadInitiate::for_files(PROJECT, [600]))
        .await
        .unwrap();
    let e = client
        .uploads()
        .initiate(UploadInitiate::for_files(PROJECT, [600]))
        .await
        .unwrap_err();
    assert_eq!(status(&e), Some(402));
    assert!(
        e.to_string()
            .starts_with("uploads.initiate: 402 Payment Required — "),
        "{e}"
    );
    client
        .uploads()
        .fail(UploadFailInput::new(&a.id, "changed my mind").step("initiate"))
        .await
        .unwrap();
    assert_eq!(server.state().reserved_bytes(), 0);
    let b = client
        .uploads()
        .session(UploadInitiate::for_files(PROJECT, [600]))
        .await
        .expect("room again");
    let signed = b.sign("x.tif", "image/tiff").await.unwrap();
    client
        .client
        .http_client()
        .put(signed.upload_url.expose())
        .header("content-type", "image/tiff")
        .body(vec![7u8; 600])
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    b.complete().await.unwrap();
    assert_eq!(
        (server.state().reserved_bytes(), server.state().used_bytes()),
        (0, 600)
    );
}

#[tokio::test]
async fn unknown_project_and_session_are_404s_and_a_repeated_complete_replays() {
    let (server, client) = start(DevConfig::default()).await;
    let e = client
        .uploads()
        .initiate(UploadInitiate::new("prj_nope"))
        .await
        .unwrap_err();
    assert_eq!(status(&e), Some(404));
    let e = client
        .uploads()
        .signed_url(json!({"upload_id": "upl_nope", "file_name": "a.tif"}))
        .await
        .unwrap_err();
    assert_eq!(status(&e), Some(404));

    let s = client
        .uploads()
        .initiate(UploadInitiate::for_files(PROJECT, [3]))
        .await
        .unwrap();
    let signed = client
        .uploads()
        .signed_url(json!({"upload_id": s.id, "file_name": "a.tif", "content_type": "image/tiff"}))
        .await
        .unwrap();
    client
        .client
        .http_client()
        .put(signed.upload_url.expose())
        .header("content-type", "image/tiff")
        .body("abc")
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let first = client.uploads().complete(s.id.as_str()).await.unwrap();
    let again = client.uploads().complete(s.id.as_str()).await.unwrap();
    assert_eq!(first["item_ids"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        again, first,
        "a repeated completion replays the first answer (a retry must not lose the items)"
    );
    assert_eq!(
        server.state().session(&s.id).unwrap().status,
        SessionStatus::Completed
    );
}

#[tokio::test]
async fn signed_urls_are_bound_to_method_and_content_type() {
    let (_server, client) = start(DevConfig::default()).await;
    let s = client
        .uploads()
        .session(UploadInitiate::for_files(PROJECT, [3]))
        .await
        .unwrap();
    let signed = s.sign("a.tif", "image/tiff").await.unwrap();
    let http = client.client.http_client();
    let wrong_type = http
        .put(signed.upload_url.expose())
        .header("content-type", "text/plain")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 403);
    let wrong_method = http.get(signed.upload_url.expose()).send().await.unwrap();
    assert_eq!(wrong_method.status(), 403);
    let mut tampered = signed.upload_url.expose().to_owned();
    tampered.push('0');
    assert_eq!(
        http.put(tampered)
            .header("content-type", "image/tiff")
            .body("abc")
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    s.fail("test over", "transfer").await.unwrap();
}

#[tokio::test]
async fn egress_is_metered_when_the_url_is_fetched_not_when_issued() {
    let (server, client) = start(DevConfig::default()).await;
    let demo = server.state().seed_demo().unwrap();
    let d = client
        .items()
        .asset()
        .download(AssetDownloadInput::new(&demo.item_id, &demo.asset_key))
        .await
        .unwrap();
    assert!(
        server.state().egress().is_empty(),
        "issuing a descriptor is free"
    );
    let size = d
        .field("size")
        .and_then(|s| s.as_u64())
        .expect("descriptor has a size");
    let bytes = client
        .client
        .http_client()
        .get(d.url().unwrap().expose())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.len() as u64, size);
    let egress = server.state().egress();
    assert_eq!(egress.iter().map(|e| e.bytes).sum::<u64>(), size);
    assert_eq!(egress[0].operation, "items.asset.download");

    let list = client
        .clip()
        .job()
        .downloads(ClipJobInput::new(&demo.clip_job_id))
        .await
        .unwrap();
    assert_eq!(
        list.field("downloads").unwrap()[0]["mosaic_type"],
        demo.mosaic_type.as_str()
    );
    let one = client
        .clip()
        .job()
        .download(
            ClipDownloadInput::new(&demo.clip_job_id, &demo.mosaic_type)
                .attribute("reporting-tool/3", "192.0.2.7"),
        )
        .await
        .unwrap();
    client
        .client
        .http_client()
        .get(one.url().unwrap().expose())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let clip = server
        .state()
        .egress()
        .into_iter()
        .find(|e| e.operation == "clip.job.download")
        .expect("clip egress");
    assert_eq!(
        (clip.user_agent.as_deref(), clip.requester_ip.as_deref()),
        (Some("reporting-tool/3"), Some("192.0.2.7"))
    );
    let e = client
        .clip()
        .job()
        .download(ClipDownloadInput::new(&demo.clip_job_id, "infrared"))
        .await
        .unwrap_err();
    assert_eq!(status(&e), Some(404));
}
