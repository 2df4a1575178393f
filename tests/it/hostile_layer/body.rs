//! Bodies: never read before a declared-hash signature is proven, hashed as they stream,
//! deadlines, the buffer budget, the size limit while streaming, malformed framing.

use std::time::Instant;

use http::HeaderValue;
use tower_sigv4::{BodyLimits, BufferBudget, RejectionKind};

/// The hex SHA-256 of a body (what `x-amz-content-sha256` carries).
fn payload_hash(body: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(body))
}

use super::*;

/// A POST whose signed `x-amz-content-sha256` declares the hash of `declared`.
fn declaring(declared: &[u8]) -> Req {
    Req::post("/upload").signed("x-amz-content-sha256", payload_hash(declared))
}

fn limits() -> BodyLimits {
    BodyLimits::default().with_buffer_budget(BufferBudget::new(1 << 20))
}

#[tokio::test]
async fn a_wrong_signature_is_answered_before_a_declared_body_is_polled() {
    let v = verifier(config());
    let (body, _tx) = TestBody::channel();
    let probe = body.probe();
    // A placeholder signature, 5 MB declared.
    let req = declaring(&[b'x'; 16])
        .unsigned("content-length", "5000000")
        .build(body);
    let seen = Seen::new();
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#,
    );
    assert_eq!((probe.polls(), probe.bytes()), (0, 0));
    assert_eq!(seen.calls(), 0);
}

#[tokio::test]
async fn a_declared_body_streams_to_the_inner_service_with_its_trailers() {
    let v = verifier(config());
    let whole = b"first-second-third";
    let (body, tx) = TestBody::channel();
    let req = declaring(whole).sign(&v, whole, body);
    let seen = Seen::new();
    let mut arrived = seen.notify_frames();
    let driver = async {
        tx.send(data(b"first-")).unwrap();
        tx.send(data(b"second-")).unwrap();
        // The inner service holds the first frame while the last one is not yet sent.
        assert_eq!(arrived.recv().await.unwrap(), "first-");
        let mut trailers = HeaderMap::new();
        trailers.insert("x-checksum", HeaderValue::from_static("done"));
        tx.send(data(b"third")).unwrap();
        tx.send(Ok(Frame::trailers(trailers))).unwrap();
        drop(tx);
    };
    let (a, ()) = tokio::join!(serve(layer(&v), seen.clone(), req), driver);
    assert_passed(&a, &seen);
    assert_eq!(seen.bytes(), whole);
    assert_eq!(seen.error(), None);
    assert_eq!(seen.trailers().unwrap()["x-checksum"], "done");
}

#[tokio::test]
async fn a_buffered_body_keeps_its_trailers() {
    // No x-amz-content-sha256: the signature covers the body's hash, so the body is read whole
    // first; its trailers (gRPC's, say) still reach the inner service, after the bytes.
    let v = verifier(config());
    let whole = b"first-second";
    let (body, tx) = TestBody::channel();
    let req = Req::post("/upload").sign(&v, whole, body);
    tx.send(data(b"first-")).unwrap();
    tx.send(data(b"second")).unwrap();
    let mut trailers = HeaderMap::new();
    trailers.insert("x-checksum", HeaderValue::from_static("done"));
    tx.send(Ok(Frame::trailers(trailers))).unwrap();
    drop(tx);
    let seen = Seen::new();
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_passed(&a, &seen);
    assert_eq!(seen.frames(), ["first-second"]);
    assert_eq!(seen.error(), None);
    assert_eq!(seen.trailers().unwrap()["x-checksum"], "done");
}

