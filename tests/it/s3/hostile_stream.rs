//! Hostile `aws-chunked` bodies (`s3.md` §2.3–§2.5), each sent whole, byte by byte and in odd
//! frames: bad line ends and sizes, truncation at every stage, chunk extensions, our limits,
//! small chunks, chunk signatures (reordered, upper-case, spliced from another upload), the
//! decoded length, and every trailer fault. The inner service never gets a byte of a chunk
//! that did not verify, never the end of a body that failed, and the body error it sees has
//! the fault's kind.

use tower_sigv4::verify::BodyErrorKind;
use tower_sigv4::{StreamingLimits, Verifier};

use super::harness::*;
use super::hostile_support::*;
use super::round_trip::payload;

const LEN: usize = 20_000;
/// `2000;chunk-signature=<64 hex>\r\n`: the signature at 21..85.
const LINE: usize = 87;
const TOO_LARGE: &str = "Chunk size exceeds the allowed maximum.";
const TERM: (u16, &str, &str) = (400, "IncompleteBody", TERMINATED);
const MISMATCH: (u16, &str, &str) = (403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH);
const SHORT: &str =
    "You did not provide the number of bytes specified by the Content-Length HTTP header";

/// A signed upload of `payload(LEN)` in chunks of 8192, 8192 and 3616 bytes: its head, and
/// its parts on the wire (the three data chunks, the last chunk's line, the final CRLF).
struct Upload {
    parts: http::request::Parts,
    payload: Vec<u8>,
    chunks: Vec<Vec<u8>>,
    last: Vec<u8>,
    chain: Chain,
}

impl Upload {
    fn new(mode: &str, headers: &[(&str, &str)]) -> Self {
        let payload = payload(LEN);
        let parts = streaming(mode, &LEN.to_string(), headers);
        let mut chain = Chain::of(&parts);
        let chunks = payload.chunks(8192).map(|c| chain.chunk(c)).collect();
        let last = chain.last();
        Self {
            parts,
            payload,
            chunks,
            last,
            chain,
        }
    }

    fn signed() -> Self {
        Self::new(SIGNED, &[])
    }

    /// The wire bytes: `chunks`, then `tail`.
    fn wire(&self, chunks: &[&[u8]], tail: &[u8]) -> Vec<u8> {
        let mut b: Vec<u8> = chunks.concat();
        b.extend_from_slice(tail);
        b
    }

    fn body(&self) -> Vec<u8> {
        let mut b = self.chunks.concat();
        b.extend_from_slice(&self.last);
        b.extend_from_slice(b"\r\n");
        b
    }

    fn head_for(&self, body: &[u8]) -> http::request::Parts {
        with_length(self.parts.clone(), body)
    }

    /// Asserts `body` is refused with `expected` and `elements`, the service's body ending
    /// with `kind`, no more than `verified` bytes released.
    async fn refused(
        &self,
        body: &[u8],
        expected: (u16, &str, &str),
        elements: &[(&str, &str)],
        kind: BodyErrorKind,
        verified: usize,
    ) {
        self.refused_by(&verifier(), body, expected, elements, kind, verified)
            .await;
    }

    #[allow(clippy::too_many_arguments)]
    async fn refused_by(
        &self,
        v: &Verifier,
        body: &[u8],
        expected: (u16, &str, &str),
        elements: &[(&str, &str)],
        kind: BodyErrorKind,
        verified: usize,
    ) {
        assert_body_rejected(
            v,
            &self.head_for(body),
            body,
            expected,
            elements,
            kind,
            &self.payload,
            verified,
        )
        .await;
    }
}

fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the pattern");
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&bytes[at + from.len()..]);
    out
}

