//! A connection's I/O, noting in its activity each byte (HTTP/1) or each request-moving frame
//! (HTTP/2) read or written.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::activity::Activity;

/// The client preface of HTTP/2 (RFC 9113 §3.4).
pub(super) const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What a run of HTTP/2 frames held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Frames {
    /// A frame (or a piece of one) that moves a request or response: HEADERS, CONTINUATION,
    /// DATA, WINDOW_UPDATE.
    pub(super) progress: bool,
    /// A HEADERS frame began.
    pub(super) head: bool,
}

/// Follows the frames of one direction of an HTTP/2 connection (RFC 9113 §4.1: a 9-byte
/// header, its 24-bit payload length first and its type fourth), to tell the frames that
/// move requests and responses from the rest (PING, SETTINGS, PRIORITY, RST_STREAM, GOAWAY).
#[derive(Debug, Default)]
pub(super) struct FrameScan {
    header: [u8; 9],
    have: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: usize,
    /// Whether the current frame's payload is progress.
    payload_moves: bool,
}

impl FrameScan {
    const DATA: u8 = 0x0;
    const HEADERS: u8 = 0x1;
    const WINDOW_UPDATE: u8 = 0x8;
    const CONTINUATION: u8 = 0x9;

    pub(super) fn feed(&mut self, mut bytes: &[u8]) -> Frames {
        let mut seen = Frames::default();
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let n = self.payload_left.min(bytes.len());
                self.payload_left -= n;
                seen.progress |= self.payload_moves;
                bytes = bytes.get(n..).unwrap_or_default();
                continue;
            }
            let n = (self.header.len() - self.have).min(bytes.len());
            if let (Some(to), Some(from)) = (
                self.header.get_mut(self.have..self.have + n),
                bytes.get(..n),
            ) {
                to.copy_from_slice(from);
            }
            self.have += n;
            bytes = bytes.get(n..).unwrap_or_default();
            if self.have == self.header.len() {
                self.have = 0;
                let [l0, l1, l2, kind, ..] = self.header;
                self.payload_left = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
                self.payload_moves = matches!(
                    kind,
                    Self::DATA | Self::HEADERS | Self::CONTINUATION | Self::WINDOW_UPDATE
                );
                seen.progress |= self.payload_moves;
                seen.head |= kind == Self::HEADERS;
            }
        }
        seen
    }
}

/// What the bytes read so far say of the protocol.
#[derive(Debug)]
pub(super) enum Sniff {
    /// This many bytes of the HTTP/2 preface were read, and nothing else.
    Preface(usize),
    Http1,
    /// The preface was read; frames follow, each way.
    Http2 {
        read: FrameScan,
        write: FrameScan,
    },
}

pin_project! {
    /// A connection's I/O, noting in its [`Activity`] each byte read or written (HTTP/1), or
    /// each frame (HTTP/2).
    pub(super) struct Tracked<S> {
        #[pin]
        io: S,
        activity: Arc<Activity>,
        sniff: Sniff,
    }
}

impl<S> Tracked<S> {
    pub(super) fn new(io: S, activity: Arc<Activity>) -> Self {
        Self {
            io,
            activity,
            sniff: Sniff::Preface(0),
        }
    }
}

/// Notes `read`, the bytes just read, in `activity`.
pub(super) fn note_read(sniff: &mut Sniff, activity: &Activity, read: &[u8]) {
    match sniff {
        Sniff::Preface(matched) => {
            let wanted = H2_PREFACE.get(*matched..).unwrap_or_default();
            let n = wanted.len().min(read.len());
            if read.get(..n) != wanted.get(..n) {
                *sniff = Sniff::Http1;
                activity.on_read();
            } else if *matched + n < H2_PREFACE.len() {
                *matched += n;
                activity.on_read();
            } else {
                activity.on_preface();
                let mut scan = FrameScan::default();
                let seen = scan.feed(read.get(n..).unwrap_or_default());
                activity.on_frames(seen, true);
                *sniff = Sniff::Http2 {
                    read: scan,
                    write: FrameScan::default(),
                };
            }
        }
        Sniff::Http1 => activity.on_read(),
        Sniff::Http2 { read: scan, .. } => activity.on_frames(scan.feed(read), true),
    }
}

