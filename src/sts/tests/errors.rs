//! What token faults become on the wire.

use std::time::Duration;

use crate::sts::error::StsError;
use crate::sts::token::{NewSession, TokenError, TokenKeyring};

#[test]
fn token_faults_become_sts_errors() {
    let e: StsError = TokenError::Expired.into();
    assert_eq!(
        e.message(),
        "The security token included in the request is expired"
    );
    assert_eq!(e.code().as_str(), "ExpiredToken");
    let e: StsError = TokenError::Invalid.into();
    assert_eq!(
        e.message(),
        "The security token included in the request is invalid."
    );
    assert_eq!(e.code().as_str(), "InvalidClientTokenId");
}

#[test]
fn a_session_that_cannot_be_minted_is_an_internal_failure() {
    let ring = TokenKeyring::generate_random("k1").unwrap();
    let session = NewSession::new(
        "123456789012",
        "arn:aws:iam::123456789012:role/demo",
        "AROAEXAMPLE",
        "s1",
    );
    let now = time::macros::datetime!(2026-11-23 12:00:00 UTC);
    let e: StsError = ring
        .mint(session.clone(), Duration::from_secs(u64::MAX), now)
        .unwrap_err()
        .into();
    assert_eq!(e.code().as_str(), "InternalFailure");
    let late = time::macros::datetime!(9999-12-31 23:00:00 UTC);
    let e: StsError = ring
        .mint(session, Duration::from_secs(3600), late)
        .unwrap_err()
        .into();
    assert_eq!(e.code().as_str(), "InternalFailure");
}
