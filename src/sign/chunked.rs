//! The client side of S3's streaming uploads: [`Signer::sign_streaming`] signs the request's
//! head for an `aws-chunked` body and gives the [`ChunkedEncoder`] that turns any
//! [`http_body::Body`] into the encoded body, chunk signatures (chained from the seed),
//! trailing checksum and trailer signature included.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH};
use http::request::Parts;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::signer::{SignError, SignErrorKind, SignablePayload, Signer};
use crate::s3::chunk_signature::{canonical_trailer, sha256, ChunkChain};
use crate::s3::{ChecksumAlgorithm, StreamingMode};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a streaming upload looks like: its mode, its decoded length, the size of its chunks
/// and its trailing checksum.
///
/// ```
/// use tower_sigv4::s3::{ChecksumAlgorithm, StreamingMode};
/// use tower_sigv4::sign::StreamingUpload;
///
/// let upload = StreamingUpload::new(StreamingMode::SignedTrailer, 66560)
///     .with_chunk_size(65536)
///     .with_checksum(ChecksumAlgorithm::Crc32c);
/// assert_eq!(upload.encoded_length(), 66946); // AWS's documented example
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamingUpload {
    mode: StreamingMode,
    decoded_length: u64,
    chunk_size: usize,
    checksum: Option<ChecksumAlgorithm>,
}

impl StreamingUpload {
    /// An upload of `decoded_length` bytes in `mode`, in 64 KiB chunks, without a checksum.
    pub fn new(mode: StreamingMode, decoded_length: u64) -> Self {
        Self {
            mode,
            decoded_length,
            chunk_size: 64 * 1024,
            checksum: None,
        }
    }

    /// Chunks of `size` bytes (S3 wants at least 8 KiB for every chunk but the last).
    pub fn with_chunk_size(mut self, size: usize) -> Self {
        self.chunk_size = size;
        self
    }

    /// A trailing checksum (the trailer modes).
    pub fn with_checksum(mut self, algorithm: ChecksumAlgorithm) -> Self {
        self.checksum = Some(algorithm);
        self
    }

    /// The length of the encoded body (the `Content-Length` sent).
    pub fn encoded_length(&self) -> u64 {
        let signature_ext: u64 = if self.mode.is_signed() { 81 } else { 0 };
        let chunk = self.chunk_size.max(1) as u64;
        let line = |size: u64| format!("{size:x}").len() as u64 + signature_ext + 2;
        let full = self.decoded_length / chunk;
        let rest = self.decoded_length % chunk;
        let mut total = full * (line(chunk) + chunk + 2);
        if rest > 0 {
            total += line(rest) + rest + 2;
        }
        total += line(0);
        if let Some(alg) = self.checksum {
            let b64 = alg.digest_len().div_ceil(3) * 4;
            total += (alg.header_name().len() + 1 + b64 + 2) as u64;
        }
        if self.mode == StreamingMode::SignedTrailer {
            total += "x-amz-trailer-signature:".len() as u64 + 64 + 2;
        }
        total + 2
    }
}