/// Notes the first `n` bytes of `bufs`, just written, in `activity`.
pub(super) fn note_write(sniff: &mut Sniff, activity: &Activity, bufs: &[&[u8]], mut n: usize) {
    let Sniff::Http2 { write, .. } = sniff else {
        activity.on_write();
        return;
    };
    let mut seen = Frames::default();
    for buf in bufs {
        if n == 0 {
            break;
        }
        let take = buf.len().min(n);
        let s = write.feed(buf.get(..take).unwrap_or_default());
        seen.progress |= s.progress;
        n -= take;
    }
    activity.on_frames(seen, false);
}

impl<S: AsyncRead> AsyncRead for Tracked<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let polled = this.io.poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let read = buf.filled().get(before..).unwrap_or_default();
            note_read(this.sniff, this.activity, read);
        }
        polled
    }
}

impl<S: AsyncWrite> AsyncWrite for Tracked<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.project();
        let polled = this.io.poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                note_write(this.sniff, this.activity, &[buf], n);
            }
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.project();
        let polled = this.io.poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                if let Sniff::Http2 { .. } = this.sniff {
                    let slices: Vec<&[u8]> = bufs.iter().map(|b| &**b).collect();
                    note_write(this.sniff, this.activity, &slices, n);
                } else {
                    // HTTP/1 counts bytes, not frames: the slices are not looked at.
                    note_write(this.sniff, this.activity, &[], n);
                }
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame's bytes: its 9-byte header and `len` bytes of payload.
    fn frame(kind: u8, len: usize) -> Vec<u8> {
        let l = u32::try_from(len).unwrap().to_be_bytes();
        let mut f = vec![l[1], l[2], l[3], kind, 0, 0, 0, 0, 1];
        f.resize(9 + len, 0);
        f
    }

    #[test]
    fn frames_that_move_requests_and_those_that_do_not() {
        let nothing = Frames::default();
        let moved = Frames {
            progress: true,
            head: false,
        };
        let head = Frames {
            progress: true,
            head: true,
        };
        let mut scan = FrameScan::default();
        // PING, SETTINGS, PRIORITY, RST_STREAM, GOAWAY: nothing, however they are cut.
        let control: Vec<u8> = [(6, 8), (4, 12), (2, 5), (3, 4), (7, 8)]
            .iter()
            .flat_map(|&(kind, len)| frame(kind, len))
            .collect();
        for piece in control.chunks(5) {
            assert_eq!(scan.feed(piece), nothing);
        }
        // HEADERS cut anywhere: a head, and each later piece of it progress.
        let headers = frame(1, 40);
        assert_eq!(scan.feed(&headers[..3]), nothing);
        assert_eq!(scan.feed(&headers[3..12]), head);
        assert_eq!(scan.feed(&headers[12..]), moved);
        // DATA and WINDOW_UPDATE move; a PING after them in the same read does not hide it.
        let mut run = frame(0, 3);
        run.extend(frame(6, 8));
        assert_eq!(scan.feed(&run), moved);
        assert_eq!(scan.feed(&frame(8, 4)), moved);
        assert_eq!(scan.feed(&frame(9, 2)), moved);
        assert_eq!(scan.feed(&frame(6, 8)), nothing);
    }

    #[test]
    fn the_preface_tells_http2_from_http1() {
        let a = Activity::new();
        let mut sniff = Sniff::Preface(0);
        note_read(&mut sniff, &a, &H2_PREFACE[..10]);
        assert!(matches!(sniff, Sniff::Preface(10)));
        let mut rest = H2_PREFACE[10..].to_vec();
        rest.extend(frame(4, 0));
        note_read(&mut sniff, &a, &rest);
        assert!(matches!(sniff, Sniff::Http2 { .. }));
        assert!(a.is_multiplexed());

        let b = Activity::new();
        let mut sniff = Sniff::Preface(0);
        note_read(&mut sniff, &b, b"PRI * HTTP/1.1\r\n");
        assert!(matches!(sniff, Sniff::Http1));
        assert!(!b.is_multiplexed());
        let mut sniff = Sniff::Preface(0);
        note_read(&mut sniff, &b, b"GET / HTTP/1.1\r\n");
        assert!(matches!(sniff, Sniff::Http1));
    }
}
