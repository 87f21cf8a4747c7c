//! `POST /v1/op/{operation_id}`: one axum route per operation, each a small handler from the
//! SDK's input model to the SDK's output model, behind three layers:
//!
//! 1. `op_layers::read_body`: reads the body (size- and stall-limited) before anything
//!    answers, so even an early 401 keeps the connection, and finds the operation;
//! 2. `op_layers::inject_faults`: the injected faults of the operation, then counts the call;
//! 3. `auth::require_token`: the credentials and the scope the SDK's operation table names.
//!
//! Then the handler's extractors parse and validate the body as FastAPI would
//! ([`Valid`](super::extract::Valid)) and gather the request's context
//! ([`OpContext`](super::extract::OpContext)). Request logging is a layer around the whole
//! router (`log.rs`).
//!
//! What an operation *is* (id, path, scope, idempotency, declared statuses) comes from the
//! SDK's operation table, [`geopera::ops::OPERATIONS`], through its marker types: this file
//! only pairs each operation with the dev server's handler for it ([`Served`]).

use super::auth;
use super::downloads;
use super::error::ApiError;
use super::extract::{OpContext, Valid};
use super::inputs::{CompleteInput, FromBody};
use super::op_layers::{self, ResolvedOp};
use super::state::DevState;
use super::uploads;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{MethodRouter, post};
use axum::{Router, middleware};
use geopera::{Operation, OperationSpec, ops};
#[cfg(any(fuzzing, test))]
use serde_json::Value;
use tower_service::Service;

/// A handler: the validated request body in, the SDK's output model out.
pub(crate) type Handler<O> =
    fn(&DevState, &OpContext, <O as Served>::Request) -> Result<<O as Operation>::Output, ApiError>;

/// An operation of the SDK's table that the dev server serves.
pub(crate) trait Served: Operation {
    /// The body the handler takes: the SDK's input model (`uploads.complete` excepted, see
    /// [`CompleteInput`]).
    type Request: FromBody;
    /// The handler.
    const HANDLER: Handler<Self>;
}

impl Served for ops::UploadsInitiate {
    type Request = <Self as Operation>::Input;
    const HANDLER: Handler<Self> = uploads::initiate;
}

impl Served for ops::UploadsSignedUrl {
    type Request = <Self as Operation>::Input;
    const HANDLER: Handler<Self> = uploads::signed_url;
}

impl Served for ops::UploadsProgress {
    type Request = <Self as Operation>::Input;
    const HANDLER: Handler<Self> = uploads::progress;
}

impl Served for ops::UploadsComplete {
    type Request = CompleteInput;
    const HANDLER: Handler<Self> = uploads::complete;
}

impl Served for ops::UploadsFail {
    type Request = <Self as Operation>::Input;
    const HANDLER: Handler<Self> = uploads::fail;
}

impl Served for ops::ItemsAssetDownload {
    type Request = <Self as Operation>::Input;
    const HANDLER: Handler<Self> = downloads::asset_download;
}

impl Served for ops::ClipJobDownload {
    type Request = <Self as Operation>::Input;
    const HANDLER: Handler<Self> = downloads::clip_download;
}

impl Served for ops::ClipJobDownloads {
    type Request = <Self as Operation>::Input;
    const HANDLER: Handler<Self> = downloads::clip_downloads;
}

/// One operation the dev server serves, type-erased for the table.
pub(crate) struct Route {
    /// The SDK's row: id, path, `x-required-scope`, idempotency, statuses.
    pub(crate) spec: &'static OperationSpec,
    /// The whole operation on a parsed JSON body (`None` when empty): validation, handler
    /// and the output as JSON. What the axum route does after its layers, without HTTP
    /// (for the fuzz targets).
    #[cfg(any(fuzzing, test))]
    pub(crate) run: fn(&DevState, &OpContext, Option<Value>) -> Result<Value, ApiError>,
    /// The axum endpoint for the operation's path.
    endpoint: fn() -> MethodRouter<DevState>,
}

impl Route {
    /// The route of operation `O`.
    const fn of<O: Served>() -> Route {
        Route {
            spec: O::SPEC,
            #[cfg(any(fuzzing, test))]
            run: run::<O>,
            endpoint: endpoint::<O>,
        }
    }

    /// The operation id, e.g. `uploads.initiate`.
    pub(crate) fn id(&self) -> &'static str {
        self.spec.id
    }
}