impl Signer {
    /// Signs `parts` for a streaming upload: sets `Content-Encoding: aws-chunked`,
    /// `x-amz-decoded-content-length`, `x-amz-trailer` (with a checksum), `Content-Length`
    /// (the encoded length), `x-amz-content-sha256` (the mode) and signs; gives the encoder
    /// of the body (see [`ChunkedEncoder::encode`]).
    ///
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` needs a checksum; the other trailer-less
    /// mode takes none.
    pub fn sign_streaming(
        &self,
        parts: &mut Parts,
        upload: &StreamingUpload,
        time: SystemTime,
    ) -> Result<ChunkedEncoder, SignError> {
        let invalid = |what| SignError::new(SignErrorKind::InvalidHeaderValue, what);
        match (upload.mode, upload.checksum) {
            (StreamingMode::SignedTrailer, None) => {
                return Err(invalid("the signed trailer mode needs a checksum"))
            }
            (StreamingMode::Signed, Some(_)) => {
                return Err(invalid("the signed mode without trailer takes no checksum"))
            }
            _ => {}
        }
        if upload.chunk_size == 0 {
            return Err(invalid("chunk size must be at least one byte"));
        }
        let encoding = match parts.headers.get(CONTENT_ENCODING) {
            Some(v) => {
                let v = v
                    .to_str()
                    .map_err(|_| invalid("invalid content-encoding"))?;
                HeaderValue::from_str(&format!("{v},aws-chunked"))
                    .map_err(|_| invalid("invalid content-encoding"))?
            }
            None => HeaderValue::from_static("aws-chunked"),
        };
        parts.headers.insert(CONTENT_ENCODING, encoding);
        parts.headers.insert(
            HeaderName::from_static("x-amz-decoded-content-length"),
            HeaderValue::from(upload.decoded_length),
        );
        if let Some(alg) = upload.checksum {
            parts.headers.insert(
                HeaderName::from_static("x-amz-trailer"),
                HeaderValue::from_static(alg.header_name()),
            );
        }
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(upload.encoded_length()));
        parts.headers.remove(http::header::TRANSFER_ENCODING);
        parts.headers.insert(
            HeaderName::from_static("x-amz-content-sha256"),
            HeaderValue::from_static(upload.mode.as_str()),
        );
        self.sign(
            parts,
            SignablePayload::Precomputed(upload.mode.as_str()),
            time,
        )?;
        let seed = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit("Signature=").next())
            .and_then(|hex_sig| {
                let mut out = [0u8; 32];
                hex::decode_to_slice(hex_sig, &mut out).ok().map(|()| out)
            })
            .ok_or_else(|| invalid("could not read the seed signature"))?;
        let amz_date = crate::sigv4::scope::format_amz_date(time);
        let date = amz_date.get(..8).unwrap_or_default();
        let scope = format!("{date}/{}/{}/aws4_request", self.region(), self.service());
        let chain = upload
            .mode
            .is_signed()
            .then(|| ChunkChain::new(&self.signing_key_for(date), &amz_date, &scope, seed));
        Ok(ChunkedEncoder {
            upload: *upload,
            chain,
        })
    }
}

/// Encodes a body as the signed request's `aws-chunked` body; from
/// [`Signer::sign_streaming`].
#[derive(Clone)]
pub struct ChunkedEncoder {
    upload: StreamingUpload,
    chain: Option<ChunkChain>,
}

impl fmt::Debug for ChunkedEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedEncoder")
            .field("upload", &self.upload)
            .finish_non_exhaustive()
    }
}

impl ChunkedEncoder {
    /// The encoded body of `body`, which must yield exactly the declared decoded length.
    pub fn encode<B>(self, body: B) -> AwsChunkedBody<B> {
        AwsChunkedBody {
            body,
            checksum: self.upload.checksum.map(ChecksumAlgorithm::hasher),
            upload: self.upload,
            chain: self.chain,
            chunk: Vec::new(),
            chunk_len: 0,
            seen: 0,
            emitted: 0,
            out: VecDeque::new(),
            ended: false,
            done: false,
        }
    }
}

pin_project! {
    /// An `aws-chunked` encoded body (see [`ChunkedEncoder`]). Holds one chunk at a time.
    pub struct AwsChunkedBody<B> {
        #[pin]
        body: B,
        upload: StreamingUpload,
        chain: Option<ChunkChain>,
        checksum: Option<crate::s3::checksum::Checksum>,
        // The data of the chunk being filled.
        chunk: Vec<Bytes>,
        chunk_len: usize,
        seen: u64,
        // Encoded bytes handed out so far.
        emitted: u64,
        out: VecDeque<Bytes>,
        ended: bool,
        done: bool,
    }
}

/// A streaming body that ended with a different length than declared.
#[derive(Debug)]
struct LengthMismatch {
    declared: u64,
    actual: u64,
}

impl fmt::Display for LengthMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "streaming body of {} bytes, {} declared",
            self.actual, self.declared
        )
    }
}

impl std::error::Error for LengthMismatch {}

/// Pushes one chunk's framing and data onto `out`.
fn emit_chunk(
    out: &mut VecDeque<Bytes>,
    chain: &mut Option<ChunkChain>,
    data: Vec<Bytes>,
    len: usize,
) {
    let mut header = format!("{len:x}");
    if let Some(chain) = chain {
        let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
        for piece in &data {
            sha2::Digest::update(&mut hasher, piece);
        }
        let hash: [u8; 32] = sha2::Digest::finalize(hasher).into();
        let signature = chain.chunk_signature(&hash);
        chain.advance(signature);
        header.push_str(";chunk-signature=");
        header.push_str(&hex::encode(signature));
    }
    header.push_str("\r\n");
    out.push_back(Bytes::from(header));
    out.extend(data);
    if len > 0 {
        out.push_back(Bytes::from_static(b"\r\n"));
    }
}

impl<B> Body for AwsChunkedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        loop {
            if let Some(piece) = this.out.pop_front() {
                *this.emitted += piece.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(piece))));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            if *this.ended {
                // The last chunk and the trailer.
                *this.done = true;
                if *this.seen != this.upload.decoded_length {
                    return Poll::Ready(Some(Err(Box::new(LengthMismatch {
                        declared: this.upload.decoded_length,
                        actual: *this.seen,
                    }))));
                }
                let data = std::mem::take(this.chunk);
                let len = std::mem::take(this.chunk_len);
                if len > 0 {
                    emit_chunk(this.out, this.chain, data, len);
                }
                emit_chunk(this.out, this.chain, Vec::new(), 0);
                let mut tail = BytesMut::new();
                if let Some(c) = this.checksum.take() {
                    let name = c.algorithm().header_name();
                    let value = crate::s3::checksum::b64(&c.finalize());
                    tail.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
                    if let Some(chain) = this.chain.as_ref() {
                        let text = canonical_trailer(&[(name, value.as_str())]);
                        let signature = chain.trailer_signature(&sha256(&text));
                        tail.extend_from_slice(b"x-amz-trailer-signature:");
                        tail.extend_from_slice(hex::encode(signature).as_bytes());
                        tail.extend_from_slice(b"\r\n");
                    }
                }
                tail.extend_from_slice(b"\r\n");
                this.out.push_back(tail.freeze());
                continue;
            }
            match this.body.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => *this.ended = true,
                Poll::Ready(Some(Err(e))) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(e.into())));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(mut data) = frame.into_data() else {
                        continue;
                    };
                    *this.seen += data.len() as u64;
                    if let Some(c) = this.checksum.as_mut() {
                        c.update(&data);
                    }
                    let size = this.upload.chunk_size;
                    while !data.is_empty() {
                        let take = (size - *this.chunk_len).min(data.len());
                        this.chunk.push(data.split_to(take));
                        *this.chunk_len += take;
                        if *this.chunk_len == size {
                            let chunk = std::mem::take(this.chunk);
                            *this.chunk_len = 0;
                            emit_chunk(this.out, this.chain, chunk, size);
                        }
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.out.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.upload.encoded_length().saturating_sub(self.emitted))
    }
}
