//! The library's integration tests, in one binary (as cargo's own `tests/testsuite`), so that
//! tokio, hyper and axum link once. Each module needs the features of what it tests; with no
//! features, the core's tests still run. The allocation count has its own binary
//! (`tests/allocations.rs`: it installs a global allocator).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

#[cfg(feature = "iam")]
mod iam_support;

#[cfg(feature = "axum")]
mod axum_loopback;
#[cfg(feature = "iam")]
mod caching_keys;
#[cfg(feature = "sqlite")]
mod db_store;
#[cfg(all(feature = "axum", feature = "iam"))]
mod examples;
#[cfg(all(feature = "iam", feature = "tokio"))]
mod hostile_layer;
#[cfg(feature = "iam")]
mod iam_conditions;
#[cfg(feature = "iam")]
mod iam_conditions_more;
#[cfg(all(feature = "axum", feature = "iam"))]
mod iam_layer;
#[cfg(feature = "iam")]
mod iam_principals;
#[cfg(feature = "iam")]
mod iam_proptest;
#[cfg(feature = "iam")]
mod iam_seed;
#[cfg(feature = "iam")]
mod iam_validation;
#[cfg(feature = "iam")]
mod iam_variables;
mod interop_aws_sigv4;
#[cfg(all(feature = "axum", feature = "sts"))]
mod interop_boto3_sts;
#[cfg(feature = "axum")]
mod interop_clients;
mod never_panics;
mod rejections;
#[cfg(all(feature = "s3", feature = "tokio"))]
mod s3;
#[cfg(all(feature = "s3", feature = "axum", feature = "iam"))]
mod s3_clients;
mod signer;
#[cfg(feature = "sts")]
mod store;
#[cfg(feature = "sts")]
mod sts_service;
#[cfg(feature = "sts")]
mod sts_token;
#[cfg(feature = "tokio")]
mod tonic;
mod vectors;
