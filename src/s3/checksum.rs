//! The flexible checksums of S3 (`x-amz-checksum-*`) and `Content-MD5`: which algorithm a
//! header names, the digest of the decoded payload, and its base64 form.

use base64::Engine as _;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

/// An algorithm of S3's `x-amz-checksum-*` headers and trailers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChecksumAlgorithm {
    /// CRC-32 (zlib, IEEE): `x-amz-checksum-crc32`.
    Crc32,
    /// CRC-32C (Castagnoli): `x-amz-checksum-crc32c`.
    Crc32c,
    /// CRC-64/NVME: `x-amz-checksum-crc64nvme`.
    Crc64Nvme,
    /// SHA-1: `x-amz-checksum-sha1`.
    Sha1,
    /// SHA-256: `x-amz-checksum-sha256`.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in the order S3 documents them.
    pub const ALL: [Self; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Crc64Nvme,
        Self::Sha1,
        Self::Sha256,
    ];

    /// The header (and trailer) that carries this checksum, lower case.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The name in `x-amz-sdk-checksum-algorithm` and in S3's messages (`CRC32` …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// The algorithm of a header name (any case), if it is one of the five.
    pub fn from_header_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.header_name().eq_ignore_ascii_case(name))
    }

    /// The algorithm of an `x-amz-sdk-checksum-algorithm` value (any case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// Length of the digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// A fresh running checksum.
    pub(crate) fn hasher(self) -> Checksum {
        let state = match self {
            Self::Crc32 => State::Crc(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32IsoHdlc)),
            Self::Crc32c => State::Crc(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi)),
            Self::Crc64Nvme => State::Crc(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme)),
            Self::Sha1 => State::Sha1(Sha1::new()),
            Self::Sha256 => State::Sha256(Sha256::new()),
        };
        Checksum {
            algorithm: self,
            state,
        }
    }

    /// The base64 checksum of `bytes`.
    pub fn checksum_of(self, bytes: &[u8]) -> String {
        let mut c = self.hasher();
        c.update(bytes);
        b64(&c.finalize())
    }

    /// Decodes a header or trailer value: standard base64 (padded) of exactly the digest's
    /// length.
    pub(crate) fn decode_value(self, value: &str) -> Option<Vec<u8>> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()?;
        (bytes.len() == self.digest_len()).then_some(bytes)
    }
}

#[derive(Clone)]
enum State {
    Crc(crc_fast::Digest),
    Sha1(Sha1),
    Sha256(Sha256),
}

/// A running checksum of one algorithm.
#[derive(Clone)]
pub(crate) struct Checksum {
    algorithm: ChecksumAlgorithm,
    state: State,
}

impl Checksum {
    pub(crate) fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            State::Crc(d) => d.update(bytes),
            State::Sha1(d) => d.update(bytes),
            State::Sha256(d) => d.update(bytes),
        }
    }

    /// The digest bytes (a CRC big-endian, as S3 encodes it).
    pub(crate) fn finalize(self) -> Vec<u8> {
        match self.state {
            State::Crc(d) => {
                let v = d.finalize();
                match self.algorithm {
                    ChecksumAlgorithm::Crc64Nvme => v.to_be_bytes().to_vec(),
                    // A CRC-32 fits in the low four bytes.
                    _ => (v as u32).to_be_bytes().to_vec(),
                }
            }
            State::Sha1(d) => d.finalize().to_vec(),
            State::Sha256(d) => d.finalize().to_vec(),
        }
    }
}

/// A running MD5 for `Content-MD5`.
#[derive(Clone, Default)]
pub(crate) struct Md5Sum(Md5);

impl Md5Sum {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub(crate) fn finalize(self) -> [u8; 16] {
        self.0.finalize().into()
    }
}

/// Decodes a `Content-MD5` value: base64 of 16 bytes.
pub(crate) fn decode_md5(value: &str) -> Option<[u8; 16]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    bytes.try_into().ok()
}

/// Standard base64 with padding.
pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // s3.md §6: "Hello world" and 66560 bytes of `a`.
    #[test]
    fn documented_checksums() {
        let hello = b"Hello world";
        let a = vec![b'a'; 66560];
        let cases = [
            (ChecksumAlgorithm::Crc32, "i9aeUg==", "sK4Y7A=="),
            (ChecksumAlgorithm::Crc32c, "crUfeA==", "sOO8/Q=="),
            (ChecksumAlgorithm::Crc64Nvme, "OOJZ0D8xKts=", "pRf+emrnL+A="),
            (
                ChecksumAlgorithm::Sha1,
                "e1AsOh9IyGCa4hLN+2Od7jlnP14=",
                "qOlv5ixdz2jRNhlSLmgH6iaTKRI=",
            ),
            (
                ChecksumAlgorithm::Sha256,
                "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=",
                "zWnTiHxq+SZLEA17dgIzEzXZqn4718MM3G1vS/uzyIg=",
            ),
        ];
        for (alg, hello_b64, a_b64) in cases {
            assert_eq!(alg.checksum_of(hello), hello_b64, "{alg:?}");
            assert_eq!(alg.checksum_of(&a), a_b64, "{alg:?}");
            // Fed in pieces, the same.
            let mut c = alg.hasher();
            for piece in a.chunks(1000) {
                c.update(piece);
            }
            assert_eq!(b64(&c.finalize()), a_b64, "{alg:?}");
            assert_eq!(
                alg.decode_value(hello_b64).map(|v| v.len()),
                Some(alg.digest_len())
            );
        }
        let mut md5 = Md5Sum::default();
        md5.update(hello);
        assert_eq!(b64(&md5.finalize()), "PiWWCnnbxptnTNTsZ6csYg==");
        // CRC-64/NVME's check value.
        let mut c = ChecksumAlgorithm::Crc64Nvme.hasher();
        c.update(b"123456789");
        assert_eq!(hex::encode(c.finalize()), "ae8b14860a799888");
    }

    #[test]
    fn names_and_values() {
        assert_eq!(
            ChecksumAlgorithm::from_header_name("X-Amz-Checksum-CRC32C"),
            Some(ChecksumAlgorithm::Crc32c)
        );
        assert_eq!(
            ChecksumAlgorithm::from_header_name("x-amz-checksum-md5"),
            None
        );
        assert_eq!(
            ChecksumAlgorithm::from_name("crc64nvme"),
            Some(ChecksumAlgorithm::Crc64Nvme)
        );
        // Wrong length, not base64, unpadded.
        assert_eq!(ChecksumAlgorithm::Crc32.decode_value("AAAAAAA="), None);
        assert_eq!(ChecksumAlgorithm::Crc32.decode_value("i9aeUg"), None);
        assert_eq!(ChecksumAlgorithm::Crc32.decode_value("!!!!!!=="), None);
        assert_eq!(ChecksumAlgorithm::Sha1.decode_value("i9aeUg=="), None);
        assert_eq!(
            decode_md5("PiWWCnnbxptnTNTsZ6csYg=="),
            Some({
                let mut m = Md5Sum::default();
                m.update(b"Hello world");
                m.finalize()
            })
        );
        assert_eq!(decode_md5("PiWWCnnbxptnTNTsZ6cs"), None);
    }
}
