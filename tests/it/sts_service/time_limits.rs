//! Times outside what session tokens and the policy engine can represent (after year 9999,
//! before year -9999, or `i64::MAX` seconds in a token's claims) are clean errors, never
//! panics.

use std::time::UNIX_EPOCH;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use tower_sigv4::{KeyErrorKind, KeyRequest, ProvideKey};

use super::*;

/// 10000-01-01T00:00:00Z, one second past the last representable time.
fn year_10000() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(253_402_300_800)
}

/// About 10,700 BC, before the first representable time.
fn before_year_minus_9999() -> SystemTime {
    UNIX_EPOCH - Duration::from_secs(400_000_000_000)
}

/// A session token for `claims` (JSON), sealed with the store's key `k1` exactly as
/// `TokenKeyring::mint` seals one: what a replica with the key (or a bug in one) could issue.
fn seal(claims: &str) -> String {
    let key = STANDARD.decode(KEY_1).unwrap();
    let header = [1u8, 2, b'k', b'1'];
    let nonce = [7u8; 24];
    let sealed = XChaCha20Poly1305::new_from_slice(&key)
        .unwrap()
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: claims.as_bytes(),
                aad: &header,
            },
        )
        .unwrap();
    let mut token = header.to_vec();
    token.extend_from_slice(&nonce);
    token.extend_from_slice(&sealed);
    STANDARD.encode(token)
}

const FORGED_KEY: &str = "ASIAFORGEDFORGED0001";
const FORGED_SECRET: &str = "forgedSecretForgedSecretForgedSecret0001";

/// Credentials of an Invoker session whose token claims `iat` and `exp`.
fn forged(iat: i64, exp: i64) -> Credentials {
    let role_id = store()
        .snapshot()
        .role(INVOKER)
        .unwrap()
        .role_id()
        .to_owned();
    let claims = format!(
        r#"{{"acct":"123456789012","role":"{INVOKER}","rid":"{role_id}","sn":"forged","akid":"{FORGED_KEY}","sak":"{FORGED_SECRET}","iat":{iat},"exp":{exp}}}"#
    );
    Credentials::new(FORGED_KEY, FORGED_SECRET).with_session_token(seal(&claims))
}

fn unix(t: SystemTime) -> i64 {
    i64::try_from(t.duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

const INVALID: (u16, &str, &str) = (
    403,
    "InvalidClientTokenId",
    "The security token included in the request is invalid.",
);

#[tokio::test]
async fn tokens_with_timestamps_out_of_range_are_invalid() {
    let caller_identity = [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")];
    let chain: Vec<(&str, String)> = assume(CHAINED, "second");
    let chain: Vec<(&str, &str)> = chain.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let store = store();

    // The forging is right: sensible times work, as a session of Invoker.
    let sane = forged(unix(t0()), unix(t0()) + 3600);
    let reply = sts(&sane, &caller_identity, t0()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.tag("Arn"),
        "arn:aws:sts::123456789012:assumed-role/Invoker/forged"
    );
    let reply = sts(&sane, &chain, t0()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    for (iat, exp) in [
        // Issued and expiring at the end of i64 (`aws:TokenIssueTime` cannot be formed).
        (i64::MAX - 1000, i64::MAX),
        // Issued before the first representable time.
        (i64::MIN, unix(t0()) + 3600),
        // Expiring after the last one.
        (unix(t0()), 253_402_300_800),
        // Issued after it expires.
        (unix(t0()) + 7200, unix(t0()) + 3600),
    ] {
        let creds = forged(iat, exp);
        let reply = sts(&creds, &caller_identity, t0()).await;
        assert_eq!(reply.error(), INVALID, "iat {iat} exp {exp}");
        // Role chaining reads the caller's issue time for aws:TokenIssueTime.
        let reply = sts(&creds, &chain, t0()).await;
        assert_eq!(reply.error(), INVALID, "iat {iat} exp {exp}");
        let (status, body) = call_api(&store, &creds, "/items/1", t0()).await;
        assert_eq!(status, 403, "iat {iat} exp {exp}");
        assert_eq!(
            body,
            r#"{"message":"The security token included in the request is invalid."}"#
        );
    }
}

#[tokio::test]
async fn session_tokens_read_after_year_9999_are_expired() {
    let creds = assume_role(&alice(), &assume(INVOKER, "s1"))
        .await
        .credentials();
    let keys = SessionKeys::new(store(), keyring());
    let resolve = |request: KeyRequest<'_>| session_tags::block_on(keys.provide_key(request));
    let at = |now: SystemTime| {
        KeyRequest::new(
            creds.access_key_id(),
            creds.session_token(),
            "20261123",
            "us-east-1",
            "execute-api",
            now,
        )
    };
    assert!(resolve(at(t0())).is_ok());
    // Every token expires before the end of representable time.
    let error = resolve(at(year_10000())).unwrap_err();
    assert_eq!(error.kind(), KeyErrorKind::ExpiredToken);
    let error = resolve(at(UNIX_EPOCH + Duration::from_secs(u64::MAX / 4))).unwrap_err();
    assert_eq!(error.kind(), KeyErrorKind::ExpiredToken);
    // A clock before the first representable time: not expired (tokens carry no
    // not-before time), and no panic.
    assert!(resolve(at(before_year_minus_9999())).is_ok());
}

#[tokio::test]
async fn expiry_after_year_9999_is_an_internal_failure() {
    // 9999-12-31T23:00:00Z: an hour's session would end at 10000-01-01T00:00:00Z.
    let late = UNIX_EPOCH + Duration::from_secs(253_402_297_200);
    let fields: Vec<(&str, String)> = assume(INVOKER, "late");
    let mut fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = sts(&alice(), &fields, late).await;
    assert_eq!(
        reply.error(),
        (
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure."
        )
    );
    assert!(reply.body.contains("<Type>Receiver</Type>"));
    fields.push(("DurationSeconds", "900"));
    let reply = sts(&alice(), &fields, late).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.tag("Expiration"), "9999-12-31T23:15:00Z");
}
