//! A bounded cache of derived signing keys, so a request costs one HMAC, not five.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Mutex;

use std::collections::hash_map::RandomState;

use crate::credentials::SecretKey;
use crate::sigv4::scope::CredentialScope;
use crate::sigv4::signing_key::SigningKey;

struct Entry {
    access_key_id: Box<str>,
    /// Kept whole so a hit hands out a clone (shared text) rather than a new allocation.
    scope: CredentialScope,
    fingerprint: [u8; 32],
    key: SigningKey,
}

/// The map's slots are already hashes (of the access key id and the scope, with a random key):
/// they are used as they are rather than hashed a second time.
#[derive(Default)]
struct SlotHasher(u64);

impl Hasher for SlotHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` slots are hashed; anything else is folded in (never reached).
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, slot: u64) {
        self.0 = slot;
    }
}

pub(crate) struct KeyCache {
    capacity: usize,
    hasher: RandomState,
    entries: Mutex<HashMap<u64, Entry, BuildHasherDefault<SlotHasher>>>,
}

impl KeyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            hasher: RandomState::new(),
            entries: Mutex::new(HashMap::default()),
        }
    }

    /// The signing key for `secret` and the scope, derived at most once per scope and secret,
    /// with the scope itself (built once too).
    pub(crate) fn get_or_derive(
        &self,
        access_key_id: &str,
        secret: &SecretKey,
        date: &str,
        region: &str,
        service: &str,
    ) -> (SigningKey, CredentialScope) {
        let slot = self.hasher.hash_one((access_key_id, date, region, service));
        {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(e) = entries.get(&slot) {
                if &*e.access_key_id == access_key_id
                    && e.scope.date() == date
                    && e.scope.region() == region
                    && e.scope.service() == service
                    && &e.fingerprint == secret.fingerprint()
                {
                    return (e.key.clone(), e.scope.clone());
                }
            }
        }
        let key = SigningKey::derive(secret.expose_secret().as_bytes(), date, region, service);
        let scope = CredentialScope::new(date, region, service);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&slot) {
            // Keys of other days are stale first; otherwise drop any one entry.
            entries.retain(|_, e| e.scope.date() == date);
            if entries.len() >= self.capacity {
                if let Some(victim) = entries.keys().next().copied() {
                    entries.remove(&victim);
                }
            }
        }
        entries.insert(
            slot,
            Entry {
                access_key_id: access_key_id.into(),
                scope: scope.clone(),
                fingerprint: *secret.fingerprint(),
                key: key.clone(),
            },
        );
        (key, scope)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_keyed_by_secret() {
        let cache = KeyCache::new(2);
        let s1 = SecretKey::from("one");
        let s2 = SecretKey::from("two");
        let (a, scope) = cache.get_or_derive("AK1", &s1, "20150830", "us-east-1", "svc");
        assert_eq!(scope, CredentialScope::new("20150830", "us-east-1", "svc"));
        let (b, _) = cache.get_or_derive("AK1", &s2, "20150830", "us-east-1", "svc");
        // A changed secret derives a new key rather than reusing the cached one.
        let mut ma = a.mac();
        let mut mb = b.mac();
        hmac::Mac::update(&mut ma, b"x");
        hmac::Mac::update(&mut mb, b"x");
        assert_ne!(
            hmac::Mac::finalize(ma).into_bytes(),
            hmac::Mac::finalize(mb).into_bytes()
        );
        for i in 0..10 {
            cache.get_or_derive(&format!("AK{i}"), &s1, "20150830", "us-east-1", "svc");
        }
        assert!(cache.len() <= 2);
    }
}
