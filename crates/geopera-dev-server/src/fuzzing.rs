//! Entry points for cargo-fuzz; not a public API.
//!
//! Compiled only under `--cfg fuzzing` (cargo fuzz passes it to every crate it builds, so
//! the SDK's `geopera::fuzzing` is there too). Each function runs the dev server's real
//! code on arbitrary input and panics when an invariant breaks, so that the fuzzer reports
//! the input. The targets in `fuzz/` call them (see `.ci/fuzz`); nothing else should, and
//! nothing here is covered by semver. The SDK's own targets (response decoding,
//! redaction) live in the SDK's `fuzzing` module.

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::extract::OpContext;
use crate::operations::ROUTES;
use crate::range::{ByteRange, parse_range};
use crate::signing::{Denied, Grant, Presented, SignedMethod, verify};
use crate::url::{decode_path, encode_component, encode_path, parse_query};
use crate::validate::parse_body;
use crate::{DevConfig, DevState, SessionStatus};
use geopera::Error;
use geopera::fuzzing::{check_error, decode, ready};

// ----- dev server: request bodies -----

/// The content types `op_index / 8` picks: none, JSON, a `+json` type, and not JSON.
const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("application/json"),
    Some("application/geo+json; charset=utf-8"),
    Some("text/plain"),
];

/// Runs one operation request of the dev server on `body`: `op_index % 8` picks the
/// operation, `op_index / 8 % 4` the request's content type. The body is parsed as the
/// operation route parses it and handed to the operation's handler against fresh state
/// holding project `prj_fuzz`; `itm_fuzz` (asset `visual`) and `clip_fuzz` (mosaic
/// `visual`) exist when the body names them, and these two-byte names stand for upload
/// sessions made on demand: `@O` open with `a.tif` stored, `@M` open with `a.tif` signed
/// but never stored, `@T` open on `itm_fuzz` with `a.tif` stored, `@V` open with more
/// stored than reserved, `@D` completed, `@F` failed.
///
/// Panics when: anything panics; the answer is a 5xx; the SDK cannot decode the answer as
/// the operation's output (200) or as a Problem / validation error (4xx); the quota
/// bookkeeping no longer adds up.
pub fn dev_validate(op_index: u8, body: &[u8]) {
    let op = &ROUTES[usize::from(op_index) % ROUTES.len()];
    let content_type = CONTENT_TYPES[usize::from(op_index / 8 % 4)];
    let mut world = World::new(body);
    let body = world.expand(body);
    let state = &world.state;

    let result = parse_body(content_type, &body)
        .map_err(ApiError::from)
        .and_then(|parsed| (op.run)(state, &world.ctx, parsed));
    let (status, headers, bytes) = match result {
        Ok(value) => (
            StatusCode::OK,
            HeaderMap::new(),
            serde_json::to_vec(&value).expect("a JSON value serializes"),
        ),
        Err(error) => {
            let response = error.into_response();
            let (parts, body) = response.into_parts();
            let bytes = ready(axum::body::to_bytes(body, usize::MAX)).expect("an in-memory body");
            (parts.status, parts.headers, bytes.to_vec())
        }
    };
    assert!(
        !status.is_server_error(),
        "{}: {status}: {}",
        op.id(),
        String::from_utf8_lossy(&bytes)
    );
    let decoded = decode(op.id(), status, &headers, &bytes)
        .expect("the dev server serves operations of the table");
    match decoded {
        Ok(_) => assert_eq!(status, StatusCode::OK),
        Err(error) => {
            assert!(
                matches!(error, Error::Problem { .. } | Error::Validation { .. }),
                "{}: the SDK cannot read the dev server's {status}: {error:?}: {}",
                op.id(),
                String::from_utf8_lossy(&bytes)
            );
            check_error(&error, op.id(), status);
        }
    }

    let sessions = state.sessions();
    let reserved: u64 = sessions.iter().map(|s| s.reserved_bytes).sum();
    assert_eq!(state.reserved_bytes(), reserved, "reservations drifted");
    assert!(
        state.used_bytes().saturating_add(reserved) <= state.quota_bytes(),
        "quota overcommitted"
    );
    for session in &sessions {
        if session.status.is_finished() {
            assert_eq!(session.reserved_bytes, 0, "a finished session keeps quota");
        }
    }
}

/// Fresh dev server state with the fixtures one request body names.
struct World {
    state: DevState,
    ctx: OpContext,
    sessions: Vec<(&'static [u8], String)>,
}

impl World {
    const PROJECT: &'static str = "prj_fuzz";
    const ITEM: &'static str = "itm_fuzz";
    const CLIP: &'static str = "clip_fuzz";

