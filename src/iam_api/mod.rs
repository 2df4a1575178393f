//! The IAM Query API (version 2010-05-08), so that identities are managed with unmodified AWS
//! tools: `aws iam … --endpoint-url http://127.0.0.1:8080`, boto3's `iam` client.
//!
//! [`IamApiService`] is the tower service. It acts on a [`ManageIdentities`](crate::store::ManageIdentities)
//! store — a database store writes, the TOML file's [`ReadOnlyStore`](crate::store::ReadOnlyStore)
//! answers the reads and refuses writes with `InvalidInput` — and authorizes every call with
//! the IAM engine: the caller's identity policies, `iam:<Action>` on the target's ARN (with
//! its path), in the store's account only. Users (`CreateUser`, `GetUser`, `ListUsers`,
//! `DeleteUser`, tags), access keys (`CreateAccessKey`: an `AKIA…` id and a generated
//! secret, two per user; `ListAccessKeys`, `UpdateAccessKey`, `DeleteAccessKey`,
//! `GetAccessKeyLastUsed`), inline user and role policies, roles (`CreateRole`, `GetRole`,
//! `ListRoles`, `UpdateRole`, `UpdateAssumeRolePolicy`, `DeleteRole`, tags).
//!
//! Placed in the library, next to STS, so that an application behind the layer can serve the
//! same management API the gateway does.

mod error;
mod handler;
mod service;
mod wire;

pub use service::{IamApiService, IamApiServiceBuilder, IamHandler, IamRejections};

#[cfg(test)]
mod tests;
