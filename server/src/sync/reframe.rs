//! A client's large websocket frames read as fragments: the stream under tungstenite rewrites
//! each masked data frame larger than [`READ_FRAME_BYTES`] into a fragmented message (RFC 6455
//! §5.4) of frames that size, so tungstenite never reserves room for more than one of them.
//!
//! Why: tungstenite reserves a whole frame's length in its read buffer and keeps that capacity
//! while the socket is open, so a phone that once sent a 64 KiB dossier in one frame (browsers
//! and Node's `ws` never fragment) kept ~64 KiB on the server while idle. Fragments are
//! collected by tungstenite into the message it hands over (and does not keep), as for a client
//! that fragments itself. Nothing else changes: control frames, small frames, unmasked frames
//! and frames over the size limit pass unchanged, so tungstenite refuses what it refused (an
//! oversized frame at its header, before its payload is read).
//!
//! The payload is never copied or unmasked here: a fragment's header is written over the
//! frame's own in the read buffer (same length field width; tungstenite does not insist on the
//! shortest) or emitted between reads, and every fragment but the last is a multiple of 4 bytes
//! long, so the frame's masking key unmasks each fragment as it stands.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The longest payload of a fragment passed on (and the most read at once).
pub(super) const READ_FRAME_BYTES: usize = 2 << 10;

/// The longest websocket frame header: 2 bytes, a 64-bit length, a masking key.
const MAX_HEADER: usize = 14;

/// Reads through to `inner`, splitting a client's large data frames; writes go straight
/// through.
#[derive(Debug)]
pub struct Reframe<S> {
    inner: S,
    /// Frames longer than this are passed whole (tungstenite refuses them at once).
    max_frame: u64,
    /// The header being read, while it is held back from the reader (`have` bytes of it).
    header: [u8; MAX_HEADER],
    have: usize,
    /// Payload bytes still to pass of the frame (or fragment) under way; 0 at a header.
    body_left: u64,
    /// The frame being split, if one is.
    split: Option<Split>,
    /// A fragment's header, to pass before anything else (`pending[at..end]`).
    pending: [u8; MAX_HEADER],
    pending_at: usize,
    pending_end: usize,
}

/// What remains of a frame being split after the fragment under way.
#[derive(Debug, Clone, Copy)]
struct Split {
    after: u64,
    fin: bool,
    mask: [u8; 4],
}

impl<S> Reframe<S> {
    /// Reads `inner` for a server whose frames may be at most `max_frame` bytes long.
    pub fn new(inner: S, max_frame: usize) -> Reframe<S> {
        Reframe {
            inner,
            max_frame: u64::try_from(max_frame).unwrap_or(u64::MAX),
            header: [0; MAX_HEADER],
            have: 0,
            body_left: 0,
            split: None,
            pending: [0; MAX_HEADER],
            pending_at: 0,
            pending_end: 0,
        }
    }