    fn new(body: &[u8]) -> World {
        let state =
            DevState::new(DevConfig::default().quota_bytes(1 << 20)).expect("a temp data dir");
        state.add_project(World::PROJECT);
        let names = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
        if names(World::ITEM.as_bytes()) || names(b"@T") {
            state
                .add_item(
                    World::ITEM,
                    World::PROJECT,
                    "visual",
                    b"II*\0",
                    "image/tiff",
                )
                .expect("seeding an item");
        }
        if names(World::CLIP.as_bytes()) {
            state
                .add_clip_job(World::CLIP, &[("visual", "v.tif", b"II*\0", "image/tiff")])
                .expect("seeding a clip job");
        }
        let ctx = OpContext {
            base_url: "http://127.0.0.1:8787".into(),
            user_agent: Some("geopera-fuzz".into()),
            peer_ip: None,
        };
        let mut world = World {
            state,
            ctx,
            sessions: Vec::new(),
        };
        for name in [b"@O", b"@M", b"@T", b"@V", b"@D", b"@F"] {
            if names(name) {
                let id = world.session(name);
                world.sessions.push((name.as_slice(), id));
            }
        }
        world
    }

    /// Runs a fixture request through the handler, which must accept it.
    fn run(&self, operation: &str, body: Value) -> Value {
        let op = ROUTES
            .iter()
            .find(|route| route.id() == operation)
            .expect("a dev server operation");
        (op.run)(&self.state, &self.ctx, Some(body))
            .unwrap_or_else(|e| panic!("fixture {operation} refused: {e:?}"))
    }

    fn session(&self, name: &[u8]) -> String {
        let mut initiate =
            json!({"project_id": World::PROJECT, "file_count": 2, "total_bytes": 64});
        match name {
            b"@T" => {
                initiate["target_item_id"] = json!(World::ITEM);
                initiate["asset_key"] = json!("extra");
            }
            b"@V" => initiate["total_bytes"] = json!(1),
            _ => {}
        }
        let id = self.run("uploads.initiate", initiate)["id"]
            .as_str()
            .expect("an upload id")
            .to_owned();
        self.run(
            "uploads.signed_url",
            json!({"upload_id": id, "file_name": "a.tif", "content_type": "image/tiff"}),
        );
        if name != b"@M" {
            self.state
                .put_object_bytes(&format!("uploads/{id}/a.tif"), b"abcd", "image/tiff")
                .expect("storing a fixture object");
        }
        match name {
            b"@D" => drop(self.run("uploads.complete", json!({"upload_id": id}))),
            b"@F" => drop(self.run(
                "uploads.fail",
                json!({"upload_id": id, "error_message": "fixture"}),
            )),
            _ => {}
        }
        let status = self.state.session(&id).map(|s| s.status);
        assert!(status.is_some_and(|s| (s == SessionStatus::Completed) == (name == b"@D")));
        id
    }

    /// `body` with every session name replaced by its upload id.
    fn expand(&mut self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len());
        let mut rest = body;
        while !rest.is_empty() {
            match self
                .sessions
                .iter()
                .find(|(name, _)| rest.starts_with(name))
            {
                Some((name, id)) => {
                    out.extend_from_slice(id.as_bytes());
                    rest = &rest[name.len()..];
                }
                None => {
                    out.push(rest[0]);
                    rest = &rest[1..];
                }
            }
        }
        out
    }
}

// ----- dev server: signed URLs -----

const KEY: &[u8] = b"geopera-fuzz-signing-key";
const HOST: &str = "127.0.0.1:8787";
const PUT_PATH: &str = "uploads/upl_fuzz/a b.tif";
const GET_PATH: &str = "items/itm_fuzz/visual";
const SIGNED_AT: u64 = 1_700_000_000;
const EXPIRES_IN: u64 = 600;

/// The two grants [`dev_verify`] signs.
fn signed_grants() -> [Grant; 2] {
    [
        Grant {
            method: SignedMethod::Put,
            object_path: PUT_PATH.into(),
            host: HOST.into(),
            content_type: Some("image/tiff".into()),
            signed_at: SIGNED_AT,
            expires_in: EXPIRES_IN,
            grant_id: "up_fuzz".into(),
        },
        Grant {
            method: SignedMethod::Get,
            object_path: GET_PATH.into(),
            host: HOST.into(),
            content_type: None,
            signed_at: SIGNED_AT,
            expires_in: EXPIRES_IN,
            grant_id: "dl_fuzz".into(),
        },
    ]
}

