//! The gateway's integration tests, in one binary: the real `sigv4-gateway` binary on loopback
//! (`gateway`, `hostile_gateway`), and the configuration file and its reload (`file_store`,
//! `hostile_config`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod file_store;
mod gateway;
mod hostile_config;
mod hostile_gateway;
mod http2;
mod iam_store;
mod postgres;
