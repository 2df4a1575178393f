//! Unit tests of the STS wire format: request parsing and validation, and the XML responses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod errors;
mod support;
mod time_limits;
mod wire;
mod xml;