/// `content_type` as signatures compare it.
fn same_type(a: Option<&str>, b: Option<&str>) -> bool {
    let canonical = |t: Option<&str>| {
        t.map(|t| {
            t.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase()
        })
    };
    canonical(a) == canonical(b)
}

/// Checks a storage request's query string for `path` at time `now` as the storage routes
/// do, for PUT (with `content_type`) and GET, against a fixed key that signed one PUT URL
/// and one GET URL (GCS V4 format, host `127.0.0.1:8787`). In `query`, `{put}` and `{get}`
/// stand for those URLs' query strings and `{putsig}` / `{getsig}` for their signatures;
/// in `path`, `{put}` and `{get}` for their object paths, so the fuzzer can start from
/// real URLs and tamper with them.
///
/// Panics when: anything panics; a grant is accepted that was not signed exactly so, or
/// for another method, path or content type, or past its expiry; a grant signed for the
/// fuzzer's own path and content type does not verify until, and only until, it expires;
/// a query pair does not survive encoding; the storage routes accept an object path that
/// could leave its folder.
pub fn dev_verify(query: &str, path: &str, content_type: Option<&str>, now: u64) {
    let grants = signed_grants();
    let query = query
        .replace("{putsig}", &grants[0].signature(KEY))
        .replace("{getsig}", &grants[1].signature(KEY))
        .replace("{put}", &grants[0].to_query(KEY))
        .replace("{get}", &grants[1].to_query(KEY));
    let path = path.replace("{put}", PUT_PATH).replace("{get}", GET_PATH);

    for method in [SignedMethod::Put, SignedMethod::Get] {
        let presented = Presented {
            method,
            object_path: &path,
            query: Some(&query),
            host: HOST,
            content_type,
        };
        if let Ok(grant) = verify(KEY, presented, now) {
            assert!(
                grants.iter().any(|signed| {
                    signed.method == grant.method
                        && signed.object_path == grant.object_path
                        && signed.host == grant.host
                        && signed.signed_at == grant.signed_at
                        && signed.expires_in == grant.expires_in
                        && signed.grant_id == grant.grant_id
                        && same_type(
                            signed.content_type.as_deref(),
                            grant.content_type.as_deref(),
                        )
                }),
                "accepted an unsigned grant {grant:?}"
            );
            assert_eq!(grant.method, method);
            assert_eq!(grant.object_path, path);
            assert!(now < grant.expires(), "accepted after expiry");
        }
    }

    if now < crate::clock::LAST_SECOND {
        let own = Grant {
            method: SignedMethod::Put,
            object_path: path.clone(),
            host: HOST.into(),
            content_type: Some(
                content_type
                    .unwrap_or("application/octet-stream")
                    .trim()
                    .to_owned(),
            ),
            signed_at: now,
            expires_in: 1,
            grant_id: "up_own".into(),
        };
        let signed = own.to_query(KEY);
        let presented = Presented {
            method: SignedMethod::Put,
            object_path: &path,
            query: Some(&signed),
            host: HOST,
            content_type: own.content_type.as_deref(),
        };
        assert_eq!(verify(KEY, presented, now), Ok(own.clone()));
        assert_eq!(
            verify(KEY, presented, own.expires()),
            Err(Denied::Expired {
                expires: own.expires()
            })
        );
    }

    for (key, value) in parse_query(&query) {
        let encoded = format!("{}={}", encode_component(&key), encode_component(&value));
        assert_eq!(parse_query(&encoded), [(key, value)]);
    }

    if let Ok(uri) = format!("/storage/{path}").parse::<axum::http::Uri>()
        && let Ok(object) = crate::storage::object_path(&uri)
    {
        assert!(
            !object.starts_with('/')
                && !object.contains('\\')
                && !object.chars().any(char::is_control)
                && object.split('/').all(|s| !matches!(s, "" | "." | "..")),
            "storage accepts {object:?}"
        );
        assert_eq!(
            decode_path(&encode_path(&object)).as_deref(),
            Some(&*object)
        );
    }
}

// ----- dev server: byte ranges -----

/// Parses a `Range` header for an object of `len` bytes; a range served lies inside it.
pub fn dev_range(header: &str, len: u64) {
    match parse_range(Some(header), len) {
        ByteRange::Partial { start, end } => {
            assert!(
                start <= end && end < len,
                "{header:?} on {len} bytes: {start}-{end}"
            );
        }
        ByteRange::Full | ByteRange::Unsatisfiable => {}
    }
    assert_eq!(
        parse_range(Some(header), len),
        parse_range(Some(header.trim()), len)
    );
}
