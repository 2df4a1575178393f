//! Bodies: the size limit while streaming, malformed framing, and a body that must not be
//! read (or must not reach the upstream whole) before its signature and hash check out.

use super::*;

/// A gateway in front of a fresh upstream, with `[auth]` settings.
fn proxied(auth: &str) -> (Upstream, Gateway) {
    let up = Upstream::start();
    let gw = Gateway::start_with(&Cfg::new().auth(auth).render(), &["--upstream", &up.url()]);
    (up, gw)
}

/// Writes `head` on a new connection, then the body's `pieces` from another thread, `pause`
/// apart (errors ignored: the gateway may close first), while this one reads the response.
fn send_streaming(gw: &Gateway, head: &str, pieces: Vec<Vec<u8>>, pause: Duration) -> Reply {
    let mut stream = connect(gw.addr);
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        for piece in pieces {
            if writer.write_all(&piece).is_err() {
                return;
            }
            std::thread::sleep(pause);
        }
    });
    read_reply(&mut Wire::new(stream)).unwrap()
}

fn chunked(data: &[u8], size: usize) -> Vec<Vec<u8>> {
    let mut pieces: Vec<Vec<u8>> = data
        .chunks(size)
        .map(|c| {
            let mut piece = format!("{:x}\r\n", c.len()).into_bytes();
            piece.extend_from_slice(c);
            piece.extend_from_slice(b"\r\n");
            piece
        })
        .collect();
    pieces.push(b"0\r\n\r\n".to_vec());
    pieces
}

#[test]
fn declared_length_over_the_limit_is_refused_before_the_upstream() {
    let (up, gw) = proxied("max_body_bytes = 1000");
    let creds = alice();
    for cover in [Cover::Unsigned, Cover::Hash] {
        let raw = head(
            &gw,
            "PUT",
            "/upload",
            Some(Signing::new(&creds).cover(cover)),
            b"",
            &[("content-length", "1048576")],
        );
        let reply = raw_exchange(&gw, raw.as_bytes());
        assert_eq!(
            (reply.status, reply.text().as_str()),
            (413, "HTTP content length exceeded 1000 bytes."),
            "{reply:?}"
        );
        assert_eq!(reply.header("content-type"), Some("text/plain"));
    }
    up.assert_untouched();
}

#[test]
fn a_streamed_chunked_body_over_the_limit_is_cut_off_before_the_upstream_has_it() {
    let (up, gw) = proxied("max_body_bytes = 1000");
    let data = vec![b'a'; 2 * 1024 * 1024];
    let raw = head(
        &gw,
        "PUT",
        "/upload",
        Some(Signing::new(&alice()).cover(Cover::Unsigned)),
        b"",
        &[("transfer-encoding", "chunked")],
    );
    let reply = send_streaming(&gw, &raw, chunked(&data, 400), Duration::ZERO);
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (413, "HTTP content length exceeded 1000 bytes."),
        "{reply:?}"
    );
    for seen in up.settled() {
        assert!(!seen.complete, "the upstream got the whole body");
        assert!(seen.body.len() <= 1000, "{} bytes passed", seen.body.len());
    }

    // The control: a chunked body within the limit arrives whole.
    let reply = send_streaming(&gw, &raw, chunked(&[b'b'; 900], 300), Duration::ZERO);
    assert_eq!(reply.status, 200, "{reply:?}");
    let seen = up.settled();
    let last = seen.last().unwrap();
    assert!(last.complete);
    assert_eq!(last.body, vec![b'b'; 900]);
}

#[test]
fn bad_chunked_framing_is_a_400_not_a_502() {
    let (up, gw) = proxied("");
    let creds = alice();
    for cover in [Cover::Unsigned, Cover::Hash] {
        let raw = head(
            &gw,
            "POST",
            "/items",
            Some(Signing::new(&creds).cover(cover)),
            b"hello",
            &[("transfer-encoding", "chunked")],
        );
        let reply = send_streaming(
            &gw,
            &raw,
            vec![b"zz\r\nhello\r\n0\r\n\r\n".to_vec()],
            Duration::ZERO,
        );
        reply.assert_rejection(400, "BadRequestException", INVALID_BODY);
    }
    assert!(up.settled().iter().all(|s| !s.complete));
}

#[test]
fn a_body_shorter_than_its_length_is_a_400_not_a_502() {
    let (up, gw) = proxied("");
    let creds = alice();
    for cover in [Cover::Unsigned, Cover::Hash] {
        let raw = head(
            &gw,
            "POST",
            "/items",
            Some(Signing::new(&creds).cover(cover)),
            &[b'x'; 100],
            &[("content-length", "100")],
        );
        let mut stream = connect(gw.addr);
        stream.write_all(raw.as_bytes()).unwrap();
        stream.write_all(&[b'x'; 10]).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let reply = read_reply(&mut Wire::new(stream)).unwrap();
        reply.assert_rejection(400, "BadRequestException", INVALID_BODY);
    }
    assert!(up.settled().iter().all(|s| !s.complete));
}