#[tokio::test]
async fn a_body_that_does_not_match_its_hash_fails_before_its_last_frame() {
    let v = verifier(config());
    let (body, tx) = TestBody::channel();
    let req = declaring(b"one-two-three").sign(&v, b"one-two-three", body);
    tx.send(data(b"one-")).unwrap();
    tx.send(data(b"two-")).unwrap();
    tx.send(data(b"FOUR")).unwrap();
    drop(tx);
    let seen = Seen::new();
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_eq!(seen.calls(), 1);
    assert_eq!(seen.frames(), ["one-", "two-"]);
    assert_eq!(seen.error(), Some(BodyErrorKind::PayloadHashMismatch));
    // The inner service answered 502; the client gets the reason.
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        r#"{"message":"The provided 'x-amz-content-sha256' header does not match what was computed."}"#,
    );
    assert_eq!(
        a.rejection.unwrap().kind(),
        RejectionKind::PayloadHashMismatch
    );
}

#[tokio::test]
async fn a_single_frame_that_does_not_match_is_never_delivered() {
    let v = verifier(config());
    let req = declaring(b"expected").sign(&v, b"expected", TestBody::full("tampered"));
    let seen = Seen::new();
    let a = serve(layer(&v), seen.clone(), req).await;
    assert!(seen.frames().is_empty());
    assert_eq!(seen.error(), Some(BodyErrorKind::PayloadHashMismatch));
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        r#"{"message":"The provided 'x-amz-content-sha256' header does not match what was computed."}"#,
    );
}

#[tokio::test]
async fn an_unsigned_content_sha256_never_replaces_the_body_hash() {
    let v = verifier(config());
    // Left out of SignedHeaders, `UNSIGNED-PAYLOAD` does not stop the body being hashed.
    let unsigned = Req::post("/upload").unsigned("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    let seen = Seen::new();
    let req = unsigned.sign(&v, b"hello", TestBody::full("hello"));
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_passed(&a, &seen);
    assert_eq!(seen.bytes(), b"hello");
    // Another body under the same signature: a mismatch, the inner service never called.
    let seen = Seen::new();
    let req = unsigned.sign(&v, b"hello", TestBody::full("HELLO"));
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#,
    );
    assert_eq!(seen.calls(), 0);
    // An unsigned header declaring the signed body's hash does not make a tampered body
    // stream to the inner service: it is read whole and the signature fails on it.
    let seen = Seen::new();
    let req = Req::post("/upload")
        .unsigned("x-amz-content-sha256", payload_hash(b"hello"))
        .sign(&v, b"hello", TestBody::full("HELLO"));
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_rejected(
        &a,
        403,
        "InvalidSignatureException",
        r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#,
    );
    assert_eq!(seen.calls(), 0);
}

// ---------------------------------------------------------------------------------------------
// Deadlines. Tokio's real timer (the default) with a short idle timeout.

fn short_idle() -> BodyLimits {
    limits()
        .with_idle_timeout(Duration::from_millis(200))
        .with_total_timeout(Duration::from_secs(20))
}

#[track_caller]
fn assert_timed_out(a: &Answer) {
    assert_rejected(
        a,
        408,
        "RequestTimeoutException",
        r#"{"message":"Request Timeout"}"#,
    );
    assert_eq!(a.header("connection"), Some("close"));
}

#[tokio::test]
async fn a_stalled_buffered_body_times_out() {
    let v = verifier(config());
    let (body, tx) = TestBody::channel();
    tx.send(data(b"some")).unwrap();
    // No x-amz-content-sha256: the signature covers the body's hash, read whole first.
    let req = Req::post("/upload").build(body);
    let seen = Seen::new();
    let started = Instant::now();
    let a = serve(layer(&v).with_body_limits(short_idle()), seen.clone(), req).await;
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_timed_out(&a);
    assert_eq!(seen.calls(), 0);
    drop(tx);
}

#[tokio::test]
async fn a_stalled_streamed_body_times_out() {
    let v = verifier(config());
    let (body, tx) = TestBody::channel();
    tx.send(data(b"some")).unwrap();
    let req = Req::post("/upload").unsigned_payload().sign(&v, b"", body);
    let seen = Seen::new();
    let started = Instant::now();
    let a = serve(layer(&v).with_body_limits(short_idle()), seen.clone(), req).await;
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(seen.frames(), ["some"]);
    assert_eq!(seen.error(), Some(BodyErrorKind::TimedOut));
    assert_timed_out(&a);
    drop(tx);
}

