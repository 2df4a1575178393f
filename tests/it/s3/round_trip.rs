//! Signer → verifier: every streaming mode, chunk sizes around S3's 8 KiB minimum, every
#![allow(unreachable_pub)]
//! checksum algorithm, bodies cut into frames of odd sizes; the inner service gets exactly the
//! payload. And a proptest over payloads, chunk sizes and frame sizes.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body::Frame;
use http_body_util::StreamBody;
use proptest::prelude::*;
use tower_sigv4::s3::{ChecksumAlgorithm, StreamingMode};
use tower_sigv4::sign::StreamingUpload;

use super::harness::*;

type Frames = StreamBody<futures_like::Iter>;

/// A body of `payload` cut into frames of `frame` bytes.
pub fn framed(payload: &[u8], frame: usize) -> Frames {
    let frames: Vec<Result<Frame<Bytes>, Infallible>> = payload
        .chunks(frame.max(1))
        .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    StreamBody::new(futures_like::Iter(frames.into_iter()))
}

/// A minimal `Stream` over an iterator (no futures dependency).
pub mod futures_like {
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;
    use http_body::Frame;

    pub struct Iter(pub std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>);

    impl tokio_stream::Stream for Iter {
        type Item = Result<Frame<Bytes>, Infallible>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.get_mut().0.next())
        }
    }
}

/// The signed head and encoded body of an upload of `payload`.
pub async fn encode(
    upload: StreamingUpload,
    payload: &[u8],
    frame: usize,
) -> (http::request::Parts, Vec<u8>) {
    let (mut parts, ()) = Request::put("http://s3.local/bucket/key")
        .header("host", "s3.local")
        .body(())
        .unwrap()
        .into_parts();
    let encoder = signer()
        .sign_streaming(&mut parts, &upload, example_time())
        .unwrap();
    let body = encoder.encode(framed(payload, frame));
    let encoded = http_body_util::BodyExt::collect(body)
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        encoded.len() as u64,
        upload.encoded_length(),
        "encoded_length agrees"
    );
    (parts, encoded.to_vec())
}

pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn every_mode_chunk_size_and_checksum() {
    let modes = [
        (StreamingMode::Signed, None),
        (StreamingMode::UnsignedTrailer, None),
        (StreamingMode::SignedTrailer, Some(ChecksumAlgorithm::Crc32)),
        (
            StreamingMode::UnsignedTrailer,
            Some(ChecksumAlgorithm::Crc32),
        ),
    ];
    for (mode, first_checksum) in modes {
        let algorithms: Vec<Option<ChecksumAlgorithm>> = match first_checksum {
            None => vec![None],
            Some(_) => ChecksumAlgorithm::ALL.into_iter().map(Some).collect(),
        };
        for checksum in algorithms {
            for (len, chunk) in [
                (0, 8192),
                (1, 8192),
                (8191, 8192),
                (8192, 8192),
                (8193, 8192),
                (70_000, 8192),
                (70_000, 65536),
                (200_000, 1 << 20),
            ] {
                for frame in [1000, 8192, 70_001] {
                    let body = payload(len);
                    let mut upload = StreamingUpload::new(mode, len as u64).with_chunk_size(chunk);
                    if let Some(c) = checksum {
                        upload = upload.with_checksum(c);
                    }
                    let (parts, encoded) = encode(upload, &body, frame).await;
                    // Sent in frames of another size than it was encoded in.
                    let req = Request::from_parts(parts, framed(&encoded, frame + 7));
                    let seen = Arc::new(Seen::default());
                    let a = serve(layer(&verifier()), seen.clone(), req).await;
                    let what =
                        format!("{mode:?} {checksum:?} len {len} chunk {chunk} frame {frame}");
                    assert_eq!(a.status, 200, "{what}: {}", a.body);
                    assert_passed(&a, &seen, &body);
                    assert_eq!(
                        seen.header("content-length"),
                        Some(len.to_string()),
                        "{what}"
                    );
                }
            }
        }
    }
}

/// The checksum of the payload is verified: a trailer of the right shape but the wrong value
/// is `BadDigest`, after the trailer signature (in the signed mode the signature is made over
/// the wrong value, so only the checksum can catch it).
#[tokio::test]
async fn a_wrong_trailing_checksum_is_bad_digest() {
    for mode in [StreamingMode::SignedTrailer, StreamingMode::UnsignedTrailer] {
        for algorithm in ChecksumAlgorithm::ALL {
            let body = payload(20_000);
            let upload = StreamingUpload::new(mode, 20_000)
                .with_checksum(algorithm)
                .with_chunk_size(8192);
            // Encode another payload of the same length: the trailer carries its checksum.
            let mut other = body.clone();
            other[5] ^= 1;
            let (parts, encoded_other) = encode(upload, &other, 4096).await;
            let (_, encoded) = encode(upload, &body, 4096).await;
            // Splice: the chunks of `body` with the trailer of `other` — in the signed mode the
            // chunk signatures would then fail first, so sign the trailer over `other`'s
            // checksum by taking `other`'s whole tail only in the unsigned mode.
            let spliced = if mode == StreamingMode::UnsignedTrailer {
                let tail_start = encoded.windows(3).rposition(|w| w == b"0\r\n").unwrap();
                let other_tail = encoded_other
                    .windows(3)
                    .rposition(|w| w == b"0\r\n")
                    .unwrap();
                let mut s = encoded[..tail_start].to_vec();
                s.extend_from_slice(&encoded_other[other_tail..]);
                s
            } else {
                encoded_other.clone()
            };
            let req = Request::from_parts(parts.clone(), framed(&spliced, 5000));
            let seen = Arc::new(Seen::default());
            let a = serve(layer(&verifier()), seen.clone(), req).await;
            if mode == StreamingMode::UnsignedTrailer {
                assert_s3_error(
                    &a,
                    400,
                    "BadDigest",
                    &format!(
                        "The {} you specified did not match the calculated checksum.",
                        algorithm.name()
                    ),
                );
                assert!(!seen.ended());
                assert!(seen.bytes().len() < 20_000, "the end was held back");
            } else {
                // `other` signed throughout: it is a valid upload of `other`.
                assert_passed(&a, &seen, &other);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn streaming_round_trips(
        len in 0usize..40_000,
        chunk in 8192usize..20_000,
        frame in 1usize..10_000,
        mode in 0usize..3,
        algorithm in 0usize..5,
    ) {
        let mode = [StreamingMode::Signed, StreamingMode::SignedTrailer, StreamingMode::UnsignedTrailer][mode];
        let mut upload = StreamingUpload::new(mode, len as u64).with_chunk_size(chunk);
        if mode != StreamingMode::Signed {
            upload = upload.with_checksum(ChecksumAlgorithm::ALL[algorithm]);
        }
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let body = payload(len);
            let (parts, encoded) = encode(upload, &body, frame).await;
            let req = Request::from_parts(parts, framed(&encoded, frame));
            let seen = Arc::new(Seen::default());
            let a = serve(layer(&verifier()), seen.clone(), req).await;
            assert_passed(&a, &seen, &body);
        });
    }
}
