//! The sans-IO core, in the order a request goes through it: [`target`] (the request target,
//! row 0), [`parse`] (the `Authorization` header or presigned query), [`canonical`] (URI,
//! query, headers), [`scope`] (dates, credential scope, string to sign), [`signing_key`] and its
//! cache, then [`verifier`] (check → key → compare), with [`settings`]. No tower, hyper or axum
//! here: both the signer and the verifier build on it.

pub(crate) mod canonical;
pub(crate) mod parse;
pub(crate) mod scope;
pub(crate) mod settings;
pub(crate) mod signing_key;
pub(crate) mod signing_key_cache;
pub(crate) mod target;
pub(crate) mod verifier;
