//! The `aws-chunked` decoder (sans-IO): fed the encoded bytes as they arrive, it gives the
//! decoded data of each chunk without copying, says when a chunk's signature is verified, and
//! at the end of the input verifies the trailer, the decoded length and the checksums
//! (`s3.md` §2.3–§2.5). Every buffer it keeps is bounded by [`StreamingLimits`].

use bytes::{Buf as _, Bytes};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::checksum::ChecksumAlgorithm;
use super::chunk_signature::{canonical_trailer, sha256, ChunkChain};
use super::errors;
use super::payload::PayloadChecks;
use super::StreamingMode;
use crate::error::{Rejection, RejectionKind};
use crate::sigv4::settings::StreamingLimits;

/// S3's smallest chunk but the last.
const MIN_CHUNK: u64 = 8192;

/// What the decoder found in the input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// Decoded bytes of the current chunk, not yet verified in the signed modes.
    Data(Bytes),
    /// The chunk whose data came before is complete, its signature verified (signed modes).
    ChunkVerified,
}

#[derive(Debug)]
enum State {
    /// Reading a chunk-size line.
    Size,
    /// Reading `remaining` bytes of a chunk of `size`.
    Data { size: u64, remaining: u64 },
    /// Expecting the CRLF after a chunk's data (`seen` of its two bytes so far).
    DataEnd { size: u64, seen: u8 },
    /// Reading the trailer part.
    Trailer,
    /// The final CRLF was read: nothing may follow.
    Done,
    /// A fault was reported; nothing more is read.
    Failed,
}

/// Signature verification of the signed modes, and what a mismatch reports.
pub(crate) struct Signing {
    pub(crate) chain: ChunkChain,
    /// For `SignatureDoesNotMatch`'s `AWSAccessKeyId`.
    pub(crate) access_key_id: String,
    /// The seed's canonical request, when the mismatch detail is on.
    pub(crate) canonical_request: Option<String>,
}

/// The decoder of one request's body.
pub(crate) struct Decoder {
    mode: StreamingMode,
    limits: StreamingLimits,
    signing: Option<Signing>,
    state: State,
    /// A chunk-size line or the trailer part, as far as it has come.
    line: Vec<u8>,
    /// SHA-256 of the current chunk's data (signed modes).
    chunk_hash: Sha256,
    /// The signature the current chunk's line carries, as sent.
    chunk_signature: String,
    /// Data chunks read so far.
    chunks: u64,
    /// Size of the previous data chunk.
    previous_size: Option<u64>,
    decoded: u64,
    declared: u64,
    /// The trailing checksum `x-amz-trailer` declares.
    trailer: Option<ChecksumAlgorithm>,
    checks: PayloadChecks,
}

impl Decoder {
    pub(crate) fn new(
        mode: StreamingMode,
        limits: StreamingLimits,
        signing: Option<Signing>,
        declared: u64,
        trailer: Option<ChecksumAlgorithm>,
        checks: PayloadChecks,
    ) -> Self {
        Self {
            mode,
            limits,
            signing,
            state: State::Size,
            line: Vec::new(),
            chunk_hash: Sha256::new(),
            chunk_signature: String::new(),
            chunks: 0,
            previous_size: None,
            decoded: 0,
            declared,
            trailer,
            checks,
        }
    }

    /// Whether data may be released before its chunk ends (no chunk signatures to wait for).
    pub(crate) fn releases_early(&self) -> bool {
        self.mode == StreamingMode::UnsignedTrailer
    }

    fn fail(&mut self, rejection: Rejection) -> Rejection {
        self.state = State::Failed;
        self.line = Vec::new();
        rejection
    }