    /// The header's whole length, once its first two bytes are known.
    fn header_len(first_two: &[u8]) -> Option<usize> {
        let second = *first_two.get(1)?;
        let extra = match second & 0x7F {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        Some(2 + extra + if second & 0x80 != 0 { 4 } else { 0 })
    }

    /// A complete header (`bytes`) has been read: decides whether its frame is split, rewrites
    /// it as the first fragment's header if so, and sets what follows.
    fn on_header(&mut self, bytes: &mut [u8]) {
        let extra = bytes.len() - 2 - if bytes[1] & 0x80 != 0 { 4 } else { 0 };
        let length = bytes[2..2 + extra]
            .iter()
            .fold(0u64, |length, byte| (length << 8) | u64::from(*byte));
        let length = if extra == 0 {
            u64::from(bytes[1] & 0x7F)
        } else {
            length
        };
        let opcode = bytes[0] & 0x0F;
        let masked = bytes[1] & 0x80 != 0;
        let piece = READ_FRAME_BYTES as u64;
        if masked && opcode <= 2 && length > piece && length <= self.max_frame {
            let mut mask = [0; 4];
            mask.copy_from_slice(&bytes[2 + extra..2 + extra + 4]);
            self.split = Some(Split {
                after: length - piece,
                fin: bytes[0] & 0x80 != 0,
                mask,
            });
            bytes[0] &= 0x7F;
            let width = piece.to_be_bytes();
            bytes[2..2 + extra].copy_from_slice(&width[8 - extra..]);
            self.body_left = piece;
        } else {
            self.body_left = length;
        }
    }

    /// The frame or fragment under way has been passed whole: queues the next fragment's
    /// header, if a frame is being split.
    fn on_body_end(&mut self) {
        let Some(split) = self.split.as_mut() else {
            return;
        };
        if split.after == 0 {
            self.split = None;
            return;
        }
        let length = split.after.min(READ_FRAME_BYTES as u64);
        split.after -= length;
        let last = split.after == 0;
        // A continuation frame, final only if it ends a frame that was.
        self.pending[0] = if last && split.fin { 0x80 } else { 0x00 };
        let mut end = 2;
        if length < 126 {
            self.pending[1] = 0x80 | length as u8;
        } else {
            self.pending[1] = 0x80 | 126;
            self.pending[2..4].copy_from_slice(&(length as u16).to_be_bytes());
            end = 4;
        }
        self.pending[end..end + 4].copy_from_slice(&split.mask);
        self.pending_at = 0;
        self.pending_end = end + 4;
        self.body_left = length;
    }

    /// Passes the bytes just read into `data`; answers how many of them go to the reader now
    /// (fewer when they end inside a header, which is held back until it is whole).
    fn scan(&mut self, data: &mut [u8]) -> usize {
        let mut pos = 0;
        while pos < data.len() {
            if self.body_left > 0 {
                let take = self.body_left.min((data.len() - pos) as u64);
                self.body_left -= take;
                pos += take as usize;
                if self.body_left == 0 {
                    self.on_body_end();
                    // A split frame's reads stop at each fragment's end (see `poll_read`).
                    debug_assert!(self.split.is_none() || pos == data.len());
                }
                continue;
            }
            debug_assert_eq!(self.have, 0, "a header is never held across a scan");
            let start = pos;
            let mut need = 2;
            while pos < data.len() && pos - start < need {
                pos += 1;
                if pos - start == 2 {
                    need = Self::header_len(&data[start..pos]).unwrap_or(2);
                }
            }
            if pos - start < need {
                // The read ended inside a header: hold it back.
                self.header[..pos - start].copy_from_slice(&data[start..pos]);
                self.have = pos - start;
                return start;
            }
            // (An empty frame leaves `body_left` at 0: the next header follows at once.)
            self.on_header(&mut data[start..pos]);
        }
        data.len()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Reframe<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pending_at < this.pending_end {
                let n = (this.pending_end - this.pending_at).min(buf.remaining());
                buf.put_slice(&this.pending[this.pending_at..this.pending_at + n]);
                this.pending_at += n;
                return Poll::Ready(Ok(()));
            }
            if this.have > 0 {
                // Finish a held-back header with reads of exactly what it lacks.
                let need = Self::header_len(&this.header[..this.have]).unwrap_or(2);
                if this.have < need {
                    let mut rest = ReadBuf::new(&mut this.header[this.have..need]);
                    ready!(Pin::new(&mut this.inner).poll_read(cx, &mut rest))?;
                    let n = rest.filled().len();
                    if n == 0 {
                        // The stream ended inside a header: pass what there is.
                        this.pending[..this.have].copy_from_slice(&this.header[..this.have]);
                        (this.pending_at, this.pending_end, this.have) = (0, this.have, 0);
                        continue;
                    }
                    this.have += n;
                    continue;
                }
                let mut header = this.header;
                this.on_header(&mut header[..need]);
                this.pending[..need].copy_from_slice(&header[..need]);
                (this.pending_at, this.pending_end, this.have) = (0, need, 0);
                continue;
            }
            // At most one fragment's worth at once, and never past the end of a fragment of a
            // frame being split (its successor's header must come first).
            let mut limit = buf.remaining().min(READ_FRAME_BYTES);
            if this.split.is_some() {
                limit = limit.min(usize::try_from(this.body_left).unwrap_or(usize::MAX));
            }
            let unfilled = buf.initialize_unfilled_to(limit);
            let mut chunk = ReadBuf::new(unfilled);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut chunk))?;
            let n = chunk.filled().len();
            if n == 0 {
                return Poll::Ready(Ok(()));
            }
            let passed = this.scan(&mut buf.initialize_unfilled_to(limit)[..n]);
            buf.advance(passed);
            if passed > 0 {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Reframe<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use proptest::prelude::*;
    use tokio::io::AsyncReadExt;
    use tokio_tungstenite::WebSocketStream;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};
    use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
    use tokio_tungstenite::tungstenite::{Error, Message};

    use super::*;

    /// Bytes a client sent, read back in chunks of the given sizes (in turn); writes vanish.
    struct Chunked {
        data: Vec<u8>,
        at: usize,
        sizes: Vec<usize>,
        turn: usize,
    }

