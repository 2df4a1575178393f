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
#[path = "s3/round_trip.rs"]
mod round_trip;
#[path = "s3/vectors.rs"]
mod vectors;