    /// Decodes from `input` until an event or until `input` is used up (`Ok(None)`).
    pub(crate) fn decode(&mut self, input: &mut Bytes) -> Result<Option<Event>, Rejection> {
        loop {
            if input.is_empty() {
                return Ok(None);
            }
            match self.state {
                State::Failed => return Ok(None),
                State::Size => {
                    let Some(line) = self.take_line(input, self.limits.max_line_bytes)? else {
                        continue;
                    };
                    self.size_line(&line)?;
                }
                State::Data { size, remaining } => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    let data = input.split_to(n);
                    if self.signing.is_some() {
                        self.chunk_hash.update(&data);
                    }
                    self.checks.update(&data);
                    self.decoded += n as u64;
                    let remaining = remaining - n as u64;
                    self.state = if remaining == 0 {
                        State::DataEnd { size, seen: 0 }
                    } else {
                        State::Data { size, remaining }
                    };
                    if !data.is_empty() {
                        return Ok(Some(Event::Data(data)));
                    }
                }
                State::DataEnd { size, seen } => {
                    let expected = if seen == 0 { b'\r' } else { b'\n' };
                    if input.first() != Some(&expected) {
                        return Err(self.fail(errors::terminated()));
                    }
                    input.advance(1);
                    if seen == 0 {
                        self.state = State::DataEnd { size, seen: 1 };
                        continue;
                    }
                    let hash: [u8; 32] = std::mem::take(&mut self.chunk_hash).finalize().into();
                    self.verify_chunk(&hash)?;
                    self.previous_size = Some(size);
                    self.state = State::Size;
                    return Ok(Some(Event::ChunkVerified));
                }
                State::Trailer => {
                    let Some(line) = self.take_line(input, self.limits.max_trailer_bytes)? else {
                        continue;
                    };
                    self.trailer_line(line)?;
                }
                State::Done => {
                    // Data after the end.
                    return Err(self.fail(errors::malformed_trailer(RejectionKind::BodyUnreadable)));
                }
            }
        }
    }

    /// Takes one CRLF-terminated line (without the CRLF) once it is complete, keeping a
    /// partial one (at most `max` bytes) for the next input.
    fn take_line(&mut self, input: &mut Bytes, max: usize) -> Result<Option<Vec<u8>>, Rejection> {
        let in_trailer = matches!(self.state, State::Trailer);
        let budget = max.saturating_sub(self.line.len());
        match input.iter().position(|&b| b == b'\n') {
            Some(i) => {
                if i > budget {
                    return Err(self.fail(errors::chunk_too_large()));
                }
                self.line
                    .extend_from_slice(input.get(..i).unwrap_or_default());
                input.advance(i + 1);
                if self.line.last() != Some(&b'\r') {
                    let r = if in_trailer {
                        errors::malformed_trailer(RejectionKind::BodyUnreadable)
                    } else {
                        errors::terminated()
                    };
                    return Err(self.fail(r));
                }
                self.line.pop();
                if in_trailer {
                    // The trailer part's lines are kept together (bounded as a whole).
                    let start = self
                        .line
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |p| p + 1);
                    let line = self.line.get(start..).unwrap_or_default().to_vec();
                    // Mark the line boundary for the bound on the whole part.
                    self.line.push(b'\n');
                    return Ok(Some(line));
                }
                Ok(Some(std::mem::take(&mut self.line)))
            }
            None => {
                if input.len() > budget {
                    return Err(self.fail(errors::chunk_too_large()));
                }
                self.line.extend_from_slice(input);
                input.clear();
                Ok(None)
            }
        }
    }

    /// A complete chunk-size line.
    fn size_line(&mut self, line: &[u8]) -> Result<(), Rejection> {
        let text = std::str::from_utf8(line).map_err(|_| errors::terminated());
        let text = match text {
            Ok(t) => t,
            Err(r) => return Err(self.fail(r)),
        };
        let (size_text, extension) = match text.split_once(';') {
            Some((s, e)) => (s, Some(e)),
            None => (text, None),
        };
        let size_text = size_text.trim_end_matches([' ', '\t']);
        if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.fail(errors::terminated()));
        }
        let digits = size_text.trim_start_matches('0');
        let size = if digits.len() > 15 {
            u64::MAX
        } else {
            u64::from_str_radix(if digits.is_empty() { "0" } else { digits }, 16)
                .unwrap_or(u64::MAX)
        };
        // The extension: `chunk-signature=<sig>` in the signed modes, nothing otherwise.
        self.chunk_signature.clear();
        match (self.signing.is_some(), extension) {
            (true, Some(ext)) => {
                let ext = ext.trim_matches([' ', '\t']);
                let value = ext
                    .split_once('=')
                    .filter(|(k, _)| k.trim_end_matches([' ', '\t']) == "chunk-signature")
                    .map(|(_, v)| v.trim_matches([' ', '\t']));
                match value {
                    Some(v) if !v.is_empty() && !v.contains([';', '=']) => {
                        self.chunk_signature.push_str(v);
                    }
                    _ => return Err(self.fail(errors::terminated())),
                }
            }
            (false, None) => {}
            _ => return Err(self.fail(errors::terminated())),
        }
        if size == 0 {
            // The last chunk: its signature, then the decoded length.
            self.verify_chunk(&sha256(b""))?;
            if self.decoded != self.declared {
                let r = errors::length_mismatch(self.declared, self.decoded);
                return Err(self.fail(r));
            }
            self.state = State::Trailer;
            return Ok(());
        }
        self.chunks += 1;
        if size > self.limits.max_chunk_bytes {
            return Err(self.fail(errors::chunk_too_large()));
        }
        if let Some(previous) = self.previous_size.filter(|&p| p < MIN_CHUNK) {
            let r = errors::chunk_too_small(self.chunks, previous);
            return Err(self.fail(r));
        }
        let total = self.decoded.saturating_add(size);
        if total > self.declared {
            let r = errors::length_mismatch(self.declared, total);
            return Err(self.fail(r));
        }
        self.state = State::Data {
            size,
            remaining: size,
        };
        Ok(())
    }

    /// Verifies the current chunk's signature (signed modes) and advances the chain.
    fn verify_chunk(&mut self, data_hash: &[u8; 32]) -> Result<(), Rejection> {
        let Some(signing) = &mut self.signing else {
            return Ok(());
        };
        let computed = signing.chain.chunk_signature(data_hash);
        let mut provided = [0u8; 32];
        let decoded = self.chunk_signature.len() == 64
            && !self.chunk_signature.bytes().any(|b| b.is_ascii_uppercase())
            && hex::decode_to_slice(&self.chunk_signature, &mut provided).is_ok();
        if decoded && bool::from(computed.ct_eq(&provided)) {
            signing.chain.advance(computed);
            return Ok(());
        }
        let string_to_sign = signing.chain.chunk_string_to_sign(data_hash);
        let r = mismatch(signing, &self.chunk_signature, &string_to_sign);
        Err(self.fail(r))
    }

    /// A complete line of the trailer part (an empty one ends it).
    fn trailer_line(&mut self, line: Vec<u8>) -> Result<(), Rejection> {
        if line.is_empty() {
            return self.end_of_trailer();
        }
        let malformed = || errors::malformed_trailer(RejectionKind::BodyUnreadable);
        let Ok(text) = std::str::from_utf8(&line) else {
            return Err(self.fail(malformed()));
        };
        let Some((name, _)) = text.split_once(':') else {
            return Err(self.fail(malformed()));
        };
        let name = name.trim_matches([' ', '\t']);
        // The lines before this one.
        let mut lines = self.trailer_lines();
        lines.pop();
        let signature_seen = lines
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("x-amz-trailer-signature"));
        let ok = if name.eq_ignore_ascii_case("x-amz-trailer-signature") {
            self.mode == StreamingMode::SignedTrailer && !signature_seen
        } else {
            let declared = self
                .trailer
                .is_some_and(|t| t.header_name().eq_ignore_ascii_case(name));
            // `lines` holds the lines before this one.
            let repeated = lines.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
            declared && !repeated && !signature_seen
        };
        if !ok {
            return Err(self.fail(malformed()));
        }
        Ok(())
    }

    /// The complete `name: value` lines of the trailer part read so far.
    fn trailer_lines(&self) -> Vec<(String, String)> {
        self.line
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| std::str::from_utf8(l).ok())
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| {
                (
                    n.trim_matches([' ', '\t']).to_owned(),
                    v.trim_matches([' ', '\t']).to_owned(),
                )
            })
            .collect()
    }

    /// The trailer part is complete: the declared checksum, its value, the trailer signature.
    fn end_of_trailer(&mut self) -> Result<(), Rejection> {
        let lines = self.trailer_lines();
        let malformed = || errors::malformed_trailer(RejectionKind::BodyUnreadable);
        let checksum = lines
            .iter()
            .find(|(n, _)| !n.eq_ignore_ascii_case("x-amz-trailer-signature"));
        if let Some(algorithm) = self.trailer {
            let Some((_, value)) = checksum else {
                return Err(self.fail(malformed()));
            };
            let Some(digest) = algorithm.decode_value(value) else {
                let r = errors::invalid_request(
                    RejectionKind::InvalidRequest,
                    format!(
                        "Value for {} trailing header is invalid.",
                        algorithm.header_name()
                    ),
                );
                return Err(self.fail(r));
            };
            self.checks.set_trailing(digest);
        }
        if self.mode == StreamingMode::SignedTrailer {
            let Some((_, provided)) = lines
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-trailer-signature"))
            else {
                return Err(self.fail(errors::terminated()));
            };
            let pairs: Vec<(&str, &str)> = checksum
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let text_hash = sha256(&canonical_trailer(&pairs));
            if let Some(signing) = &self.signing {
                let computed = signing.chain.trailer_signature(&text_hash);
                let mut given = [0u8; 32];
                let decoded = provided.len() == 64
                    && !provided.bytes().any(|b| b.is_ascii_uppercase())
                    && hex::decode_to_slice(provided, &mut given).is_ok();
                if !(decoded && bool::from(computed.ct_eq(&given))) {
                    let string_to_sign = signing.chain.trailer_string_to_sign(&text_hash);
                    let r = mismatch(signing, provided, &string_to_sign);
                    return Err(self.fail(r));
                }
            }
        }
        self.line = Vec::new();
        self.state = State::Done;
        Ok(())
    }

    /// At the end of the input: the body must have come to its end (the final CRLF may be
    /// missing), then the checksums are verified.
    pub(crate) fn finish(&mut self) -> Result<(), Rejection> {
        match self.state {
            State::Done => {}
            // Only the final CRLF is missing.
            State::Trailer if self.line.is_empty() || self.line.last() == Some(&b'\n') => {
                self.end_of_trailer()?;
            }
            State::Failed => return Err(errors::terminated()),
            _ => return Err(self.fail(errors::terminated())),
        }
        let result = self.checks.verify();
        self.state = State::Failed;
        result
    }
}

fn mismatch(signing: &Signing, provided: &str, string_to_sign: &str) -> Rejection {
    let r = errors::signature_mismatch(&signing.access_key_id, provided);
    match &signing.canonical_request {
        Some(creq) => errors::with_mismatch_detail(r, string_to_sign, creq),
        None => r,
    }
}