#[tokio::test]
async fn the_upload_itself_passes() {
    let u = Upload::signed();
    assert_body_passes(&verifier(), &u.head_for(&u.body()), &u.body(), &u.payload).await;
    // The final CRLF may be missing; leading zeros and whitespace around `;` and `=` are fine.
    let body = u.wire(&[&u.chunks.concat(), &u.last], b"");
    assert_body_passes(&verifier(), &u.head_for(&body), &body, &u.payload).await;
    let body = replace_once(
        &u.body(),
        b"2000;chunk-signature=",
        b"0002000 ;\tchunk-signature = ",
    );
    assert_body_passes(&verifier(), &u.head_for(&body), &body, &u.payload).await;
    // Upper-case hex sizes (the Rust SDK's), and a last chunk of several zeros.
    let body = replace_once(&u.body(), b"e20;", b"E20;");
    let body = replace_once(&body, b"\r\n0;", b"\r\n000;");
    assert_body_passes(&verifier(), &u.head_for(&body), &body, &u.payload).await;
}

#[tokio::test]
async fn bad_line_ends_and_sizes() {
    let u = Upload::signed();
    let [c1, c2, c3] = [&u.chunks[0], &u.chunks[1], &u.chunks[2]];
    let tail = [u.last.as_slice(), b"\r\n"].concat();
    let bad_c1 = [
        // The size line ends in LF alone.
        replace_once(c1, b"\r\n", b"\n"),
        // The data is not followed by CRLF.
        [&c1[..c1.len() - 2], b"\n"].concat(),
        [&c1[..c1.len() - 2], b"XX"].concat(),
        [&c1[..c1.len() - 2], b"\n\r"].concat(),
        // Not hex, negative, prefixed, empty, spaced.
        replace_once(c1, b"2000;", b"2g00;"),
        replace_once(c1, b"2000;", b"-2000;"),
        replace_once(c1, b"2000;", b"0x2000;"),
        replace_once(c1, b"2000;", b";"),
        replace_once(c1, b"2000;", b" 2000;"),
        replace_once(c1, b"2000;", b"+2000;"),
    ];
    for c in bad_c1 {
        let body = u.wire(&[&c, c2, c3], &tail);
        u.refused(&body, TERM, &[], BodyErrorKind::Malformed, 0)
            .await;
    }
    // In the second chunk: the first was verified, and only it may have been released.
    for c in [
        replace_once(c2, b"\r\n", b"\n"),
        replace_once(c2, b"2000;", b"-2000;"),
    ] {
        let body = u.wire(&[c1, &c, c3], &tail);
        u.refused(&body, TERM, &[], BodyErrorKind::Malformed, 8192)
            .await;
    }
    // The last chunk's line.
    for last in [
        replace_once(&u.last, b"\r\n", b"\n"),
        replace_once(&u.last, b"0;", b"-0;"),
        replace_once(&u.last, b"0;", b"00x;"),
    ] {
        let body = u.wire(&[c1, c2, c3, &last], b"\r\n");
        u.refused(&body, TERM, &[], BodyErrorKind::Malformed, LEN - 1)
            .await;
    }
}

#[tokio::test]
async fn truncated_at_every_stage() {
    let u = Upload::signed();
    let body = u.body();
    let c1 = u.chunks[0].len();
    let c2 = c1 + u.chunks[1].len();
    let c3 = c2 + u.chunks[2].len();
    let line = LINE;
    let cases = [
        (0, 0),                       // nothing at all
        (3, 0),                       // in the first size line
        (line - 1, 0),                // before the size line's LF
        (line, 0),                    // after the size line
        (line + 100, 0),              // in the data
        (c1 - 2, 0),                  // before the data's CRLF
        (c1 - 1, 0),                  // between CR and LF
        (c1, 8192),                   // after the first chunk
        (c1 + 10, 8192),              // in the second size line
        (c2 + line + 5, 16_384),      // in the third chunk's data
        (c3, LEN),                    // before the last chunk
        (c3 + 5, LEN),                // in the last chunk's line
        (c3 + u.last.len() - 1, LEN), // before its LF
        (body.len() - 1, LEN),        // half the final CRLF
    ];
    for (cut, verified) in cases {
        u.refused(
            &body[..cut],
            TERM,
            &[],
            BodyErrorKind::Malformed,
            verified.min(LEN - 1),
        )
        .await;
    }
}

