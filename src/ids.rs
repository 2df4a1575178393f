//! Random identifiers of the IAM kind: `PREFIX` + `[A-Z2-7]*`, and new access keys.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;

use crate::credentials::SecretKey;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// `prefix` and `n` random characters of `[A-Z2-7]` (user ids `AIDA` + 17, role ids `AROA`
/// + 17, access key ids `AKIA` + 16).
pub(crate) fn random_id(prefix: &str, n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    let mut id = String::with_capacity(prefix.len() + n);
    id.push_str(prefix);
    id.extend(
        bytes
            .iter()
            .map(|b| char::from(BASE32.get(usize::from(b & 31)).copied().unwrap_or(b'A'))),
    );
    id
}

/// A new long-term access key, as IAM's `CreateAccessKey` makes them: the id `AKIA` + 16
/// characters of `[A-Z2-7]`, and a secret of 40 characters of `[A-Za-z0-9+/]` (30 random
/// bytes, base64) from the operating system's generator.
pub fn new_access_key() -> (String, SecretKey) {
    let mut bytes = zeroize::Zeroizing::new([0u8; 30]);
    OsRng.fill_bytes(&mut *bytes);
    let secret = zeroize::Zeroizing::new(STANDARD.encode(*bytes));
    (random_id("AKIA", 16), SecretKey::new(secret.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_secrets_have_iam_s_shapes() {
        let (id, secret) = new_access_key();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKIA"));
        assert!(id.bytes().all(|b| BASE32.contains(&b)));
        let text = secret.expose_secret();
        assert_eq!(text.len(), 40);
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'));
        assert_ne!(new_access_key().0, id);
        let user = random_id("AIDA", 17);
        assert_eq!(user.len(), 21);
    }
}