    impl AsyncRead for Chunked {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            let size = this.sizes[this.turn % this.sizes.len()].max(1);
            this.turn += 1;
            let n = size.min(buf.remaining()).min(this.data.len() - this.at);
            buf.put_slice(&this.data[this.at..this.at + n]);
            this.at += n;
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Chunked {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            b: &[u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(b.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// A frame as a client sends it (masked with `mask`, if any).
    fn client_frame(frame: Frame, mask: Option<[u8; 4]>, out: &mut Vec<u8>) {
        let mut frame = frame;
        frame.header_mut().mask = mask;
        frame.format(out).unwrap();
    }

    /// What a server configured with `max` reads from `data`: its messages, then how it ended.
    async fn read_all<S: AsyncRead + AsyncWrite + Unpin>(io: S, max: usize) -> Vec<String> {
        let config = WebSocketConfig::default()
            .read_buffer_size(2 << 10)
            .max_message_size(Some(max))
            .max_frame_size(Some(max));
        let mut socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        let mut seen = Vec::new();
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Binary(bytes)) => seen.push(format!("binary {:?}", sha(&bytes))),
                Ok(other) => seen.push(format!("{other:?}")),
                // A message over the limit is refused by its size so far, which differs when
                // its frames do: compare the kind of refusal.
                Err(Error::Capacity(_)) => {
                    seen.push("error: too long".to_owned());
                    break;
                }
                Err(err) => {
                    seen.push(format!("error {err}"));
                    break;
                }
            }
        }
        seen
    }

    fn sha(bytes: &[u8]) -> String {
        use sha2::Digest;
        format!(
            "{} {:?}",
            bytes.len(),
            sha2::Sha256::digest(bytes).as_slice()
        )
    }