/// Every cut of a signed-trailer upload (the data sampled) is refused, but the one missing
/// only the final CRLF.
#[tokio::test]
async fn truncated_anywhere_with_a_trailer() {
    let u = Upload::new(SIGNED_TRAILER, &[("x-amz-trailer", "x-amz-checksum-crc32")]);
    let crc = tower_sigv4::s3::ChecksumAlgorithm::Crc32.checksum_of(&u.payload);
    let signature = u.chain.trailer("x-amz-checksum-crc32", &crc);
    let tail = format!("x-amz-checksum-crc32:{crc}\r\nx-amz-trailer-signature:{signature}\r\n\r\n");
    let body = u.wire(&[&u.chunks.concat(), &u.last], tail.as_bytes());
    assert_body_passes(&verifier(), &u.head_for(&body), &body, &u.payload).await;
    let v = verifier();
    let trailer_start = body.len() - tail.len();
    // Where each chunk's data lies on the wire: sampled inside, every byte near its ends.
    let mut data = Vec::new();
    let mut start = 0;
    for c in &u.chunks {
        let line = c.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
        data.push(start + line..start + c.len() - 2);
        start += c.len();
    }
    for cut in (0..body.len() - 2).chain([body.len() - 1]) {
        let inside = data.iter().any(|d| cut > d.start + 16 && cut + 16 < d.end);
        if inside && cut % 97 != 0 {
            continue;
        }
        let truncated = body[..cut].to_vec();
        let (a, seen) = send(&v, u.head_for(&truncated), truncated).await;
        let (code, message) = if cut == trailer_start {
            // Nothing after the last chunk: the declared trailer is missing.
            ("MalformedTrailerError", MALFORMED_TRAILER)
        } else {
            ("IncompleteBody", TERMINATED)
        };
        assert_eq!(a.element("Code").as_deref(), Some(code), "cut at {cut}");
        assert_rejected(&a, 400, code, message, &[]);
        assert!(!seen.ended(), "cut at {cut}");
        assert_eq!(seen.error(), Some(BodyErrorKind::Malformed));
        assert!(u.payload.starts_with(&seen.bytes()));
        assert!(seen.bytes().len() < LEN);
    }
}

#[tokio::test]
async fn chunk_extensions() {
    let u = Upload::signed();
    let [c1, c2, c3] = [&u.chunks[0], &u.chunks[1], &u.chunks[2]];
    let tail = [u.last.as_slice(), b"\r\n"].concat();
    let signature = std::str::from_utf8(&c1[21..85]).unwrap().to_owned();
    for line in [
        "2000\r\n".to_owned(),
        "2000;\r\n".to_owned(),
        "2000;chunk-signature=\r\n".to_owned(),
        "2000;chunk-signature\r\n".to_owned(),
        format!("2000;chunk-signature={signature};foo=bar\r\n"),
        format!("2000;foo=bar;chunk-signature={signature}\r\n"),
        format!("2000;chunk-sig={signature}\r\n"),
    ] {
        let c = [line.as_bytes(), &c1[LINE..]].concat();
        let body = u.wire(&[&c, c2, c3], &tail);
        u.refused(&body, TERM, &[], BodyErrorKind::Malformed, 0)
            .await;
    }
    // The last chunk needs its signature too.
    let body = u.wire(&[c1, c2, c3], b"0\r\n\r\n");
    u.refused(&body, TERM, &[], BodyErrorKind::Malformed, LEN - 1)
        .await;
    // Unsigned mode: no extension at all.
    let parts = streaming(UNSIGNED_TRAILER, "11", &[]);
    for body in [
        format!("b;chunk-signature={signature}\r\nHello world\r\n0\r\n\r\n"),
        "b;\r\nHello world\r\n0\r\n\r\n".to_owned(),
        "b;foo\r\nHello world\r\n0\r\n\r\n".to_owned(),
        "b\r\nHello world\r\n0;x=y\r\n\r\n".to_owned(),
    ] {
        let body = body.into_bytes();
        assert_body_rejected(
            &verifier(),
            &with_length(parts.clone(), &body),
            &body,
            TERM,
            &[],
            BodyErrorKind::Malformed,
            HELLO,
            HELLO.len() - 1,
        )
        .await;
    }
}

