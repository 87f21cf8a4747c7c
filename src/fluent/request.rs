//! The pieces every fluent call shares: [`IntoInput`] (a typed model or plain JSON becomes
//! the input model) and [`Request`], one call of any [`Operation`], awaited directly for
//! the body or via [`Request::detailed`] for the whole [`Response`].

use std::future::IntoFuture;

use crate::call::BoxFuture;
use crate::ops::{InputModel, Operation};
use crate::{AuthenticatedClient, Error, Response};

/// Anything a fluent call accepts as its body: the typed model itself, or a JSON value
/// that is converted to it (a value that does not fit is an [`Error::InvalidInput`] naming
/// the field, and nothing is sent).
pub trait IntoInput<I> {
    /// Converts into the input model of operation `operation`.
    fn into_input(self, operation: &'static str) -> Result<I, Error>;
}

impl<I: InputModel> IntoInput<I> for I {
    fn into_input(self, _: &'static str) -> Result<I, Error> {
        Ok(self)
    }
}

impl<I: InputModel> IntoInput<I> for serde_json::Value {
    fn into_input(self, operation: &'static str) -> Result<I, Error> {
        crate::call::from_json(self, operation)
    }
}

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
            input: body.into_input(Op::SPEC.id),
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
        match self.input {
            Ok(input) => Box::pin(async move { Op::send_detailed(client, &input).await }),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

impl<'a, Op: Operation> IntoFuture for Request<'a, Op> {
    type Output = Result<Op::Output, Error>;
    type IntoFuture = BoxFuture<'a, Result<Op::Output, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        // One allocation per call: the operation's future is awaited inline, not boxed again.
        // The boxed future holds the input and the call, nothing else (not the `Result` the
        // input came in as): its size is the allocation's, and up to 1,032 bytes glibc serves
        // it from a per-thread cache, without a lock.
        let client = self.client;
        match self.input {
            Ok(input) => Box::pin(async move {
                Op::send_detailed(client, &input)
                    .await
                    .map(Response::into_body)
            }),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

impl<Op: Operation> std::fmt::Debug for Request<'_, Op> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("operation", &Op::SPEC.id)
            .field("input_ok", &self.input.is_ok())
            .finish()
    }
}
