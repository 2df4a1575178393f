//! Secrets at rest: sealed with XChaCha20-Poly1305 under the store's key-encryption key, bound
//! to the access key id they belong to.

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::{Zeroize, Zeroizing};

use super::DbError;
use crate::credentials::SecretKey;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const CHECK_TEXT: &[u8] = b"tower-sigv4 store key check";

/// The key-encryption key of a database store: 32 bytes, written as base64 (in a key file or
/// `SIGV4_STORE_KEY`). Zeroed on drop; `Debug` prints `***`.
#[derive(Clone)]
pub struct StoreKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl StoreKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut *bytes);
        Self { bytes }
    }

    /// A key from the base64 of 32 bytes (surrounding white space ignored).
    pub fn from_base64(text: &str) -> Result<Self, DbError> {
        let decoded = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| DbError::key("the store key is not base64"))?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| DbError::key("the store key must be 32 bytes (base64 of 32 bytes)"))?;
        let key = Self {
            bytes: Zeroizing::new(bytes),
        };
        let mut bytes = bytes;
        bytes.zeroize();
        Ok(key)
    }

    /// A key from a file holding its base64.
    pub fn from_file(path: &Path) -> Result<Self, DbError> {
        let text = std::fs::read_to_string(path)
            .map(Zeroizing::new)
            .map_err(|e| {
                DbError::key(format!("cannot read the key file {}: {e}", path.display()))
            })?;
        Self::from_base64(&text)
    }

    /// The key as base64, to write into a key file.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(*self.bytes))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.bytes).into())
    }

    /// Seals `plain`, bound to `aad`.
    pub(crate) fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, DbError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .map_err(|_| DbError::key("sealing failed"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`StoreKey::seal`] sealed with the same `aad`.
    pub(crate) fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (&version, rest) = sealed.split_first()?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    /// The value stored at initialisation to recognise the key later.
    pub(crate) fn check_value(&self) -> Result<Vec<u8>, DbError> {
        self.seal(CHECK_TEXT, b"check")
    }

    /// Whether `check` was made by [`StoreKey::check_value`] with this key.
    pub(crate) fn opens_check(&self, check: &[u8]) -> bool {
        self.open(check, b"check")
            .is_some_and(|text| text.as_slice() == CHECK_TEXT)
    }

    /// Seals a secret access key for the row of `access_key_id`.
    pub(crate) fn seal_secret(
        &self,
        access_key_id: &str,
        secret: &SecretKey,
    ) -> Result<Vec<u8>, DbError> {
        self.seal(
            secret.expose_secret().as_bytes(),
            &secret_aad(access_key_id),
        )
    }

    /// Opens the secret of `access_key_id`'s row.
    pub(crate) fn open_secret(&self, access_key_id: &str, sealed: &[u8]) -> Option<SecretKey> {
        let plain = self.open(sealed, &secret_aad(access_key_id))?;
        let text = std::str::from_utf8(&plain).ok()?;
        Some(SecretKey::new(text))
    }
}

fn secret_aad(access_key_id: &str) -> Vec<u8> {
    let mut aad = b"access-key/".to_vec();
    aad.extend_from_slice(access_key_id.as_bytes());
    aad
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_opens_only_with_its_key_and_its_key_id() {
        let key = StoreKey::generate();
        let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let sealed = key.seal_secret("AKIAONE", &secret).unwrap();
        assert!(
            !sealed.windows(10).any(|w| w == b"wJalrXUtnF"),
            "the secret is stored in clear"
        );
        let opened = key.open_secret("AKIAONE", &sealed).unwrap();
        assert_eq!(opened.expose_secret(), secret.expose_secret());
        // Moved to another key's row: refused.
        assert!(key.open_secret("AKIATWO", &sealed).is_none());
        // Another store key: refused.
        assert!(StoreKey::generate()
            .open_secret("AKIAONE", &sealed)
            .is_none());
        // Tampered: refused.
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open_secret("AKIAONE", &tampered).is_none());
        // Truncated or of another version: refused, no panic.
        assert!(key.open_secret("AKIAONE", &sealed[..10]).is_none());
        assert!(key.open_secret("AKIAONE", &[]).is_none());
        let mut other_version = sealed;
        other_version[0] = 2;
        assert!(key.open_secret("AKIAONE", &other_version).is_none());
    }

    #[test]
    fn the_check_value_recognises_the_key() {
        let key = StoreKey::generate();
        let check = key.check_value().unwrap();
        assert!(key.opens_check(&check));
        assert!(!StoreKey::generate().opens_check(&check));
    }

    #[test]
    fn keys_round_trip_through_base64_and_bad_ones_are_refused() {
        let key = StoreKey::generate();
        let again = StoreKey::from_base64(&format!(" {}\n", key.to_base64().as_str())).unwrap();
        assert!(again.opens_check(&key.check_value().unwrap()));
        assert_eq!(format!("{key:?}"), "StoreKey(***)");
        let short = STANDARD.encode([0u8; 16]);
        assert_eq!(
            StoreKey::from_base64(&short).unwrap_err().to_string(),
            "the store key must be 32 bytes (base64 of 32 bytes)"
        );
        assert_eq!(
            StoreKey::from_base64("not base64!")
                .unwrap_err()
                .to_string(),
            "the store key is not base64"
        );
    }
}