#[tokio::test]
async fn our_limits() {
    let mut limits = StreamingLimits::default();
    limits.max_chunk_bytes = 16_384;
    limits.max_line_bytes = 128;
    limits.max_trailer_bytes = 100;
    let v = verifier_with(config().with_streaming_limits(limits));
    let too_large = (400, "InvalidRequest", TOO_LARGE);
    let u = Upload::signed();
    // A chunk over the limit, refused at its size line.
    let line = replace_once(&u.chunks[0], b"2000;", b"4001;");
    u.refused_by(&v, &line[..90], too_large, &[], BodyErrorKind::TooLarge, 0)
        .await;
    // At the limit: fine (one chunk of 16 KiB and the rest).
    let parts = streaming(SIGNED, &LEN.to_string(), &[]);
    let mut chain = Chain::of(&parts);
    let mut body = chain.chunk(&u.payload[..16_384]);
    body.extend(chain.chunk(&u.payload[16_384..]));
    body.extend(chain.last());
    body.extend_from_slice(b"\r\n");
    assert_body_passes(&v, &with_length(parts, &body), &body, &u.payload).await;
    // The default limit, 16 MiB, and sizes past u64.
    for size in [&b"1000001;"[..], b"ffffffffffffffffffffffff;"] {
        let chunk = replace_once(&u.chunks[0], b"2000;", size);
        let line = chunk.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
        u.refused(
            &chunk[..line + 3],
            too_large,
            &[],
            BodyErrorKind::TooLarge,
            0,
        )
        .await;
    }
    // A size line over 128 bytes, with or without its end.
    let long = replace_once(
        &u.chunks[0],
        b"2000;",
        &[b"2000".as_slice(), &[b' '; 60], b";"].concat(),
    );
    u.refused_by(&v, &long, too_large, &[], BodyErrorKind::TooLarge, 0)
        .await;
    u.refused_by(&v, &[b'0'; 300], too_large, &[], BodyErrorKind::TooLarge, 0)
        .await;
    // A trailer part over 100 bytes.
    let parts = streaming(
        UNSIGNED_TRAILER,
        "11",
        &[("x-amz-trailer", "x-amz-checksum-crc32")],
    );
    let body = format!(
        "b\r\nHello world\r\n0\r\nx-amz-checksum-crc32:{}i9aeUg==\r\n\r\n",
        " ".repeat(90)
    )
    .into_bytes();
    assert_body_rejected(
        &v,
        &with_length(parts, &body),
        &body,
        too_large,
        &[],
        BodyErrorKind::TooLarge,
        HELLO,
        HELLO.len() - 1,
    )
    .await;
}

