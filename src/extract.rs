//! The axum extractor for the verified [`Principal`] (feature `axum`).
//!
//! The extractor only reads what [`VerifySigV4Layer`](crate::VerifySigV4Layer) wrote. A handler
//! that asks for a `Principal` on a route the layer does not cover is a wiring bug, answered
//! with 500; use `Option<Principal>` where the layer is optional.
//!
//! ```
//! use tower_sigv4::Principal;
//!
//! async fn whoami(principal: Principal) -> String {
//!     principal.arn().to_owned()
//! }
//! # let _ = axum::Router::<()>::new().route("/", axum::routing::get(whoami));
//! ```

use std::convert::Infallible;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use crate::principal::Principal;

/// The extractor's rejection: no principal in the request's extensions.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct MissingPrincipal;

impl std::fmt::Display for MissingPrincipal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no verified principal: is the route behind VerifySigV4Layer?")
    }
}

impl std::error::Error for MissingPrincipal {}

impl IntoResponse for MissingPrincipal {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(http::header::CONTENT_TYPE, "application/json")],
            r#"{"message":"Internal server error"}"#,
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = MissingPrincipal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(MissingPrincipal)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Principal {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Principal>().cloned())
    }
}
