//! Memory stays constant whatever the object size: 256 MiB streamed through the layer in the S3
//! profile (signed chunks, generated as they are sent and drained as they arrive) raise the
//! process's peak resident set by less than 8 MiB. Its own test binary, so that no other test's
//! allocations move the peak.
#![cfg(all(feature = "s3", feature = "tokio", target_os = "linux"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Request;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
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

/// `len` bytes of a pattern, made 64 KiB at a time as they are read.
struct Generated {
    left: u64,
    block: Bytes,
}

impl Body for Generated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(None);
        }
        let n = this.left.min(this.block.len() as u64) as usize;
        this.left -= n as u64;
        // A fresh allocation per frame, as a network read makes.
        Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(
            &this.block[..n],
        )))))
    }
}

/// The peak resident set size of this process, in KiB (`VmHWM`).
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn stream(len: u64, mode: StreamingMode) -> u64 {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
    let signer = Signer::new(Credentials::new(AKID, SECRET), "us-east-1", "s3")
        .with_settings(SigningSettings::s3());
    let mut upload = StreamingUpload::new(mode, len).with_chunk_size(64 << 10);
    if mode != StreamingMode::Signed {
        upload = upload.with_checksum(ChecksumAlgorithm::Crc32c);
    }
    let (mut parts, ()) = Request::put("http://s3.local/b/k")
        .header("host", "s3.local")
        .body(())
        .unwrap()
        .into_parts();
    let encoder = signer.sign_streaming(&mut parts, &upload, now).unwrap();
    let block = Bytes::from((0..65536u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let body = encoder.encode(Generated { left: len, block });
    let keys = StaticKeys::new().with_key(
        AKID,
        SECRET,
        Principal::user("arn:aws:iam::123456789012:user/m", "AIDAM"),
    );
    let verifier = Verifier::new(VerifierConfig::new("us-east-1", "s3"), keys).unwrap();
    let svc = VerifySigV4Layer::new(verifier)
        .with_clock(FixedClock::new(now))
        .layer(service_fn(
            |req: Request<RequestBody<tower_sigv4::sign::AwsChunkedBody<Generated>>>| async move {
                let mut body = std::pin::pin!(req.into_body());
                let mut n = 0u64;
                while let Some(frame) = body.frame().await {
                    n += frame.unwrap().into_data().map_or(0, |d| d.len() as u64);
                }
                Ok::<_, Infallible>(http::Response::new(http_body_util::Full::new(Bytes::from(
                    n.to_string(),
                ))))
            },
        ));
    let res = svc.oneshot(Request::from_parts(parts, body)).await.unwrap();
    assert_eq!(res.status(), 200);
    let got = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(got.to_vec()).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn streaming_256_mib_keeps_memory_flat() {
    // Warm up: allocator arenas, the runtime, the key cache.
    for mode in [StreamingMode::Signed, StreamingMode::UnsignedTrailer] {
        assert_eq!(stream(4 << 20, mode).await, 4 << 20);
    }
    let before = peak_kib();
    for mode in [
        StreamingMode::Signed,
        StreamingMode::SignedTrailer,
        StreamingMode::UnsignedTrailer,
    ] {
        assert_eq!(stream(256 << 20, mode).await, 256 << 20);
    }
    let after = peak_kib();
    let grown = after.saturating_sub(before);
    println!("peak RSS {before} KiB -> {after} KiB (+{grown} KiB) over 3 x 256 MiB");
    assert!(grown < 8 * 1024, "peak RSS grew by {grown} KiB");
}
