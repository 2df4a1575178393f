//! The S3 profile's `aws-chunked` decoding, through the public sans-IO verifier
//! (`Verifier::verify` with the encoded body): a streaming upload of arbitrary payload, chunk
//! size, mode and trailing checksum, encoded by the crate's signer, then mutated.
//!
//! Properties:
//! * the upload as encoded verifies, in every mode;
//! * the verifier never panics, whatever the mutation;
//! * a mutated body verifies only if it still decodes to the same payload (read back by a
//!   small reference decoder that ignores signatures): harmless changes — a hex digit's case,
//!   leading zeros, spaces around `;` and `=`, the missing final CRLF — may pass; a change to
//!   the data never does (signatures in the signed modes, the checksum otherwise);
//! * a refusal is one of the S3 body codes (IncompleteBody, InvalidChunkSizeError,
//!   MalformedTrailerError, SignatureDoesNotMatch, BadDigest, InvalidRequest).
#![no_main]

use std::time::{Duration, SystemTime};

use arbitrary::Arbitrary;
use http::Request;
use libfuzzer_sys::fuzz_target;
use tower_sigv4::s3::{ChecksumAlgorithm, StreamingMode};
use tower_sigv4::sign::StreamingUpload;
use tower_sigv4::{
    Credentials, Principal, Signer, SigningSettings, StaticKeys, Verifier, VerifierConfig,
};
use tower_sigv4_fuzz::block_on;

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

#[derive(Arbitrary, Debug)]
enum Mutation {
    None,
    Flip { at: u32, xor: u8 },
    Insert { at: u32, bytes: Vec<u8> },
    Remove { at: u32, len: u16 },
    Truncate { at: u32 },
    Append { bytes: Vec<u8> },
}

#[derive(Arbitrary, Debug)]
struct Input {
    payload: Vec<u8>,
    chunk: u16,
    mode: u8,
    checksum: u8,
    mutations: Vec<Mutation>,
}

fn encode(
    upload: &StreamingUpload,
    payload: &[u8],
    now: SystemTime,
) -> (http::request::Parts, Vec<u8>) {
    let signer = Signer::new(Credentials::new(AKID, SECRET), "us-east-1", "s3")
        .with_settings(SigningSettings::s3());
    let (mut parts, ()) = Request::put("http://s3.local/b/k")
        .header("host", "s3.local")
        .body(())
        .expect("request")
        .into_parts();
    let encoder = signer
        .sign_streaming(&mut parts, upload, now)
        .expect("signs");
    let body = encoder.encode(http_body_util::Full::new(bytes::Bytes::copy_from_slice(
        payload,
    )));
    let encoded = block_on(http_body_util::BodyExt::collect(body))
        .expect("encodes")
        .to_bytes();
    (parts, encoded.to_vec())
}

/// The data of an aws-chunked body, signatures ignored: `None` when it is not one.
fn reference_decode(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&rest[..eol]).ok()?;
        let size_text = line.split(';').next()?.trim_end_matches([' ', '\t']);
        let size = usize::from_str_radix(size_text, 16).ok()?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if rest.len() < size + 2 || &rest[size..size + 2] != b"\r\n" {
            return None;
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

fuzz_target!(|input: Input| {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
    let mode = [
        StreamingMode::Signed,
        StreamingMode::SignedTrailer,
        StreamingMode::UnsignedTrailer,
    ][usize::from(input.mode % 3)];
    // Chunks of at least 8 KiB but the last (S3's rule), small enough to make several.
    let chunk = 8192 + usize::from(input.chunk % 8192);
    let payload = &input.payload[..input.payload.len().min(40_000)];
    let mut upload = StreamingUpload::new(mode, payload.len() as u64).with_chunk_size(chunk);
    let checksum = ChecksumAlgorithm::ALL[usize::from(input.checksum % 5)];
    if mode != StreamingMode::Signed {
        upload = upload.with_checksum(checksum);
    }
    let (parts, encoded) = encode(&upload, payload, now);
    let keys = StaticKeys::new().with_key(
        AKID,
        SECRET,
        Principal::user("arn:aws:iam::123456789012:user/f", "AIDAF"),
    );
    let verifier = Verifier::new(VerifierConfig::new("us-east-1", "s3"), keys).expect("verifier");
    let verdict = block_on(verifier.verify(&parts, &encoded, now));
    assert!(
        verdict.is_ok(),
        "the upload as encoded must verify: {verdict:?}"
    );

    let mut body = encoded.clone();
    for m in input.mutations.iter().take(4) {
        let len = body.len();
        let at = |i: u32| (i as usize) % (len + 1);
        match m {
            Mutation::None => {}
            Mutation::Flip { at: i, xor } if len > 0 => {
                let i = (*i as usize) % len;
                body[i] ^= xor | 1;
            }
            Mutation::Flip { .. } => {}
            Mutation::Insert { at: i, bytes } => {
                let i = at(*i);
                body.splice(i..i, bytes.iter().copied().take(64));
            }
            Mutation::Remove { at: i, len: n } => {
                let i = at(*i);
                let end = (i + usize::from(*n)).min(len);
                body.drain(i..end);
            }
            Mutation::Truncate { at: i } => body.truncate(at(*i)),
            Mutation::Append { bytes } => body.extend(bytes.iter().copied().take(64)),
        }
    }
    let verdict = block_on(verifier.verify(&parts, &body, now));
    match verdict {
        Ok(_) => {
            let decoded = reference_decode(&body);
            assert_eq!(
                decoded.as_deref(),
                Some(payload),
                "a body that decodes to another payload verified ({mode:?})"
            );
        }
        Err(r) => {
            let code = r.code().to_owned();
            assert!(
                [
                    "IncompleteBody",
                    "InvalidChunkSizeError",
                    "MalformedTrailerError",
                    "SignatureDoesNotMatch",
                    "BadDigest",
                    "InvalidRequest",
                ]
                .contains(&code.as_str()),
                "unexpected refusal {code}: {}",
                r.message()
            );
        }
    }
});
