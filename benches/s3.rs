//! The S3 profile's streaming uploads through the layer, against the physical floor in the same
//! run:
//!
//! * `signed-64KiB-chunks`: a 64 MiB `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` upload in 64 KiB
//!   chunks (every chunk's SHA-256 and HMAC verified, the decoded bytes handed to the inner
//!   service), next to `sha256`, one SHA-256 over the same 64 MiB — the work no verifier of
//!   signed chunks can skip. Target: within 1.15× of it.
//! * `unsigned-trailer-crc32c`: a 64 MiB `STREAMING-UNSIGNED-PAYLOAD-TRAILER` upload with a
//!   CRC32C trailer in 1 MiB chunks (botocore's size) and in 64 KiB chunks, next to `crc32c`,
//!   the bare checksum over the same bytes. Target: 1.5 GB/s or more.
//!
//! The encoded body arrives in 64 KiB frames (slices of one buffer: no copy is timed that a
//! network read would not make), through `VerifySigV4Layer` (key cached, fixed clock) into a
//! service that drains it. Throughput is of the decoded payload.
//!
//! ```text
//! cargo bench --bench s3 --features s3,tokio -- --warm-up-time 1 --measurement-time 5
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::convert::Infallible;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http::Request;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use tower::{service_fn, Layer, ServiceExt};
use tower_sigv4::s3::{ChecksumAlgorithm, StreamingMode};
use tower_sigv4::sign::StreamingUpload;
use tower_sigv4::verify::RequestBody;
use tower_sigv4::{
    Credentials, FixedClock, Principal, Signer, SigningSettings, StaticKeys, Verifier,
    VerifierConfig, VerifySigV4Layer,
};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SIZE: usize = 64 << 20;
const FRAME: usize = 64 << 10;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600)
}

/// Pre-cut frames, handed out in order.
struct Frames(std::vec::IntoIter<Bytes>);

impl Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().0.next().map(|b| Ok(Frame::data(b))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// The signed head and the encoded body (cut into 64 KiB frames) of an upload of `payload`.
fn upload(
    mode: StreamingMode,
    chunk: usize,
    checksum: Option<ChecksumAlgorithm>,
    payload: &Bytes,
) -> (http::request::Parts, Vec<Bytes>) {
    let signer = Signer::new(Credentials::new(AKID, SECRET), "us-east-1", "s3")
        .with_settings(SigningSettings::s3());
    let mut up = StreamingUpload::new(mode, payload.len() as u64).with_chunk_size(chunk);
    if let Some(c) = checksum {
        up = up.with_checksum(c);
    }
    let (mut parts, ()) = Request::put("http://s3.local/bench/object")
        .header("host", "s3.local")
        .body(())
        .unwrap()
        .into_parts();
    let encoder = signer.sign_streaming(&mut parts, &up, now()).unwrap();
    let frames: Vec<Bytes> = payload
        .chunks(FRAME)
        .map(|c| payload.slice_ref(c))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let encoded = rt
        .block_on(encoder.encode(Frames(frames.into_iter())).collect())
        .unwrap()
        .to_bytes();
    let frames = encoded
        .chunks(FRAME)
        .map(|c| encoded.slice_ref(c))
        .collect();
    (parts, frames)
}

fn bench(c: &mut Criterion) {
    let payload = Bytes::from(
        (0..SIZE)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    );
    let keys = StaticKeys::new().with_key(
        AKID,
        SECRET,
        Principal::user("arn:aws:iam::123456789012:user/bench", "AIDABENCH"),
    );
    let verifier = Verifier::new(VerifierConfig::new("us-east-1", "s3"), keys).unwrap();
    let layer = VerifySigV4Layer::new(verifier).with_clock(FixedClock::new(now()));
    let svc = layer.layer(service_fn(|req: Request<RequestBody<Frames>>| async move {
        let mut body = std::pin::pin!(req.into_body());
        let mut n = 0usize;
        while let Some(frame) = body.frame().await {
            n += frame.unwrap().into_data().map_or(0, |d| d.len());
        }
        Ok::<_, Infallible>(http::Response::new(http_body_util::Full::new(Bytes::from(
            n.to_string(),
        ))))
    }));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let run = |parts: &http::request::Parts, frames: &Vec<Bytes>| {
        let req = Request::from_parts(parts.clone(), Frames(frames.clone().into_iter()));
        let res = rt.block_on(svc.clone().oneshot(req)).unwrap();
        assert_eq!(res.status(), 200);
        res
    };

    // Checked once before timing: the inner service received every byte.
    let signed = upload(StreamingMode::Signed, 64 << 10, None, &payload);
    let check =
        |res: http::Response<tower_sigv4::verify::ResponseBody<http_body_util::Full<Bytes>>>| {
            let body = rt.block_on(res.into_body().collect()).unwrap().to_bytes();
            assert_eq!(body, SIZE.to_string());
        };
    check(run(&signed.0, &signed.1));

    let mut g = c.benchmark_group("s3/signed-64KiB-chunks");
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.sample_size(20);
    g.bench_function("verify/ours", |b| {
        b.iter(|| black_box(run(&signed.0, &signed.1)))
    });
    g.bench_function("sha256", |b| {
        b.iter(|| black_box(Sha256::digest(black_box(&payload[..]))))
    });
    g.finish();

    let mut g = c.benchmark_group("s3/unsigned-trailer-crc32c");
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.sample_size(20);
    for chunk in [1 << 20, 64 << 10] {
        let unsigned = upload(
            StreamingMode::UnsignedTrailer,
            chunk,
            Some(ChecksumAlgorithm::Crc32c),
            &payload,
        );
        check(run(&unsigned.0, &unsigned.1));
        g.bench_function(format!("decode/{}KiB-chunks", chunk >> 10), |b| {
            b.iter(|| black_box(run(&unsigned.0, &unsigned.1)))
        });
    }
    g.bench_function("crc32c", |b| {
        b.iter(|| {
            black_box(crc_fast::checksum(
                crc_fast::CrcAlgorithm::Crc32Iscsi,
                black_box(&payload[..]),
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
