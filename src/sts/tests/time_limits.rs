//! Times outside what the policy engine can represent (a clock after year 9999 or before year
//! -9999, claims of `i64::MIN`/`i64::MAX` seconds) are clean errors inside STS, never panics.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::iam::{Policy, PolicyKind};
use crate::store::{IdentityStore, Role, User};
use crate::sts::session::{authorize_assume_role_in, session_principal, AssumeRoleConnection};
use crate::sts::token::SessionClaims;
use crate::sts::wire::StsRequest;
use crate::Principal;

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const INVOKER: &str = "arn:aws:iam::123456789012:role/Invoker";
const FORGED_KEY: &str = "ASIAFORGEDFORGED0001";

/// 2026-11-23T12:00:00Z
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_435_200)
}

/// 10000-01-01T00:00:00Z, one second past the last representable time.
fn year_10000() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(253_402_300_800)
}

/// About 10,700 BC, before the first representable time.
fn before_year_minus_9999() -> SystemTime {
    UNIX_EPOCH - Duration::from_secs(400_000_000_000)
}

/// Alice, and role Invoker that trusts her.
fn store() -> IdentityStore {
    let trust = Policy::parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
        PolicyKind::Trust,
        None,
    )
    .unwrap();
    IdentityStore::builder()
        .user(
            User::new(ALICE)
                .unwrap()
                .with_access_key("AKIAALICE", "alice-secret"),
        )
        .role(Role::new(INVOKER, trust).unwrap())
        .build()
        .unwrap()
}

fn alice_principal(store: &IdentityStore) -> Principal {
    Principal::user(ALICE, store.user(ALICE).unwrap().user_id())
}

#[test]
fn authorize_assume_role_with_a_clock_out_of_range_is_an_internal_failure() {
    let store = store();
    let body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=s1",
        INVOKER.replace(':', "%3A").replace('/', "%2F")
    );
    let StsRequest::AssumeRole(params) = StsRequest::from_form(body.as_bytes()).unwrap() else {
        panic!("not AssumeRole");
    };
    // The same request at t0 is granted.
    authorize_assume_role_in(
        &store,
        &alice_principal(&store),
        &params,
        AssumeRoleConnection::default(),
        t0(),
    )
    .unwrap();
    for now in [year_10000(), before_year_minus_9999()] {
        let error = authorize_assume_role_in(
            &store,
            &alice_principal(&store),
            &params,
            AssumeRoleConnection::default(),
            now,
        )
        .unwrap_err();
        assert_eq!(
            (error.status(), error.code().as_str(), error.message()),
            (
                500,
                "InternalFailure",
                "The request processing has failed because of an unknown error, exception or failure."
            ),
            "{now:?}"
        );
    }
}

#[test]
fn session_principal_of_claims_out_of_range_reads_the_epoch() {
    // Claims that did not come from `TokenKeyring::open` (which refuses these).
    let claims: SessionClaims = serde_json::from_str(&format!(
        r#"{{"acct":"123456789012","role":"{INVOKER}","rid":"AROAEXAMPLE","sn":"s","akid":"{FORGED_KEY}","sak":"x","iat":{},"exp":{}}}"#,
        i64::MIN,
        i64::MAX
    ))
    .unwrap();
    let principal = session_principal(&claims);
    let session = principal.session().unwrap();
    assert_eq!(session.issued_at, UNIX_EPOCH);
    assert_eq!(session.expires_at, UNIX_EPOCH);
}