#[test]
fn a_declared_hash_is_answered_before_the_body_is_read() {
    let (up, gw) = proxied("");
    let wrong = Credentials::new(KEY, "not-the-secret");
    let hash = sha256_hex(b"whatever");
    let raw = head(
        &gw,
        "PUT",
        "/upload",
        Some(Signing::new(&wrong).cover(Cover::Declared(&hash))),
        b"",
        &[("content-length", "5000000")],
    );
    let started = Instant::now();
    // Only the head: the answer must not wait for 5 MB that never come.
    let reply = raw_exchange(&gw, raw.as_bytes());
    assert!(started.elapsed() < Duration::from_secs(2));
    reply.assert_rejection(403, "InvalidSignatureException", SIGNATURE_MISMATCH);

    // With `Expect: 100-continue`: the answer is the 403, never an invitation to send.
    let raw = head(
        &gw,
        "PUT",
        "/upload",
        Some(Signing::new(&wrong).cover(Cover::Declared(&hash))),
        b"",
        &[("content-length", "5000000"), ("expect", "100-continue")],
    );
    let started = Instant::now();
    let reply = raw_exchange(&gw, raw.as_bytes());
    assert!(started.elapsed() < Duration::from_secs(2));
    reply.assert_rejection(403, "InvalidSignatureException", SIGNATURE_MISMATCH);
    up.assert_untouched();
}

#[test]
fn a_body_that_does_not_match_its_signed_hash_never_reaches_the_upstream_whole() {
    let (up, gw) = proxied("");
    let creds = alice();
    let first = vec![b'1'; 64 * 1024];
    let second = vec![b'2'; 64 * 1024];
    let body = [first.clone(), second.clone()].concat();
    let other = sha256_hex(b"something else");
    let length = body.len().to_string();
    for declared in [other.as_str(), &sha256_hex(&body)] {
        let raw = head(
            &gw,
            "PUT",
            "/upload",
            Some(Signing::new(&creds).cover(Cover::Declared(declared))),
            b"",
            &[("content-length", &length)],
        );
        let reply = send_streaming(
            &gw,
            &raw,
            vec![first.clone(), second.clone()],
            Duration::from_millis(300),
        );
        let seen = up.settled();
        if declared == other {
            reply.assert_rejection(403, "InvalidSignatureException", PAYLOAD_HASH_MISMATCH);
            for s in &seen {
                assert!(!s.complete, "the upstream got the whole body");
                assert!(s.body.len() < body.len());
            }
        } else {
            // The control: the right hash streams through.
            assert_eq!(reply.status, 200, "{reply:?}");
            let last = seen.last().unwrap();
            assert!(last.complete);
            assert_eq!(last.body, body);
        }
    }
}

#[test]
fn a_smuggled_second_request_is_never_forwarded() {
    let (up, gw) = proxied("");
    // Content-Length and Transfer-Encoding both: hyper reads the chunked framing (which ends
    // at once), answers, and closes the connection, so the rest is never read as a request.
    let smuggled = "GET /admin HTTP/1.1\r\nHost: upstream\r\n\r\n";
    let chunk = format!("0\r\n\r\n{smuggled}");
    let raw = head(
        &gw,
        "POST",
        "/items",
        Some(Signing::new(&alice()).cover(Cover::Unsigned)),
        b"",
        &[
            ("content-length", &chunk.len().to_string()),
            ("transfer-encoding", "chunked"),
        ],
    );
    let mut stream = connect(gw.addr);
    stream.write_all(raw.as_bytes()).unwrap();
    stream.write_all(chunk.as_bytes()).unwrap();
    let mut wire = Wire::new(stream);
    let reply = read_reply(&mut wire).unwrap();
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (200, "upstream saw /items")
    );
    assert_eq!(reply.header("connection"), Some("close"), "{reply:?}");
    assert_eq!(wire.head().unwrap(), None, "a second response");
    let seen = up.settled();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].request_line, "POST /items HTTP/1.1");
    assert!(seen[0].complete && seen[0].body.is_empty(), "{seen:?}");
    assert_eq!(seen[0].header("content-length"), None, "{seen:?}");
}

#[test]
fn the_buffer_budget_answers_503_and_is_given_back() {
    let gw = Gateway::start(
        &Cfg::new()
            .auth("max_body_bytes = 1000000")
            .limits("buffer_budget_bytes = 1000000")
            .render(),
    );
    // A client that knows only an access key id declares a body as large as the whole budget
    // (the signature covers its hash, so it must be buffered). Declaring holds nothing: with
    // one byte sent, others still get through.
    let wrong = Credentials::new(KEY, "not-the-secret");
    let raw = head(
        &gw,
        "POST",
        "/items",
        Some(Signing::new(&wrong)),
        b"never sent",
        &[("content-length", "1000000")],
    );
    let mut hog = connect(gw.addr);
    hog.write_all(raw.as_bytes()).unwrap();
    hog.write_all(b"x").unwrap();
    let creds = alice();
    let hashed = exchange(
        &gw,
        "POST",
        "/items",
        Some(Signing::new(&creds).cover(Cover::Hash)),
        b"hello",
        &[],
    );
    assert_eq!(hashed.status, 200, "{hashed:?}");
    // The bytes it sends are held: with all but 4 of the budget sent, a 5-byte body waits.
    hog.write_all(&vec![b'x'; 999_995]).unwrap();
    let post = |cover| {
        exchange(
            &gw,
            "POST",
            "/items",
            Some(Signing::new(&creds).cover(cover)),
            b"hello",
            &[],
        )
    };
    let reply = wait_for("the budget to run out", Duration::from_secs(5), || {
        let reply = post(Cover::Hash);
        (reply.status == 503).then_some(reply)
    });
    reply.assert_rejection(
        503,
        "ServiceUnavailableException",
        r#"{"message":"Service Unavailable"}"#,
    );
    assert_eq!(reply.header("retry-after"), Some("1"), "{reply:?}");
    // A streamed body needs no budget.
    assert_eq!(post(Cover::Unsigned).status, 200);
    // The budget comes back when the hog goes.
    drop(hog);
    let reply = wait_for("the budget to come back", Duration::from_secs(5), || {
        let reply = post(Cover::Hash);
        (reply.status == 200).then_some(reply)
    });
    assert_eq!(reply.status, 200);
}