#[tokio::test]
async fn a_body_trickling_a_byte_every_20_s_hits_the_total_deadline() {
    // The default limits (idle 30 s, total 60 s) on a manual timer.
    let timer = ManualTimer::new();
    let v = verifier(config());
    let body = TestBody::trickle(&timer, Duration::from_secs(20));
    let req = Req::post("/upload").unsigned_payload().sign(&v, b"", body);
    let seen = Seen::new();
    *seen.timer.lock().unwrap() = Some(timer.clone());
    let started = seen.started();
    let layer = layer(&v)
        .with_body_limits(limits())
        .with_timer(timer.clone());
    let driver = async {
        started.await.unwrap();
        // A second at a time, each step polled before the next.
        for _ in 0..600 {
            timer.advance(Duration::from_secs(1));
            tokio::task::yield_now().await;
            if seen.error().is_some() {
                break;
            }
        }
    };
    let (a, ()) = tokio::join!(serve(layer, seen.clone(), req), driver);
    assert_eq!(seen.error(), Some(BodyErrorKind::TimedOut));
    assert_eq!(
        *seen.error_at.lock().unwrap(),
        Some(Duration::from_secs(60))
    );
    // Bytes at 20, 40 and 60 s: never idle for 30 s.
    assert_eq!(seen.bytes(), b"ttt");
    assert_timed_out(&a);
}

#[tokio::test]
async fn the_idle_deadline_moves_with_each_piece_on_a_manual_timer() {
    let timer = ManualTimer::new();
    let v = verifier(config());
    // A byte at 20 s, then nothing: idle from 20 s, so the deadline is 50 s.
    let (body, tx) = TestBody::channel();
    let req = Req::post("/upload").unsigned_payload().sign(&v, b"", body);
    let seen = Seen::new();
    *seen.timer.lock().unwrap() = Some(timer.clone());
    let started = seen.started();
    let layer = layer(&v)
        .with_body_limits(limits())
        .with_timer(timer.clone());
    let driver = async {
        started.await.unwrap();
        for second in 1..=600 {
            timer.advance(Duration::from_secs(1));
            if second == 20 {
                tx.send(data(b"x")).unwrap();
            }
            tokio::task::yield_now().await;
            if seen.error().is_some() {
                break;
            }
        }
    };
    let (a, ()) = tokio::join!(serve(layer, seen.clone(), req), driver);
    assert_eq!(
        *seen.error_at.lock().unwrap(),
        Some(Duration::from_secs(50))
    );
    assert_eq!(seen.bytes(), b"x");
    assert_timed_out(&a);
}

#[tokio::test]
async fn a_timeout_too_long_for_the_clock_never_fires() {
    let timer = ManualTimer::new();
    let v = verifier(config());
    let (body, tx) = TestBody::channel();
    let req = Req::post("/upload").unsigned_payload().sign(&v, b"", body);
    let seen = Seen::new();
    *seen.timer.lock().unwrap() = Some(timer.clone());
    let started = seen.started();
    let limits = limits().with_total_timeout(Duration::MAX);
    let layer = layer(&v).with_body_limits(limits).with_timer(timer.clone());
    let driver = async {
        started.await.unwrap();
        tokio::task::yield_now().await;
        timer.advance(Duration::from_secs(1));
        // (The body is gone already when the bug is there.)
        let _ = tx.send(data(b"late"));
        drop(tx);
    };
    let (a, ()) = tokio::join!(serve(layer, seen.clone(), req), driver);
    assert_eq!(seen.error(), None);
    assert_eq!(seen.bytes(), b"late");
    assert_passed(&a, &seen);
}

// ---------------------------------------------------------------------------------------------
// The buffer budget.