/// Every operation the dev server implements.
pub(crate) const ROUTES: &[Route] = &[
    Route::of::<ops::UploadsInitiate>(),
    Route::of::<ops::UploadsSignedUrl>(),
    Route::of::<ops::UploadsProgress>(),
    Route::of::<ops::UploadsComplete>(),
    Route::of::<ops::UploadsFail>(),
    Route::of::<ops::ItemsAssetDownload>(),
    Route::of::<ops::ClipJobDownload>(),
    Route::of::<ops::ClipJobDownloads>(),
];

/// The route whose path is `path` (e.g. `/v1/op/uploads.initiate`).
pub(super) fn find_by_path(path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|route| route.spec.path == path)
}

/// The operation routes, with their layers, for the dev server's router.
pub(super) fn router(state: &DevState) -> Router<DevState> {
    let router = ROUTES
        .iter()
        .fold(Router::new(), |router, route| {
            router.route(route.spec.path, (route.endpoint)())
        })
        // Any other spelling (the static paths above take precedence over the parameter).
        .route("/v1/op/{operation_id}", post(other_spelling));
    // `route_layer`: only requests that match a route and method go through the layers
    // (a GET stays a plain 405). The last one added runs first.
    router
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            op_layers::inject_faults,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            op_layers::read_body,
        ))
}

fn endpoint<O: Served>() -> MethodRouter<DevState> {
    post(handle::<O>)
}

/// The axum handler of operation `O`.
async fn handle<O: Served>(
    State(state): State<DevState>,
    ctx: OpContext,
    Valid(input): Valid<O::Request>,
) -> Result<Json<O::Output>, ApiError> {
    (O::HANDLER)(&state, &ctx, input).map(Json)
}

#[cfg(any(fuzzing, test))]
fn run<O: Served>(
    state: &DevState,
    ctx: &OpContext,
    body: Option<Value>,
) -> Result<Value, ApiError> {
    let input = O::Request::from_body(body)?;
    let output = (O::HANDLER)(state, ctx, input)?;
    serde_json::to_value(output).map_err(|err| {
        ApiError::problem(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            err.to_string(),
        )
    })
}

/// `POST /v1/op/{operation_id}` for a path no operation's route matches as written: a
/// percent-encoded id of an operation (found by `op_layers::read_body`, so the layers have
/// applied its faults and scope) goes to that operation's handler; any other id is a 404.
async fn other_spelling(State(state): State<DevState>, request: Request) -> Response {
    let Some(&ResolvedOp(route)) = request.extensions().get::<ResolvedOp>() else {
        return unknown_operation();
    };
    let mut endpoint = (route.endpoint)().with_state::<()>(state);
    match endpoint.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn unknown_operation() -> Response {
    let known: Vec<&str> = ROUTES.iter().map(Route::id).collect();
    ApiError::not_found(format!(
        "Unknown operation; the dev server implements: {}",
        known.join(", ")
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DevConfig;
    use serde_json::json;

    #[test]
    fn the_table_serves_the_eight_operations_with_the_sdks_rows() {
        assert_eq!(ROUTES.len(), 8);
        for route in ROUTES {
            let spec = geopera::ops::find(route.id()).expect("a row of the SDK's table");
            assert_eq!(route.spec, spec);
            assert_eq!(route.spec.path, format!("/v1/op/{}", route.id()));
            assert_eq!(
                find_by_path(route.spec.path).map(Route::id),
                Some(route.id())
            );
        }
        let scope = |path| find_by_path(path).and_then(|route| route.spec.required_scope);
        assert_eq!(scope("/v1/op/uploads.complete"), Some("uploads:write"));
        assert_eq!(scope("/v1/op/items.asset.download"), Some("items:read"));
        assert_eq!(scope("/v1/op/clip.job.downloads"), Some("clip:read"));
        assert!(find_by_path("/v1/op/uploads.nope").is_none());
    }

    #[test]
    fn run_validates_handles_and_answers_in_json() {
        let state = DevState::new(DevConfig::default()).expect("a temp data dir");
        state.add_project("prj_1");
        let ctx = OpContext::default();
        let initiate = find_by_path("/v1/op/uploads.initiate").expect("a route");
        let answer =
            (initiate.run)(&state, &ctx, Some(json!({"project_id": "prj_1"}))).expect("a session");
        assert_eq!(answer["status"], "initiated");
        assert_eq!(answer["project_id"], "prj_1");
        let id = answer["id"].as_str().expect("an id");
        assert_eq!(state.sessions()[0].id, id);
        for route in ROUTES {
            match (route.run)(&state, &ctx, None) {
                Err(ApiError::Validation(errors)) => assert_eq!(errors[0].kind, "missing"),
                other => panic!("{}: {other:?}", route.id()),
            }
        }
    }
}
