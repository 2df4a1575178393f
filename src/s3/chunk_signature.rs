//! Chunk and trailer signatures of `aws-chunked` uploads (`s3.md` §2.4), shared by the signer
//! and the verifier: the signing key is keyed into an HMAC once per request and the chain
//! advances from the seed signature.

use hmac::Mac as _;
use sha2::{Digest as _, Sha256};

use crate::sigv4::canonical::hex32;
use crate::sigv4::signing_key::{HmacSha256, SigningKey};

/// The hex SHA-256 of the empty string, the fifth line of every chunk's string to sign.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The chain of signatures of one streaming request.
#[derive(Clone)]
pub(crate) struct ChunkChain {
    /// Keyed once with the request's signing key.
    mac: HmacSha256,
    /// `AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n`.
    payload_prefix: String,
    /// `AWS4-HMAC-SHA256-TRAILER\n<date>\n<scope>\n`.
    trailer_prefix: String,
    /// The previous signature: the seed's, then each chunk's.
    previous: [u8; 32],
}

impl ChunkChain {
    /// A chain starting at `seed`, for the request dated `amz_date` (`YYYYMMDDTHHMMSSZ`) in
    /// `scope` (`DATE/REGION/SERVICE/aws4_request`).
    pub(crate) fn new(key: &SigningKey, amz_date: &str, scope: &str, seed: [u8; 32]) -> Self {
        Self {
            mac: key.mac(),
            payload_prefix: format!("AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n"),
            trailer_prefix: format!("AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n"),
            previous: seed,
        }
    }

    /// The string to sign of the next chunk, whose data hashes to `data_sha256`.
    pub(crate) fn chunk_string_to_sign(&self, data_sha256: &[u8; 32]) -> String {
        let mut s = String::with_capacity(self.payload_prefix.len() + 64 * 3 + 2);
        s.push_str(&self.payload_prefix);
        s.push_str(crate::sigv4::canonical::hex_str(&hex32(&self.previous)));
        s.push('\n');
        s.push_str(EMPTY_SHA256);
        s.push('\n');
        s.push_str(crate::sigv4::canonical::hex_str(&hex32(data_sha256)));
        s
    }

    /// The signature of the next chunk (not yet advanced to).
    pub(crate) fn chunk_signature(&self, data_sha256: &[u8; 32]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(self.payload_prefix.as_bytes());
        mac.update(&hex32(&self.previous));
        mac.update(b"\n");
        mac.update(EMPTY_SHA256.as_bytes());
        mac.update(b"\n");
        mac.update(&hex32(data_sha256));
        mac.finalize().into_bytes().into()
    }

    /// Makes `signature` the previous one.
    pub(crate) fn advance(&mut self, signature: [u8; 32]) {
        self.previous = signature;
    }

    /// The string to sign of the trailer whose canonical text hashes to `trailer_sha256`
    /// (after the last chunk's signature).
    pub(crate) fn trailer_string_to_sign(&self, trailer_sha256: &[u8; 32]) -> String {
        let mut s = String::with_capacity(self.trailer_prefix.len() + 64 * 2 + 1);
        s.push_str(&self.trailer_prefix);
        s.push_str(crate::sigv4::canonical::hex_str(&hex32(&self.previous)));
        s.push('\n');
        s.push_str(crate::sigv4::canonical::hex_str(&hex32(trailer_sha256)));
        s
    }

    /// The trailer's signature.
    pub(crate) fn trailer_signature(&self, trailer_sha256: &[u8; 32]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(self.trailer_prefix.as_bytes());
        mac.update(&hex32(&self.previous));
        mac.update(b"\n");
        mac.update(&hex32(trailer_sha256));
        mac.finalize().into_bytes().into()
    }
}

/// The canonical text of trailing headers: `name:value\n` per header, lower-case names,
/// trimmed values, sorted by name.
pub(crate) fn canonical_trailer(lines: &[(&str, &str)]) -> Vec<u8> {
    let mut sorted: Vec<(String, &str)> = lines
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim()))
        .collect();
    sorted.sort();
    let mut out = Vec::new();
    for (name, value) in sorted {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out
}

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::derive(
            b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "20130524",
            "us-east-1",
            "s3",
        )
    }

    fn hex_array(s: &str) -> [u8; 32] {
        let mut out = [0; 32];
        hex::decode_to_slice(s, &mut out).unwrap();
        out
    }

    // s3.md §6.1: AWS's documented chunk signatures.
    #[test]
    fn documented_chunk_chain() {
        let seed = hex_array("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
        let mut chain = ChunkChain::new(
            &key(),
            "20130524T000000Z",
            "20130524/us-east-1/s3/aws4_request",
            seed,
        );
        let expected = [
            (
                65536,
                "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            ),
            (
                1024,
                "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            ),
            (
                0,
                "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
            ),
        ];
        for (size, sig) in expected {
            let data = vec![b'a'; size];
            let s = chain.chunk_signature(&sha256(&data));
            assert_eq!(hex::encode(s), sig, "chunk of {size}");
            chain.advance(s);
        }
        assert_eq!(
            chain.chunk_string_to_sign(&sha256(b"")).lines().next(),
            Some("AWS4-HMAC-SHA256-PAYLOAD")
        );
    }

    // s3.md §6.2: the trailer signature, and the two wrong canonicalisations.
    #[test]
    fn documented_trailer_signature() {
        let seed = hex_array("106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e");
        let mut chain = ChunkChain::new(
            &key(),
            "20130524T000000Z",
            "20130524/us-east-1/s3/aws4_request",
            seed,
        );
        for (size, sig) in [
            (
                65536,
                "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            ),
            (
                1024,
                "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            ),
            (
                0,
                "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
            ),
        ] {
            let s = chain.chunk_signature(&sha256(&vec![b'a'; size]));
            assert_eq!(hex::encode(s), sig);
            chain.advance(s);
        }
        let text = canonical_trailer(&[("x-amz-checksum-crc32c", "sOO8/Q==")]);
        assert_eq!(text, b"x-amz-checksum-crc32c:sOO8/Q==\n");
        assert_eq!(
            hex::encode(sha256(&text)),
            "1e376db7e1a34a8ef1c4bcee131a2d60a1cb62503747488624e10995f448d774"
        );
        assert_eq!(
            hex::encode(chain.trailer_signature(&sha256(&text))),
            "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
        );
        for wrong in [
            &b"x-amz-checksum-crc32c:sOO8/Q=="[..],
            b"x-amz-checksum-crc32c:sOO8/Q==\r\n",
        ] {
            assert_ne!(
                hex::encode(chain.trailer_signature(&sha256(wrong))),
                "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
            );
        }
        assert!(chain
            .trailer_string_to_sign(&sha256(&text))
            .starts_with("AWS4-HMAC-SHA256-TRAILER\n20130524T000000Z\n"));
    }
}