#[tokio::test]
async fn the_budget_refuses_a_second_buffered_body_without_reading_it() {
    let v = verifier(config());
    let budget = BufferBudget::new(1000);
    let layer =
        layer(&v).with_body_limits(BodyLimits::default().with_buffer_budget(budget.clone()));
    let whole = [b'a'; 600];

    // The first request declares 600 bytes: declaring holds nothing (a client that knows only
    // an access key id must not pin the budget), the bytes it sends do.
    let (first_body, first_tx) = TestBody::channel();
    let first_polled = first_body.probe().first_poll();
    let first = Req::post("/upload")
        .unsigned("content-length", "600")
        .sign(&v, &whole, first_body);
    let first_seen = Seen::new();
    let first = tokio::spawn(serve(layer.clone(), first_seen.clone(), first));
    first_polled.await.unwrap();
    assert_eq!(budget.in_use(), 0);
    first_tx
        .send(Ok(Frame::data(Bytes::from_static(&[b'a'; 300]))))
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while budget.in_use() != 300 {
        assert!(
            std::time::Instant::now() < deadline,
            "in use: {}",
            budget.in_use()
        );
        tokio::task::yield_now().await;
    }

    // The second one declares 800 while 700 are left: 503, its body never polled.
    let larger = [b'b'; 800];
    let second_body = TestBody::full(larger.to_vec());
    let second_probe = second_body.probe();
    let second =
        Req::post("/upload")
            .unsigned("content-length", "800")
            .sign(&v, &larger, second_body);
    let second_seen = Seen::new();
    let a = serve(layer.clone(), second_seen.clone(), second).await;
    assert_rejected(
        &a,
        503,
        "ServiceUnavailableException",
        r#"{"message":"Service Unavailable"}"#,
    );
    assert_eq!(a.header("retry-after"), Some("1"));
    assert_eq!(second_probe.polls(), 0);
    assert_eq!(second_seen.calls(), 0);

    first_tx
        .send(Ok(Frame::data(Bytes::from_static(&[b'a'; 300]))))
        .unwrap();
    drop(first_tx);
    let a = first.await.unwrap();
    assert_passed(&a, &first_seen);
    assert_eq!(first_seen.bytes(), whole);
    assert_eq!(budget.in_use(), 0);

    // Room again.
    let third = Req::post("/upload").unsigned("content-length", "600").sign(
        &v,
        &whole,
        TestBody::full(whole.to_vec()),
    );
    let third_seen = Seen::new();
    let a = serve(layer, third_seen.clone(), third).await;
    assert_passed(&a, &third_seen);
    assert_eq!(budget.in_use(), 0);
}

#[tokio::test]
async fn a_client_gone_while_its_body_is_buffered_gives_its_bytes_back() {
    let v = verifier(config());
    let budget = BufferBudget::new(1000);
    let layer =
        layer(&v).with_body_limits(BodyLimits::default().with_buffer_budget(budget.clone()));
    let (body, tx) = TestBody::channel();
    let polled = body.probe().first_poll();
    tx.send(data(b"partial")).unwrap();
    let req = Req::post("/upload")
        .unsigned("content-length", "600")
        .build(body);
    let seen = Seen::new();
    let task = tokio::spawn(serve(layer, seen.clone(), req));
    polled.await.unwrap();
    // The 7 bytes received are held (not the 600 declared).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while budget.in_use() != 7 {
        assert!(
            std::time::Instant::now() < deadline,
            "in use: {}",
            budget.in_use()
        );
        tokio::task::yield_now().await;
    }
    task.abort();
    assert!(task.await.is_err_and(|e| e.is_cancelled()));
    assert_eq!(budget.in_use(), 0);
    assert_eq!(seen.calls(), 0);
    drop(tx);
}

#[tokio::test]
async fn the_budget_also_stops_a_body_that_declares_no_length() {
    let v = verifier(config());
    let budget = BufferBudget::new(1000);
    let (body, tx) = TestBody::channel();
    for _ in 0..3 {
        tx.send(Ok(Frame::data(Bytes::from_static(&[b'z'; 400]))))
            .unwrap();
    }
    drop(tx);
    let req = Req::post("/upload").build(body);
    let seen = Seen::new();
    let layer =
        layer(&v).with_body_limits(BodyLimits::default().with_buffer_budget(budget.clone()));
    let a = serve(layer, seen.clone(), req).await;
    assert_rejected(
        &a,
        503,
        "ServiceUnavailableException",
        r#"{"message":"Service Unavailable"}"#,
    );
    assert_eq!(a.header("retry-after"), Some("1"));
    assert_eq!(seen.calls(), 0);
    assert_eq!(budget.in_use(), 0);
}

