//! `sts::TokenKeyring::open` on arbitrary tokens, and on tokens the keyring minted and the
//! input then mutated byte-wise.
//!
//! Properties: never panics; whatever opens is consistent (minted for the access key id it was
//! presented with, issued no later than it expires, not yet expired); a minted token opens
//! to the session it was minted for (every field), is refused for another access key id and
//! from its expiry on; a minted token changed in any byte, truncated or extended never opens
//! (it is `Invalid`, never `Expired`).
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;
use tower_sigv4::sts::{NewSession, Tag, TokenError, TokenKey, TokenKeyring};

#[derive(Arbitrary, Debug)]
enum Input {
    /// A token from nowhere.
    Raw {
        token: String,
        access_key_id: String,
        now: i64,
    },
    /// A minted token, then changed.
    Minted {
        account: String,
        role_arn: String,
        session_name: String,
        policy: Option<String>,
        tags: Vec<(String, String)>,
        source_identity: Option<String>,
        chained: bool,
        lifetime: u32,
        now: i64,
        with_old_key: bool,
        edits: Vec<Edit>,
    },
}

#[derive(Arbitrary, Debug)]
enum Edit {
    Set(u16, u8),
    Insert(u16, u8),
    Remove(u16),
    Truncate(u16),
}

fn keyring(with_old_key: bool) -> TokenKeyring {
    let mut ring = TokenKeyring::new(TokenKey::new("k1", [7; 32]).expect("key"));
    ring.add_verification_key(TokenKey::new("k0", [9; 32]).expect("key"))
        .expect("old key");
    if with_old_key {
        // Mint with the old key: rotate to it, keeping k1 for verification.
        let mut old = TokenKeyring::new(TokenKey::new("k0", [9; 32]).expect("key"));
        old.add_verification_key(TokenKey::new("k1", [7; 32]).expect("key"))
            .expect("k1");
        return old;
    }
    ring
}

/// Unix seconds clamped to the years 1–9999.
fn time_of(secs: i64) -> OffsetDateTime {
    let secs = secs.clamp(-62_135_596_800, 253_402_300_799);
    OffsetDateTime::from_unix_timestamp(secs).expect("in range")
}

fuzz_target!(|input: Input| {
    match input {
        Input::Raw {
            token,
            access_key_id,
            now,
        } => {
            let ring = keyring(false);
            let now = time_of(now);
            if let Ok(claims) = ring.open(&token, &access_key_id, now) {
                assert_eq!(claims.access_key_id, access_key_id);
                assert!(claims.issued_at <= claims.expires_at);
                assert!(now.unix_timestamp() < claims.expires_at);
            }
        }
        Input::Minted {
            account,
            role_arn,
            session_name,
            policy,
            tags,
            source_identity,
            chained,
            lifetime,
            now,
            with_old_key,
            edits,
        } => {
            let minting = keyring(with_old_key);
            // The verifying keyring always knows both keys.
            let ring = keyring(false);
            let now = time_of(now);
            let mut session =
                NewSession::new(account, role_arn, "AROAEXAMPLEROLEID0001", session_name);
            session.session_policy = policy;
            session.tags = tags.into_iter().map(|(k, v)| Tag::new(k, v)).collect();
            session.source_identity = source_identity;
            session.chained = chained;
            let lifetime = Duration::from_secs(u64::from(lifetime));
            let Ok(creds) = minting.mint(session.clone(), lifetime, now) else {
                return;
            };
            let token = creds.session_token.clone();
            let akid = creds.access_key_id.clone();
            let expires = now.unix_timestamp() + lifetime.as_secs() as i64;
            if lifetime.as_secs() > 0 {
                let claims = ring
                    .open(&token, &akid, now)
                    .unwrap_or_else(|e| panic!("a minted token does not open: {e:?}"));
                assert_eq!(claims.account, session.account);
                assert_eq!(claims.role_arn, session.role_arn);
                assert_eq!(claims.role_unique_id, session.role_unique_id);
                assert_eq!(claims.session_name, session.session_name);
                assert_eq!(claims.session_policy, session.session_policy);
                assert_eq!(claims.tags, session.tags);
                assert_eq!(claims.source_identity, session.source_identity);
                assert_eq!(claims.chained, session.chained);
                assert_eq!(claims.access_key_id, akid);
                assert_eq!(
                    claims.secret_access_key.expose_secret(),
                    creds.secret_access_key.expose_secret()
                );
                assert_eq!(claims.issued_at, now.unix_timestamp());
                assert_eq!(claims.expires_at, expires);
                assert_eq!(creds.expiration.unix_timestamp(), expires);
            }
            assert_eq!(
                ring.open(&token, &format!("{akid}X"), now).err(),
                Some(TokenError::Invalid)
            );
            if expires <= 253_402_300_799 {
                assert_eq!(
                    ring.open(&token, &akid, time_of(expires)).err(),
                    Some(TokenError::Expired)
                );
            }

            let mut bytes = token.clone().into_bytes();
            for edit in edits {
                let at = |i: u16, len: usize| usize::from(i) % len.max(1);
                match edit {
                    Edit::Set(i, b) if !bytes.is_empty() => {
                        let i = at(i, bytes.len());
                        bytes[i] = b;
                    }
                    Edit::Insert(i, b) => {
                        let i = at(i, bytes.len() + 1);
                        bytes.insert(i.min(bytes.len()), b);
                    }
                    Edit::Remove(i) if !bytes.is_empty() => {
                        let i = at(i, bytes.len());
                        bytes.remove(i);
                    }
                    Edit::Truncate(n) => bytes.truncate(usize::from(n)),
                    _ => {}
                }
            }
            let mutated = String::from_utf8_lossy(&bytes);
            if mutated != token {
                let opened = ring.open(&mutated, &akid, now);
                assert_eq!(
                    opened.as_ref().err(),
                    Some(&TokenError::Invalid),
                    "a mutated token opened or was judged authentic: {mutated:?} (from {token:?})"
                );
            }
        }
    }
});
