//! The SigV4 signing key: `HMAC` chained over date, region, service and `aws4_request`.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::sigv4::canonical::Sink;
use crate::sigv4::scope::TERMINATOR;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA256 keyed with `key`.
#[allow(clippy::expect_used)]
pub(crate) fn hmac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (long keys are hashed), so this cannot fail.
    HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length")
}

impl Sink for HmacSha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

fn hmac_once(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = hmac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// A derived signing key. It is zeroed when dropped and never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct SigningKey([u8; 32]);

impl SigningKey {
    /// Derives the key for a secret access key and a credential scope.
    pub(crate) fn derive(secret: &[u8], date: &str, region: &str, service: &str) -> Self {
        let mut k_secret = Vec::with_capacity(secret.len() + 4);
        k_secret.extend_from_slice(b"AWS4");
        k_secret.extend_from_slice(secret);
        let mut k = hmac_once(&k_secret, date.as_bytes());
        k_secret.zeroize();
        let mut next = hmac_once(&k, region.as_bytes());
        k.zeroize();
        k = hmac_once(&next, service.as_bytes());
        next.zeroize();
        let key = hmac_once(&k, TERMINATOR.as_bytes());
        k.zeroize();
        Self(key)
    }

    /// An HMAC keyed with this signing key, ready for the string to sign.
    pub(crate) fn mac(&self) -> HmacSha256 {
        hmac(&self.0)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_documented_key() {
        // AWS's documented example key for wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215,
        // us-east-1, iam.
        let key = SigningKey::derive(
            b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key.0),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        assert_eq!(format!("{key:?}"), "SigningKey(***)");
    }
}