#[tokio::test]
async fn small_chunks_but_the_last() {
    let small = "Only the last chunk is allowed to have a size less than 8192 bytes";
    let refused = (403, "InvalidChunkSizeError", small);
    for mode in [SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER] {
        for (sizes, chunk, bad) in [
            (&[1024usize, 4096, 3072][..], "2", "1024"),
            (&[8192, 8191, 1], "3", "8191"),
            (&[8192, 100, 8192], "3", "100"),
        ] {
            let total: usize = sizes.iter().sum();
            let data = payload(total);
            let trailer = [("x-amz-trailer", "x-amz-checksum-crc32")];
            let headers: &[(&str, &str)] = if mode == SIGNED { &[] } else { &trailer };
            let parts = streaming(mode, &total.to_string(), headers);
            let mut chain = Chain::of(&parts);
            let mut body = Vec::new();
            let mut offset = 0;
            for size in sizes {
                let piece = &data[offset..offset + size];
                offset += size;
                body.extend(if mode == UNSIGNED_TRAILER {
                    plain_chunk(piece)
                } else {
                    chain.chunk(piece)
                });
            }
            // Refused at the next chunk's size line: nothing after matters, nothing of it
            // was released.
            let n: usize = chunk.parse().unwrap();
            let verified: usize = sizes[..n - 1].iter().sum();
            assert_body_rejected(
                &verifier(),
                &with_length(parts, &body),
                &body,
                refused,
                &[("Chunk", chunk), ("BadChunkSize", bad)],
                BodyErrorKind::Malformed,
                &data,
                verified,
            )
            .await;
        }
    }
    // Full chunks then a small last one, or a single small one: fine.
    for sizes in [&[8192usize, 8192, 1][..], &[100], &[8192]] {
        let total: usize = sizes.iter().sum();
        let data = payload(total);
        let parts = streaming(SIGNED, &total.to_string(), &[]);
        let mut chain = Chain::of(&parts);
        let mut body = Vec::new();
        let mut offset = 0;
        for size in sizes {
            body.extend(chain.chunk(&data[offset..offset + size]));
            offset += size;
        }
        body.extend(chain.last());
        body.extend_from_slice(b"\r\n");
        assert_body_passes(&verifier(), &with_length(parts, &body), &body, &data).await;
    }
}

#[tokio::test]
async fn chunk_signatures() {
    let u = Upload::signed();
    let [c1, c2, c3] = [&u.chunks[0], &u.chunks[1], &u.chunks[2]];
    let tail = [u.last.as_slice(), b"\r\n"].concat();
    let sig = |c: &[u8]| {
        let at = c
            .windows(16)
            .position(|w| w == b"chunk-signature=")
            .unwrap()
            + 16;
        std::str::from_utf8(&c[at..at + 64]).unwrap().to_owned()
    };
    fn elements(provided: &str) -> [(&str, &str); 2] {
        [("AWSAccessKeyId", AKID), ("SignatureProvided", provided)]
    }
    // Two chunks swapped: the first one read is out of its place in the chain.
    let swapped_sig = sig(c2);
    let body = u.wire(&[c2, c1, c3], &tail);
    u.refused(
        &body,
        MISMATCH,
        &elements(&swapped_sig),
        BodyErrorKind::SignatureMismatch,
        0,
    )
    .await;
    let body = u.wire(&[c1, c3, c2], &tail);
    let third = sig(c3);
    u.refused(
        &body,
        MISMATCH,
        &elements(&third),
        BodyErrorKind::SignatureMismatch,
        8192,
    )
    .await;
    // The right signature in upper-case hex, a non-hex one, a short one.
    let upper = sig(c1).to_uppercase();
    let short = sig(c1)[..63].to_owned();
    for provided in [upper, "z".repeat(64), short] {
        let c = replace_once(c1, sig(c1).as_bytes(), provided.as_bytes());
        let body = u.wire(&[&c, c2, c3], &tail);
        u.refused(
            &body,
            MISMATCH,
            &elements(&provided),
            BodyErrorKind::SignatureMismatch,
            0,
        )
        .await;
    }
    // A flipped byte in the second chunk's data.
    let mut c = c2.clone();
    c[500] ^= 1;
    let body = u.wire(&[c1, &c, c3], &tail);
    u.refused(
        &body,
        MISMATCH,
        &elements(&sig(c2)),
        BodyErrorKind::SignatureMismatch,
        8192,
    )
    .await;
    // The last chunk's signature, wrong: all the data verified, the end held back.
    let wrong_last = u.chain.peek(b"x");
    let body = u.wire(
        &[c1, c2, c3],
        format!("0;chunk-signature={wrong_last}\r\n\r\n").as_bytes(),
    );
    u.refused(
        &body,
        MISMATCH,
        &elements(&wrong_last),
        BodyErrorKind::SignatureMismatch,
        LEN - 1,
    )
    .await;
    // Chunks of another upload (another seed) spliced under this head.
    let other = Upload::new(SIGNED, &[("x-amz-meta-other", "1")]);
    let body = other.body();
    u.refused(
        &body,
        MISMATCH,
        &elements(&sig(&other.chunks[0])),
        BodyErrorKind::SignatureMismatch,
        0,
    )
    .await;
    // With the opt-in detail: the chunk's string to sign, the seed's canonical request.
    let v =
        verifier_with(config().with_mismatch_detail(tower_sigv4::MismatchDetail::CanonicalRequest));
    let body = u.wire(&[c2, c1, c3], &tail);
    let (a, _) = send(&v, u.head_for(&body), body).await;
    let sts = a.element("StringToSign").unwrap();
    let seed = seed_of(&u.parts);
    assert!(
        sts.starts_with(&format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{DATE}\n{SCOPE}\n{seed}\n{EMPTY_SHA256}\n"
        )),
        "{sts}"
    );
    assert!(a
        .element("CanonicalRequest")
        .unwrap()
        .ends_with("\nSTREAMING-AWS4-HMAC-SHA256-PAYLOAD"));
}

