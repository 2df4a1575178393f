//! Session tokens: mint/open round trip, tampering, expiry, key rotation, fuzzing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use proptest::prelude::*;
use time::macros::datetime;
use time::OffsetDateTime;
use tower_sigv4::sts::{
    NewSession, Tag, TemporaryCredentials, TokenError, TokenKey, TokenKeyError, TokenKeyring,
};

const NOW: OffsetDateTime = datetime!(2026-11-23 12:34:41 UTC);
const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_B: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

fn session() -> NewSession {
    let mut s = NewSession::new(
        "123456789012",
        "arn:aws:iam::123456789012:role/team/ops/demo",
        "AROA3XFRBF535PLBIFPI4",
        "TestAR",
    );
    s.session_policy = Some(r#"{"Version":"2012-10-17"}"#.to_owned());
    s.tags = vec![Tag::new("team", "blue")];
    s.source_identity = Some("alice".to_owned());
    s.chained = true;
    s
}

fn keyring() -> TokenKeyring {
    TokenKeyring::from_base64("k1", KEY_A).unwrap()
}

fn mint(keyring: &TokenKeyring) -> TemporaryCredentials {
    keyring
        .mint(session(), Duration::from_secs(3600), NOW)
        .unwrap()
}

#[test]
fn credentials_have_the_aws_shapes() {
    let c = mint(&keyring());
    assert_eq!(c.access_key_id.len(), 20);
    assert!(c.access_key_id.starts_with("ASIA"));
    assert!(c.access_key_id[4..]
        .bytes()
        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
    let secret = c.secret_access_key.expose_secret();
    assert_eq!(secret.len(), 40);
    assert!(secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'));
    assert!(c.session_token.len() >= 100);
    assert!(c
        .session_token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)));
    assert_eq!(c.expiration, datetime!(2026-11-23 13:34:41 UTC));
    let other = mint(&keyring());
    assert_ne!(c.access_key_id, other.access_key_id);
    assert_ne!(secret, other.secret_access_key.expose_secret());
}

#[test]
fn round_trip() {
    let ring = keyring();
    let c = mint(&ring);
    let claims = ring.open(&c.session_token, &c.access_key_id, NOW).unwrap();
    assert_eq!(claims.account, "123456789012");
    assert_eq!(
        claims.role_arn,
        "arn:aws:iam::123456789012:role/team/ops/demo"
    );
    assert_eq!(claims.role_unique_id, "AROA3XFRBF535PLBIFPI4");
    assert_eq!(claims.session_name, "TestAR");
    assert_eq!(claims.access_key_id, c.access_key_id);
    assert_eq!(
        claims.secret_access_key.expose_secret(),
        c.secret_access_key.expose_secret()
    );
    assert_eq!(claims.issued_at, NOW.unix_timestamp());
    assert_eq!(claims.expires_at, NOW.unix_timestamp() + 3600);
    assert_eq!(
        claims.session_policy.as_deref(),
        Some(r#"{"Version":"2012-10-17"}"#)
    );
    assert_eq!(claims.tags, vec![Tag::new("team", "blue")]);
    assert_eq!(claims.source_identity.as_deref(), Some("alice"));
    assert!(claims.chained);
    assert_eq!(
        claims.session_arn(),
        "arn:aws:sts::123456789012:assumed-role/demo/TestAR"
    );
    assert_eq!(claims.assumed_role_id(), "AROA3XFRBF535PLBIFPI4:TestAR");
    assert_eq!(claims.role_name(), "demo");
    assert_eq!(
        session().session_arn(),
        "arn:aws:sts::123456789012:assumed-role/demo/TestAR"
    );
}

#[test]
fn expiry() {
    let ring = keyring();
    let c = mint(&ring);
    let last_second = NOW + time::Duration::seconds(3599);
    assert!(ring
        .open(&c.session_token, &c.access_key_id, last_second)
        .is_ok());
    let expiry = NOW + time::Duration::seconds(3600);
    assert_eq!(
        ring.open(&c.session_token, &c.access_key_id, expiry)
            .unwrap_err(),
        TokenError::Expired
    );
}

#[test]
fn wrong_access_key_id() {
    let ring = keyring();
    let c = mint(&ring);
    let other = mint(&ring);
    assert_eq!(
        ring.open(&c.session_token, &other.access_key_id, NOW)
            .unwrap_err(),
        TokenError::Invalid
    );
    // Wrong key id outranks expiry.
    let later = NOW + time::Duration::days(1);
    assert_eq!(
        ring.open(&c.session_token, &other.access_key_id, later)
            .unwrap_err(),
        TokenError::Invalid
    );
}

#[test]
fn foreign_key_does_not_open() {
    let c = mint(&keyring());
    let stranger = TokenKeyring::from_base64("k1", KEY_B).unwrap();
    assert_eq!(
        stranger
            .open(&c.session_token, &c.access_key_id, NOW)
            .unwrap_err(),
        TokenError::Invalid
    );
}

#[test]
fn every_byte_flip_is_invalid() {
    let ring = keyring();
    let c = mint(&ring);
    let bytes = STANDARD.decode(&c.session_token).unwrap();
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut tampered = bytes.clone();
            tampered[i] ^= bit;
            let token = STANDARD.encode(&tampered);
            assert_eq!(
                ring.open(&token, &c.access_key_id, NOW).unwrap_err(),
                TokenError::Invalid,
                "byte {i} bit {bit:#x}"
            );
        }
    }
    // Truncation and extension too.
    for len in 0..bytes.len() {
        let token = STANDARD.encode(&bytes[..len]);
        assert_eq!(
            ring.open(&token, &c.access_key_id, NOW).unwrap_err(),
            TokenError::Invalid
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let token = STANDARD.encode(&longer);
    assert_eq!(
        ring.open(&token, &c.access_key_id, NOW).unwrap_err(),
        TokenError::Invalid
    );
}

#[test]
fn not_base64_is_invalid() {
    let ring = keyring();
    for token in ["", "!!!!", "AQ", "AQ==", "a b c", "AQID\n"] {
        assert_eq!(
            ring.open(token, "ASIAABCDEFGHIJKLMNOP", NOW).unwrap_err(),
            TokenError::Invalid
        );
    }
    let huge = "A".repeat(70_000);
    assert_eq!(
        ring.open(&huge, "ASIAABCDEFGHIJKLMNOP", NOW).unwrap_err(),
        TokenError::Invalid
    );
}

#[test]
fn key_rotation() {
    let mut ring = keyring();
    let old = mint(&ring);
    ring.rotate(TokenKey::from_base64("k2", KEY_B).unwrap())
        .unwrap();
    assert_eq!(ring.current().id(), "k2");
    assert_eq!(ring.key_ids().collect::<Vec<_>>(), vec!["k2", "k1"]);
    // Old token still opens; new tokens are minted under k2.
    assert!(ring
        .open(&old.session_token, &old.access_key_id, NOW)
        .is_ok());
    let new = mint(&ring);
    let header = STANDARD.decode(&new.session_token).unwrap();
    assert_eq!(&header[..4], &[1, 2, b'k', b'2']);
    // A replica that only knows k2 opens the new token but not the old one.
    let replica = TokenKeyring::from_base64("k2", KEY_B).unwrap();
    assert!(replica
        .open(&new.session_token, &new.access_key_id, NOW)
        .is_ok());
    assert_eq!(
        replica
            .open(&old.session_token, &old.access_key_id, NOW)
            .unwrap_err(),
        TokenError::Invalid
    );
    // Removing the old key retires its tokens.
    assert!(ring.remove("k1"));
    assert!(!ring.remove("k1"));
    assert!(!ring.remove("k2"), "the current key cannot be removed");
    assert_eq!(
        ring.open(&old.session_token, &old.access_key_id, NOW)
            .unwrap_err(),
        TokenError::Invalid
    );
    assert!(ring
        .open(&new.session_token, &new.access_key_id, NOW)
        .is_ok());
}

#[test]
fn verification_keys() {
    let mut ring = TokenKeyring::from_base64("k2", KEY_B).unwrap();
    let old_ring = keyring();
    let old = mint(&old_ring);
    assert!(ring
        .open(&old.session_token, &old.access_key_id, NOW)
        .is_err());
    ring.add_verification_key(TokenKey::from_base64("k1", KEY_A).unwrap())
        .unwrap();
    assert!(ring
        .open(&old.session_token, &old.access_key_id, NOW)
        .is_ok());
    assert_eq!(
        ring.add_verification_key(TokenKey::from_base64("k1", KEY_B).unwrap()),
        Err(TokenKeyError::DuplicateId)
    );
    assert_eq!(
        ring.add_verification_key(TokenKey::from_base64("k2", KEY_A).unwrap()),
        Err(TokenKeyError::DuplicateId)
    );
}

#[test]
fn key_construction_errors() {
    assert_eq!(
        TokenKey::from_base64("k", "not base64!").unwrap_err(),
        TokenKeyError::InvalidBase64
    );
    assert_eq!(
        TokenKey::from_base64("k", "AAEC").unwrap_err(),
        TokenKeyError::InvalidLength
    );
    assert_eq!(
        TokenKey::from_base64("", KEY_A).unwrap_err(),
        TokenKeyError::InvalidId
    );
    assert_eq!(
        TokenKey::from_base64("x".repeat(256), KEY_A).unwrap_err(),
        TokenKeyError::InvalidId
    );
    assert!(TokenKey::from_base64("x".repeat(255), KEY_A).is_ok());
    assert!(TokenKey::from_base64("k", &format!("  {KEY_A}\n")).is_ok());
    assert_eq!(
        TokenKeyError::InvalidLength.to_string(),
        "token key is not 32 bytes"
    );
}

#[test]
fn generated_keys_round_trip_through_base64() {
    let key = TokenKey::generate_random("gen").unwrap();
    let again = TokenKey::from_base64("gen", &key.to_base64()).unwrap();
    let ring = TokenKeyring::new(key);
    let c = mint(&ring);
    assert!(TokenKeyring::new(again)
        .open(&c.session_token, &c.access_key_id, NOW)
        .is_ok());
    let a = TokenKeyring::generate_random("a").unwrap();
    let b = TokenKeyring::generate_random("a").unwrap();
    let c = mint(&a);
    assert!(b.open(&c.session_token, &c.access_key_id, NOW).is_err());
}

#[test]
fn secrets_are_redacted_in_debug() {
    let ring = keyring();
    let c = mint(&ring);
    let secret = c.secret_access_key.expose_secret().to_owned();
    let shown = format!("{c:?} {ring:?} {:?}", ring.current());
    assert!(!shown.contains(&secret));
    assert!(!shown.contains(&c.session_token));
    assert!(!shown.contains(KEY_A));
    assert_eq!(
        format!("{:?}", tower_sigv4::SecretKey::new("hunter2")),
        "SecretKey(***)"
    );
    assert_eq!(
        format!("{:?}", ring.current()),
        r#"TokenKey { id: "k1", secret: *** }"#
    );
    let claims = ring.open(&c.session_token, &c.access_key_id, NOW).unwrap();
    assert!(!format!("{claims:?}").contains(&secret));
}

#[test]
fn lifetime_overflow_is_an_error_not_a_panic() {
    let ring = keyring();
    assert!(ring
        .mint(session(), Duration::from_secs(u64::MAX), NOW)
        .is_err());
}

#[test]
fn expiry_after_year_9999_cannot_be_minted() {
    let ring = keyring();
    let late = time::macros::datetime!(9999-12-31 23:00:00 UTC);
    assert!(ring
        .mint(session(), Duration::from_secs(3600), late)
        .is_err());
    let c = ring
        .mint(session(), Duration::from_secs(3599), late)
        .unwrap();
    assert_eq!(
        c.expiration,
        time::macros::datetime!(9999-12-31 23:59:59 UTC)
    );
    assert!(ring.open(&c.session_token, &c.access_key_id, late).is_ok());
}

/// A token sealed with `KEY_A` as `k1`, as `mint` seals one, over arbitrary claims JSON.
fn seal(claims: &str) -> String {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    let header = [1u8, 2, b'k', b'1'];
    let nonce = [9u8; 24];
    let sealed = XChaCha20Poly1305::new_from_slice(&STANDARD.decode(KEY_A).unwrap())
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

#[test]
fn authentic_tokens_with_times_out_of_range_are_invalid() {
    let ring = keyring();
    let claims = |iat: i64, exp: i64| {
        format!(
            r#"{{"acct":"123456789012","role":"arn:aws:iam::123456789012:role/demo","rid":"AROA3XFRBF535PLBIFPI4","sn":"s","akid":"ASIAFORGED","sak":"x","iat":{iat},"exp":{exp}}}"#
        )
    };
    let now = NOW.unix_timestamp();
    // Sealed right, sensible times: opens.
    assert!(ring
        .open(&seal(&claims(now, now + 60)), "ASIAFORGED", NOW)
        .is_ok());
    let last = 253_402_300_799; // 9999-12-31T23:59:59Z
    for (iat, exp) in [
        (i64::MAX - 1, i64::MAX),
        (i64::MIN, now + 60),
        (now, last + 1),
        (-377_705_116_801, now + 60), // one second before -9999-01-01
        (now + 61, now + 60),
    ] {
        assert_eq!(
            ring.open(&seal(&claims(iat, exp)), "ASIAFORGED", NOW)
                .unwrap_err(),
            TokenError::Invalid,
            "iat {iat} exp {exp}"
        );
    }
    // The edges themselves are fine.
    assert!(ring
        .open(&seal(&claims(-377_705_116_800, last)), "ASIAFORGED", NOW)
        .is_ok());
}

proptest! {
    #[test]
    fn arbitrary_strings_never_open(token in ".{0,400}", akid in "[A-Z0-9]{0,24}") {
        let ring = keyring();
        prop_assert!(ring.open(&token, &akid, NOW).is_err());
    }

    #[test]
    fn arbitrary_base64_never_opens(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let ring = keyring();
        let token = STANDARD.encode(&bytes);
        prop_assert_eq!(
            ring.open(&token, "ASIAABCDEFGHIJKLMNOP", NOW).map(|_| ()),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn plausible_headers_never_open(id in "k[0-9]?", tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let ring = keyring();
        let mut bytes = vec![1u8, u8::try_from(id.len()).unwrap()];
        bytes.extend_from_slice(id.as_bytes());
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(
            ring.open(&STANDARD.encode(&bytes), "ASIAABCDEFGHIJKLMNOP", NOW).map(|_| ()),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn byte_flips_never_open(flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4)) {
        let ring = keyring();
        let c = mint(&ring);
        let mut bytes = STANDARD.decode(&c.session_token).unwrap();
        for (index, mask) in flips {
            let i = index.index(bytes.len());
            bytes[i] ^= mask;
        }
        let token = STANDARD.encode(&bytes);
        let opened = ring.open(&token, &c.access_key_id, NOW);
        // Flips may cancel out (same byte, same mask twice).
        if token != c.session_token {
            prop_assert_eq!(opened.map(|_| ()), Err(TokenError::Invalid));
        }
    }
}