// ---------------------------------------------------------------------------------------------
// The size limit while streaming.

#[track_caller]
fn assert_too_large(a: &Answer) {
    assert_eq!(a.status, 413, "body: {}", a.body);
    assert_eq!(a.header("content-type"), Some("text/plain"));
    assert_eq!(a.body, "HTTP content length exceeded 1000 bytes.");
    assert_eq!(
        a.rejection.as_ref().unwrap().kind(),
        RejectionKind::BodyTooLarge
    );
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_the_inner_service() {
    let v = verifier(config().with_max_body_bytes(1000));
    let (body, _tx) = TestBody::channel();
    let probe = body.probe();
    let req = Req::post("/upload")
        .unsigned_payload()
        .unsigned("content-length", "1001")
        .sign(&v, b"", body);
    let seen = Seen::new();
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_too_large(&a);
    assert_eq!(probe.polls(), 0);
    assert_eq!(seen.calls(), 0);
}

#[tokio::test]
async fn an_undeclared_stream_is_cut_at_the_limit() {
    let v = verifier(config().with_max_body_bytes(1000));
    let (body, tx) = TestBody::channel();
    for _ in 0..4 {
        tx.send(Ok(Frame::data(Bytes::from_static(&[b'q'; 500]))))
            .unwrap();
    }
    drop(tx);
    let req = Req::post("/upload").unsigned_payload().sign(&v, b"", body);
    let seen = Seen::new();
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_eq!(seen.calls(), 1);
    assert!(seen.bytes().len() <= 1000, "{}", seen.bytes().len());
    assert_eq!(seen.bytes().len(), 1000);
    assert_eq!(seen.error(), Some(BodyErrorKind::TooLarge));
    assert_too_large(&a);
}

// ---------------------------------------------------------------------------------------------
// Malformed bodies.

fn broken_body() -> TestBody {
    let (body, tx) = TestBody::channel();
    tx.send(data(b"abc")).unwrap();
    tx.send(Err(io::Error::other("invalid chunk size line")))
        .unwrap();
    body
}

#[tokio::test]
async fn a_malformed_buffered_body_is_400() {
    let v = verifier(config());
    let seen = Seen::new();
    let a = serve(
        layer(&v),
        seen.clone(),
        Req::post("/upload").build(broken_body()),
    )
    .await;
    assert_rejected(
        &a,
        400,
        "BadRequestException",
        r#"{"message":"Invalid request body"}"#,
    );
    assert_eq!(seen.calls(), 0);
}

#[tokio::test]
async fn a_malformed_streamed_body_is_400() {
    let v = verifier(config());
    let seen = Seen::new();
    let req = Req::post("/upload")
        .unsigned_payload()
        .sign(&v, b"", broken_body());
    let a = serve(layer(&v), seen.clone(), req).await;
    assert_eq!(seen.frames(), ["abc"]);
    assert_eq!(seen.error(), Some(BodyErrorKind::Malformed));
    assert_rejected(
        &a,
        400,
        "BadRequestException",
        r#"{"message":"Invalid request body"}"#,
    );

    // Hashed as it streams: the held frame is never delivered.
    let seen = Seen::new();
    let req = declaring(b"abcdef").sign(&v, b"abcdef", broken_body());
    let a = serve(layer(&v), seen.clone(), req).await;
    assert!(seen.frames().is_empty());
    assert_eq!(seen.error(), Some(BodyErrorKind::Malformed));
    assert_rejected(
        &a,
        400,
        "BadRequestException",
        r#"{"message":"Invalid request body"}"#,
    );
}
