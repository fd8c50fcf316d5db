//! One websocket of `/sync`, from upgrade to close: reads frames within the connection's
//! memory budget, writes what the hub sends through a bounded queue (a large message as
//! fragments of at most [`WRITE_FRAME_BYTES`]), pings, and closes on shutdown.

use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError};

use super::*;

/// Sends one binary message: whole if it fits in one frame of [`WRITE_FRAME_BYTES`], else as a
/// fragmented message of frames that size (each written and flushed before the next is
/// formatted, so tungstenite's write buffer never holds more than one).
async fn send_binary<S>(sink: &mut S, message: Bytes) -> Result<(), WsError>
where
    S: futures_util::Sink<WsMessage, Error = WsError> + Unpin,
{
    for frame in fragments(message) {
        sink.send(WsMessage::Frame(frame)).await?;
    }
    Ok(())
}

/// The frames of one binary message, each at most [`WRITE_FRAME_BYTES`] with its header: the
/// first `Binary`, the rest `Continue`, only the last final (a message that fits is one final
/// `Binary` frame).
fn fragments(message: Bytes) -> impl Iterator<Item = Frame> {
    // A server's header for a payload of 126..65,535 bytes: 2 bytes and a 16-bit length.
    const HEADER: usize = 4;
    let payload = WRITE_FRAME_BYTES - HEADER;
    let count = message.len().div_ceil(payload).max(1);
    (0..count).map(move |index| {
        let start = index * payload;
        let piece = message.slice(start..(start + payload).min(message.len()));
        let opcode = if index == 0 {
            Data::Binary
        } else {
            Data::Continue
        };
        Frame::message(piece, OpCode::Data(opcode), index + 1 == count)
    })
}

/// An `error` message for the client, sent before a close.
async fn send_error<S>(sink: &mut S, reason: &str)
where
    S: futures_util::Sink<WsMessage, Error = WsError> + Unpin,
{
    let message = Message::Error {
        message: reason.to_owned(),
    };
    let _ = send_binary(sink, message.encode().into()).await;
}

pub(super) fn release_address(service: &SyncService, ip: IpAddr) {
    let mut per_address = service
        .per_address
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(count) = per_address.get_mut(&ip) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            per_address.remove(&ip);
        }
    }
}