    fn payload(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// The frames (header, payload length) a reader sees through [`Reframe`].
    async fn frames_through(
        data: Vec<u8>,
        sizes: Vec<usize>,
        max: usize,
    ) -> Vec<(FrameHeader, u64)> {
        let mut out = Vec::new();
        let chunked = Chunked {
            data,
            at: 0,
            sizes,
            turn: 0,
        };
        Reframe::new(chunked, max)
            .read_to_end(&mut out)
            .await
            .unwrap();
        let mut cursor = io::Cursor::new(&out[..]);
        let mut frames = Vec::new();
        while let Some((header, len)) = FrameHeader::parse(&mut cursor).unwrap() {
            cursor.set_position(cursor.position() + len);
            frames.push((header, len));
        }
        assert_eq!(cursor.position() as usize, out.len(), "whole frames only");
        frames
    }

    #[tokio::test]
    async fn a_large_frame_reaches_tungstenite_as_fragments_of_at_most_the_read_frame_size() {
        let mut data = Vec::new();
        let mask = Some([1, 2, 3, 4]);
        client_frame(
            Frame::message(payload(70_001, 7), OpCode::Data(Data::Binary), true),
            mask,
            &mut data,
        );
        client_frame(Frame::ping(b"hi".to_vec()), mask, &mut data);
        client_frame(
            Frame::message(payload(100, 1), OpCode::Data(Data::Binary), true),
            mask,
            &mut data,
        );
        let frames = frames_through(data.clone(), vec![1_000_000], 1 << 20).await;
        let lengths: Vec<u64> = frames.iter().map(|(_, len)| *len).collect();
        let fragments = 70_001_usize.div_ceil(READ_FRAME_BYTES);
        assert_eq!(lengths.len(), fragments + 2);
        assert!(
            lengths[..fragments - 1]
                .iter()
                .all(|len| *len == READ_FRAME_BYTES as u64)
        );
        assert_eq!(lengths[fragments - 1], (70_001 % READ_FRAME_BYTES) as u64);
        assert_eq!(frames[0].0.opcode, OpCode::Data(Data::Binary));
        assert!(
            frames[1..fragments]
                .iter()
                .all(|(h, _)| h.opcode == OpCode::Data(Data::Continue))
        );
        let finals: Vec<bool> = frames.iter().map(|(h, _)| h.is_final).collect();
        assert_eq!(finals.iter().filter(|fin| **fin).count(), 3, "{finals:?}");
        assert_eq!(frames[fragments].0.opcode, OpCode::Control(Control::Ping));
        // And tungstenite reads the same messages as without it, read in any chunks.
        for sizes in [vec![1], vec![3, 5000, 7], vec![2048], vec![13, 1, 2]] {
            let plain = Chunked {
                data: data.clone(),
                at: 0,
                sizes: sizes.clone(),
                turn: 0,
            };
            let through = Reframe::new(
                Chunked {
                    data: data.clone(),
                    at: 0,
                    sizes,
                    turn: 0,
                },
                1 << 20,
            );
            assert_eq!(
                read_all(through, 1 << 20).await,
                read_all(plain, 1 << 20).await
            );
        }
    }

    #[tokio::test]
    async fn a_frame_over_the_limit_is_passed_whole_and_refused_at_its_header() {
        let mut data = Vec::new();
        client_frame(
            Frame::message(payload(9_000, 3), OpCode::Data(Data::Binary), true),
            Some([9, 8, 7, 6]),
            &mut data,
        );
        let frames = frames_through(data.clone(), vec![500], 8_000).await;
        assert_eq!(frames.len(), 1);
        // Only its header and a little of its payload arrive: refused all the same.
        data.truncate(200);
        let through = Reframe::new(
            Chunked {
                data,
                at: 0,
                sizes: vec![500],
                turn: 0,
            },
            8_000,
        );
        let seen = read_all(through, 8_000).await;
        assert_eq!(seen, ["error: too long"]);
    }

    /// One frame a client may send, as the property test draws it.
    #[derive(Debug, Clone)]
    enum Sent {
        /// A binary message of this many bytes, in client fragments of at most `fragment`.
        Binary {
            len: usize,
            fragment: Option<usize>,
        },
        Text {
            len: usize,
        },
        Ping,
        /// An unmasked frame (a protocol error) of this many bytes.
        Unmasked {
            len: usize,
        },
        Empty,
    }

    fn sent() -> impl Strategy<Value = Sent> {
        prop_oneof![
            6 => (0usize..12_000, proptest::option::of(1usize..5_000))
                .prop_map(|(len, fragment)| Sent::Binary { len, fragment }),
            1 => (0usize..6_000).prop_map(|len| Sent::Text { len }),
            2 => Just(Sent::Ping),
            1 => (0usize..5_000).prop_map(|len| Sent::Unmasked { len }),
            1 => Just(Sent::Empty),
        ]
    }

    fn encode(sent: &[Sent], masks: &[[u8; 4]]) -> Vec<u8> {
        let mut data = Vec::new();
        for (index, frame) in sent.iter().enumerate() {
            let mask = Some(masks[index % masks.len()]);
            let seed = index as u8;
            match frame {
                Sent::Binary { len, fragment } => {
                    let body = payload(*len, seed);
                    let step = fragment.unwrap_or(usize::MAX).max(1);
                    let pieces: Vec<&[u8]> = if body.is_empty() {
                        vec![&body[..]]
                    } else {
                        body.chunks(step).collect()
                    };
                    for (i, piece) in pieces.iter().enumerate() {
                        let opcode = if i == 0 { Data::Binary } else { Data::Continue };
                        let fin = i + 1 == pieces.len();
                        client_frame(
                            Frame::message(piece.to_vec(), OpCode::Data(opcode), fin),
                            mask,
                            &mut data,
                        );
                    }
                }
                Sent::Text { len } => {
                    let text: String = "đạt chuẩn ".chars().cycle().take(*len).collect();
                    client_frame(
                        Frame::message(text.into_bytes(), OpCode::Data(Data::Text), true),
                        mask,
                        &mut data,
                    );
                }
                Sent::Ping => client_frame(Frame::ping(vec![seed; 3]), mask, &mut data),
                Sent::Unmasked { len } => client_frame(
                    Frame::message(payload(*len, seed), OpCode::Data(Data::Binary), true),
                    None,
                    &mut data,
                ),
                Sent::Empty => client_frame(
                    Frame::message(Vec::new(), OpCode::Data(Data::Binary), true),
                    mask,
                    &mut data,
                ),
            }
        }
        data
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn tungstenite_reads_the_same_messages_through_reframe_in_any_chunks(
            sent in proptest::collection::vec(sent(), 1..8),
            masks in proptest::collection::vec(any::<[u8; 4]>(), 1..3),
            sizes in proptest::collection::vec(1usize..6_000, 1..6),
            max in prop_oneof![Just(8_000usize), Just(1usize << 20)],
        ) {
            let data = encode(&sent, &masks);
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let (plain, through, frames) = runtime.block_on(async {
                let plain = read_all(Chunked { data: data.clone(), at: 0, sizes: sizes.clone(), turn: 0 }, max).await;
                let through = read_all(Reframe::new(Chunked { data: data.clone(), at: 0, sizes: sizes.clone(), turn: 0 }, max), max).await;
                (plain, through, frames_through(data.clone(), sizes.clone(), max).await)
            });
            prop_assert_eq!(plain, through);
            for (header, len) in frames {
                let data = matches!(header.opcode, OpCode::Data(_));
                prop_assert!(!data || header.mask.is_none() || len <= READ_FRAME_BYTES as u64 || len > max as u64);
            }
        }
    }
}
