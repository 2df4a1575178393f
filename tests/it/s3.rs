//! The S3 profile through the layer: AWS's documented streaming examples as vectors, signer ↔
//! verifier round trips for every streaming mode, chunk size and checksum, and hostile input
//! for every rejection of `s3.md` with its exact status, code, message and elements.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "s3/harness.rs"]
pub(crate) mod harness;
#[path = "s3/hostile_auth.rs"]
mod hostile_auth;
#[path = "s3/hostile_body.rs"]
mod hostile_body;
#[path = "s3/hostile_presigned.rs"]
mod hostile_presigned;
#[path = "s3/hostile_stream.rs"]
mod hostile_stream;
#[path = "s3/hostile_support.rs"]
pub(crate) mod hostile_support;
#[path = "s3/hostile_trailer.rs"]
mod hostile_trailer;
#[path = "s3/round_trip.rs"]
mod round_trip;
#[path = "s3/vectors.rs"]
mod vectors;