/// One websocket, from upgrade to close.
pub(super) async fn serve_socket(
    socket: Socket,
    addr: SocketAddr,
    service: SyncService,
    session: Option<Session>,
) {
    let conn = ConnId(service.next_conn.fetch_add(1, Ordering::Relaxed));
    let (outbound, mut outbound_rx) = mpsc::channel(service.config.outbound_queue);
    let queued = Arc::new(AtomicUsize::new(0));
    let outbound = Outlet {
        sender: outbound,
        queued: queued.clone(),
    };
    // Frames read and not yet handled by the hub hold permits of this budget (in bytes): a
    // client that sends faster than the hub handles is simply not read meanwhile.
    let budget = u32::try_from(service.config.max_connection_memory)
        .unwrap_or(u32::MAX)
        .clamp(1, u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX));
    let inbound = Arc::new(Semaphore::new(budget as usize));
    let who = match &session {
        Some(session) => Who {
            user: session.user.id.clone(),
            device: session.device.clone(),
            token_hash: Some(session.token_hash.clone()),
        },
        None => Who {
            user: OPEN_MODE_USER.to_owned(),
            device: format!("{addr}"),
            token_hash: None,
        },
    };
    let principal = session.map(|session| session.principal);
    let connected = Input::Connected {
        conn,
        now_ms: service.now_ms(),
        principal,
    };
    let registered = service
        .commands
        .send(Command::Register {
            conn,
            outbound,
            who,
        })
        .await
        .is_ok()
        && service
            .commands
            .send(Command::Input(connected))
            .await
            .is_ok();
    if !registered {
        release_address(&service, addr.ip());
        return;
    }
    tracing::debug!(conn = conn.0, %addr, "sync connection opened");
    service.metrics.connection_opened();
    let (mut sink, mut stream) = socket.split();
    let mut linger = false;
    let keepalive = service.config.keepalive;
    let mut ping = tokio::time::interval(keepalive);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let close_reason: Option<(u16, String)> = loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    last_heard = Instant::now();
                    let share = u32::try_from(bytes.len()).unwrap_or(u32::MAX).clamp(1, budget);
                    let Ok(permit) = inbound.clone().acquire_many_owned(share).await else {
                        break Some((1011, "the server is stopping".to_owned()));
                    };
                    let input = Input::Frame { conn, frame: bytes.to_vec(), now_ms: service.now_ms() };
                    if service.commands.send(Command::Frame(input, permit)).await.is_err() {
                        break Some((1001, "the server is stopping".to_owned()));
                    }
                }
                Some(Ok(WsMessage::Text(_))) => {
                    service.metrics.refused("text_frame");
                    let reason = "text frames are not part of the protocol; send CBOR in binary frames".to_owned();
                    send_error(&mut sink, &reason).await;
                    break Some((1003, reason));
                }
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => last_heard = Instant::now(),
                // Never read (tungstenite yields whole messages); axum skipped them too.
                Some(Ok(WsMessage::Frame(_))) => {}
                Some(Ok(WsMessage::Close(_))) | None => break None,
                Some(Err(err)) => {
                    // Oversized frames and broken websocket framing end here, usually with
                    // the rest of the frame still unread.
                    let (label, code) = if matches!(err, WsError::Capacity(_)) {
                        ("frame_too_large", 1009)
                    } else {
                        ("bad_websocket_frame", 1002)
                    };
                    service.metrics.refused(label);
                    let reason = format!("bad websocket frame: {err}");
                    send_error(&mut sink, &reason).await;
                    linger = true;
                    break Some((code, reason));
                }
            },
            out = outbound_rx.recv() => match out {
                Some(Outbound::Frame(frame)) => {
                    queued.fetch_sub(frame.len(), Ordering::Relaxed);
                    if send_binary(&mut sink, frame.into()).await.is_err() {
                        break None;
                    }
                }
                Some(Outbound::Close(reason)) => break Some((1008, reason)),
                None => {
                    // The hub task let go of this connection without a word: it was too slow
                    // to read, or the hub task was restarted.
                    let reason = "the server dropped this connection (too slow to read what it sends, or its sync service restarted); reconnect".to_owned();
                    send_error(&mut sink, &reason).await;
                    break Some((1011, reason));
                }
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > keepalive * 2 {
                    break Some((1001, "no answer to pings".to_owned()));
                }
                if sink.send(WsMessage::Ping(Bytes::new())).await.is_err() {
                    break None;
                }
            }
            () = service.shutdown.cancelled() => break Some((1001, "the server is stopping".to_owned())),
        }
    };
    if let Some((code, reason)) = close_reason {
        tracing::debug!(conn = conn.0, %addr, code, %reason, "closing a sync connection");
        let reason: String = reason.chars().take(100).collect();
        let _ = sink
            .send(WsMessage::Close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            })))
            .await;
    }
    let _ = sink.close().await;
    if linger {
        // The client may still be sending the rest of an oversized frame: closing now would
        // reset the connection and lose the `error` above before the client reads it.
        tokio::select! {
            () = tokio::time::sleep(LINGER) => {}
            () = service.shutdown.cancelled() => {}
        }
    }
    drop((sink, stream));
    service.metrics.connection_closed();
    let _ = service
        .commands
        .send(Command::Input(Input::Disconnected { conn }))
        .await;
    release_address(&service, addr.ip());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_message_is_written_as_fragments_no_larger_than_the_write_frame() {
        let message: Bytes = (0..5_000u32).map(|i| i as u8).collect::<Vec<u8>>().into();
        let frames: Vec<Frame> = fragments(message.clone()).collect();
        assert_eq!(frames.len(), 3);
        assert!(frames.iter().all(|frame| frame.len() <= WRITE_FRAME_BYTES));
        assert_eq!(frames[0].len(), WRITE_FRAME_BYTES);
        let opcodes: Vec<OpCode> = frames.iter().map(|f| f.header().opcode).collect();
        assert_eq!(
            opcodes,
            [Data::Binary, Data::Continue, Data::Continue].map(OpCode::Data)
        );
        let finals: Vec<bool> = frames.iter().map(|f| f.header().is_final).collect();
        assert_eq!(finals, [false, false, true]);
        let joined: Vec<u8> = frames.iter().flat_map(|f| f.payload().to_vec()).collect();
        assert_eq!(joined, message);
    }

    #[test]
    fn a_message_that_fits_is_one_final_binary_frame() {
        for len in [0, 1, WRITE_FRAME_BYTES - 4] {
            let frames: Vec<Frame> = fragments(vec![7u8; len].into()).collect();
            assert_eq!(frames.len(), 1, "{len} bytes");
            assert_eq!(frames[0].header().opcode, OpCode::Data(Data::Binary));
            assert!(frames[0].header().is_final);
            assert_eq!(frames[0].len(), len + if len < 126 { 2 } else { 4 });
        }
    }
}
