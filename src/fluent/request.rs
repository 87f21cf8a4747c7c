//! The pieces every fluent call shares: the [`Operation`] trait that ties a marker type to
//! its `ops` module, [`IntoInput`] (a typed model or plain JSON becomes the input model),
//! and [`Request`], awaited directly for the body or via [`Request::detailed`] for the
//! whole [`Response`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use serde::de::DeserializeOwned;

use crate::{AuthenticatedClient, Error, Response};

/// A boxed, sendable future, as the fluent calls return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One generated operation, as the fluent layer sees it.
pub trait Operation {
    /// The operation id.
    const ID: &'static str;
    /// The request body model.
    type Input: DeserializeOwned + Send + Sync + 'static;
    /// The success body model.
    type Output: Send + 'static;
    /// Calls the operation's `ops::<op>::send_detailed`.
    fn send_detailed<'a>(
        client: &'a AuthenticatedClient,
        body: &'a Self::Input,
    ) -> impl Future<Output = Result<Response<Self::Output>, Error>> + Send + 'a;
}

/// Anything a fluent call accepts as its body: the typed model itself, or a JSON value
/// that is converted to it (a value that does not fit is an [`Error::InvalidInput`] naming
/// the field, and nothing is sent).
pub trait IntoInput<I> {
    /// Converts into the input model of operation `operation`.
    fn into_input(self, operation: &'static str) -> Result<I, Error>;
}

/// Converts a JSON value into `I`, naming the offending field on failure.
pub(crate) fn from_json<I: DeserializeOwned>(
    value: serde_json::Value,
    operation: &'static str,
) -> Result<I, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = (path != ".").then_some(path);
        Error::InvalidInput {
            operation: operation.into(),
            field,
            message: e.into_inner().to_string(),
        }
    })
}

/// Implements [`IntoInput`] for a model and for JSON values.
macro_rules! into_input {
    ($($model:ty),* $(,)?) => {$(
        impl $crate::fluent::request::IntoInput<$model> for $model {
            fn into_input(self, _: &'static str) -> Result<$model, $crate::Error> {
                Ok(self)
            }
        }
        impl $crate::fluent::request::IntoInput<$model> for serde_json::Value {
            fn into_input(self, operation: &'static str) -> Result<$model, $crate::Error> {
                $crate::fluent::request::from_json(self, operation)
            }
        }
    )*};
}
pub(crate) use into_input;

/// Ties a marker type to its generated module.
macro_rules! operation {
    ($(#[$doc:meta])* $marker:ident => $module:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $marker;
        impl $crate::fluent::request::Operation for $marker {
            const ID: &'static str = $crate::ops::$module::OPERATION_ID;
            type Input = $crate::ops::$module::Input;
            type Output = $crate::ops::$module::Output;
            fn send_detailed<'a>(
                client: &'a $crate::AuthenticatedClient,
                body: &'a Self::Input,
            ) -> impl std::future::Future<Output = Result<$crate::Response<Self::Output>, $crate::Error>> + Send + 'a {
                $crate::ops::$module::send_detailed(client, body)
            }
        }
    };
}
pub(crate) use operation;

/// A fluent call, ready to send. `.await` it for the body, or call
/// [`Request::detailed`] for status, headers and body.
#[must_use = "a request does nothing until it is awaited"]
pub struct Request<'a, Op: Operation> {
    client: &'a AuthenticatedClient,
    input: Result<Op::Input, Error>,
}

impl<'a, Op: Operation> Request<'a, Op> {
    pub(crate) fn new(
        client: &'a AuthenticatedClient,
        body: impl IntoInput<Op::Input>,
    ) -> Request<'a, Op> {
        Request {
            client,
            input: body.into_input(Op::ID),
        }
    }

    /// The input model as it will be sent, or the local error that stops it.
    pub fn input(&self) -> Result<&Op::Input, &Error> {
        self.input.as_ref()
    }

    /// Sends the call and returns the full [`Response`]: status, headers, body, and how
    /// many attempts the call took ([`Response::attempts`]).
    pub fn detailed(self) -> BoxFuture<'a, Result<Response<Op::Output>, Error>> {
        let client = self.client;
        Box::pin(async move {
            let input = self.input?;
            Op::send_detailed(client, &input).await
        })
    }
}

impl<'a, Op: Operation> IntoFuture for Request<'a, Op> {
    type Output = Result<Op::Output, Error>;
    type IntoFuture = BoxFuture<'a, Result<Op::Output, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        // One allocation per call: the operation's future is awaited inline, not boxed again.
        let client = self.client;
        Box::pin(async move {
            let input = self.input?;
            Op::send_detailed(client, &input)
                .await
                .map(Response::into_body)
        })
    }
}

impl<Op: Operation> std::fmt::Debug for Request<'_, Op> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("operation", &Op::ID)
            .field("input_ok", &self.input.is_ok())
            .finish()
    }
}