#[tokio::test]
async fn decoded_length_differs() {
    let u = Upload::signed();
    let numbers = |expected: &'static str, provided: &'static str| {
        [
            ("NumberBytesExpected", expected),
            ("NumberBytesProvided", provided),
        ]
    };
    // An early zero chunk (signed in its place in the chain).
    let mut chain = Chain::of(&u.parts);
    let early = [
        chain.chunk(&u.payload[..8192]),
        chain.last(),
        b"\r\n".to_vec(),
    ]
    .concat();
    u.refused(
        &early,
        (400, "IncompleteBody", SHORT),
        &numbers("20000", "8192"),
        BodyErrorKind::Malformed,
        8191,
    )
    .await;
    // Too many bytes: refused at the size line that goes past the declared length.
    let parts = streaming(SIGNED, "16384", &[]);
    let mut chain = Chain::of(&parts);
    let long: Vec<u8> = u
        .payload
        .chunks(8192)
        .flat_map(|c| chain.chunk(c))
        .collect();
    assert_body_rejected(
        &verifier(),
        &with_length(parts, &long),
        &long,
        (400, "IncompleteBody", SHORT),
        &numbers("16384", "20000"),
        BodyErrorKind::Malformed,
        &u.payload,
        16_383,
    )
    .await;
    // The unsigned mode, both ways; and a declared 0.
    for (declared, body, expected, provided) in [
        ("12", "b\r\nHello world\r\n0\r\n\r\n", "12", "11"),
        ("10", "b\r\nHello world\r\n0\r\n\r\n", "10", "11"),
        ("0", "1\r\nH\r\n0\r\n\r\n", "0", "1"),
    ] {
        let parts = streaming(UNSIGNED_TRAILER, declared, &[]);
        let body = body.as_bytes().to_vec();
        assert_body_rejected(
            &verifier(),
            &with_length(parts, &body),
            &body,
            (400, "IncompleteBody", SHORT),
            &numbers(expected, provided),
            BodyErrorKind::Malformed,
            HELLO,
            HELLO.len() - 1,
        )
        .await;
    }
}

#[tokio::test]
async fn body_rejections_close_http1_connections() {
    let u = Upload::signed();
    let [c1, c2, c3] = [&u.chunks[0], &u.chunks[1], &u.chunks[2]];
    let body = u.wire(&[c2, c1, c3], &[u.last.as_slice(), b"\r\n"].concat());
    // Content-Length, Transfer-Encoding: the rest of the body is not drained.
    let (a, _) = send(&verifier(), u.head_for(&body), body.clone()).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.header("connection"), Some("close"));
    let mut parts = u.parts.clone();
    append(&mut parts, "transfer-encoding", "chunked");
    let (a, _) = send(&verifier(), parts, body.clone()).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.header("connection"), Some("close"));
    // HTTP/2 (no length needed, and no Connection header allowed).
    let mut parts = u.parts.clone();
    parts.version = http::Version::HTTP_2;
    let (a, seen) = send(&verifier(), parts, body).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.header("connection"), None);
    assert_eq!(seen.error(), Some(BodyErrorKind::SignatureMismatch));
}
