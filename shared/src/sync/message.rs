//! The messages of the automerge-repo websocket protocol, version "1": one CBOR map per binary
//! frame (see automerge-repo's `automerge-repo-network-websocket` README, "Wire Protocol").
//!
//! Decoding is strict about the fields a message needs and lenient about everything else: unknown
//! fields are ignored, unknown message types that are well-formed maps come back as
//! [`Message::Other`] (so newer clients keep working), and CBOR lengths may use more bytes than
//! needed (JavaScript encoders do that).
//!
//! Decoding is also bounded: before ciborium builds values, [`check_cbor_shape`] walks the frame
//! once and refuses more than [`MAX_CBOR_ITEMS`] values or nesting deeper than
//! [`MAX_CBOR_DEPTH`] (each one-byte CBOR item would otherwise become a value of tens of bytes),
//! and the text fields a peer chooses (ids, the message type) have maximum lengths.

use ciborium::Value;

use super::document_id::{DocumentId, DocumentIdError};

/// The only protocol version there is.
pub const PROTOCOL_VERSION: &str = "1";

/// A peer id: an opaque string chosen by each peer for the life of its process or tab.
pub type PeerId = String;

/// CBOR values (at any depth) one frame may hold; a `sync` frame holds about a dozen.
pub const MAX_CBOR_ITEMS: usize = 1_024;
/// How deep CBOR values may nest in one frame; protocol messages nest two levels.
pub const MAX_CBOR_DEPTH: usize = 16;
/// The longest peer id, session id or storage id accepted, in bytes (automerge-repo sends
/// UUIDs and short names).
pub const MAX_ID_BYTES: usize = 256;
/// The longest message type or protocol version accepted, in bytes.
pub const MAX_TYPE_BYTES: usize = 64;
/// The longest `documentId` text accepted before it is decoded, in bytes (an `automerge:` URL,
/// possibly with heads; the id itself is bounded again by [`DocumentId::parse`]).
pub const MAX_DOCUMENT_ID_BYTES: usize = 1_024;
/// A peer's `error` text is kept to this many characters.
const MAX_ERROR_CHARS: usize = 1_024;

/// Why a frame is not a protocol message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the frame is not CBOR: {0}")]
    NotCbor(String),
    #[error("the frame is not a CBOR map with a text `type`")]
    NotAMessage,
    #[error("`{message_type}` message: `{field}` is missing or not {expected}")]
    BadField {
        message_type: String,
        field: &'static str,
        expected: &'static str,
    },
    #[error("`{message_type}` message: {source}")]
    BadDocumentId {
        message_type: String,
        source: DocumentIdError,
    },
    #[error("`{message_type}` message: `{field}` is longer than {max} bytes")]
    TooLong {
        message_type: String,
        field: &'static str,
        max: usize,
    },
    #[error("the frame's CBOR {0}")]
    TooComplex(String),
}

impl ProtocolError {
    /// A short, stable label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            ProtocolError::NotCbor(_)
            | ProtocolError::NotAMessage
            | ProtocolError::TooComplex(_) => "not_a_message",
            ProtocolError::BadField { .. } => "bad_field",
            ProtocolError::BadDocumentId { .. } => "bad_document_id",
            ProtocolError::TooLong { .. } => "field_too_long",
        }
    }
}

/// What a peer says about itself in `join` and `peer`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerMetadata {
    /// Id of the peer's persistent storage, if it has one.
    pub storage_id: Option<String>,
    /// Whether the peer will not come back with this storage.
    pub is_ephemeral: bool,
}

/// A protocol message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// First message of the initiating peer (the client).
    Join {
        sender_id: PeerId,
        supported_protocol_versions: Vec<String>,
        metadata: Option<PeerMetadata>,
    },
    /// The receiving peer's (the server's) answer to `join`.
    Peer {
        sender_id: PeerId,
        target_id: PeerId,
        selected_protocol_version: String,
        metadata: Option<PeerMetadata>,
    },
    /// Advisory: the sender is about to disconnect.
    Leave { sender_id: PeerId },
    /// Like `sync`, but the sender does not have the document and wants `doc-unavailable` if
    /// the recipient does not either.
    Request {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    /// An automerge sync message about one document.
    Sync {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    /// The sender does not have the document.
    DocUnavailable {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
    },
    /// Transient data about a document (presence, cursors), relayed, never stored.
    Ephemeral {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        session_id: String,
        count: u64,
        data: Vec<u8>,
    },
    /// A protocol error; the sender closes the connection after it.
    Error { message: String },
    /// A well-formed message of a type this version does not act on (e.g. remote heads
    /// gossip); ignored.
    Other { message_type: String },
}

impl Message {
    /// The wire name of this message's type.
    pub fn type_name(&self) -> &str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::Error { .. } => "error",
            Message::Other { message_type } => message_type,
        }
    }

    /// Decodes one frame.
    pub fn decode(frame: &[u8]) -> Result<Message, ProtocolError> {
        check_cbor_shape(frame)?;
        let value: Value = ciborium::de::from_reader(frame)
            .map_err(|err| ProtocolError::NotCbor(err.to_string()))?;
        let Value::Map(entries) = value else {
            return Err(ProtocolError::NotAMessage);
        };
        let fields = Fields {
            entries: &entries,
            message_type: String::new(),
        };
        let Some(Value::Text(message_type)) = fields.get("type") else {
            return Err(ProtocolError::NotAMessage);
        };
        if message_type.len() > MAX_TYPE_BYTES {
            return Err(ProtocolError::TooLong {
                message_type: message_type.chars().take(MAX_TYPE_BYTES).collect(),
                field: "type",
                max: MAX_TYPE_BYTES,
            });
        }
        let fields = Fields {
            entries: &entries,
            message_type: message_type.clone(),
        };
        Ok(match message_type.as_str() {
            "join" => Message::Join {
                sender_id: fields.id("senderId")?,
                supported_protocol_versions: fields.texts("supportedProtocolVersions")?,
                metadata: fields.metadata(),
            },
            "peer" => Message::Peer {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                selected_protocol_version: fields.text("selectedProtocolVersion")?,
                metadata: fields.metadata(),
            },
            "leave" => Message::Leave {
                sender_id: fields.id("senderId")?,
            },
            "request" => Message::Request {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                document_id: fields.document_id()?,
                data: fields.bytes("data")?,
            },
            "sync" => Message::Sync {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                document_id: fields.document_id()?,
                data: fields.bytes("data")?,
            },
            "doc-unavailable" => Message::DocUnavailable {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                document_id: fields.document_id()?,
            },
            "ephemeral" => Message::Ephemeral {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                document_id: fields.document_id()?,
                session_id: fields.id("sessionId")?,
                count: fields.count("count")?,
                data: fields.bytes("data")?,
            },
            "error" => Message::Error {
                message: fields
                    .text("message")
                    .unwrap_or_default()
                    .chars()
                    .take(MAX_ERROR_CHARS)
                    .collect(),
            },
            _ => Message::Other {
                message_type: message_type.clone(),
            },
        })
    }

    /// Encodes as one frame.
    pub fn encode(&self) -> Vec<u8> {
        let text = |s: &str| Value::Text(s.to_owned());
        let mut map: Vec<(Value, Value)> = vec![(text("type"), text(self.type_name()))];
        let mut put = |key: &str, value: Value| map.push((text(key), value));
        match self {
            Message::Join {
                sender_id,
                supported_protocol_versions,
                metadata,
            } => {
                put("senderId", text(sender_id));
                put(
                    "supportedProtocolVersions",
                    Value::Array(
                        supported_protocol_versions
                            .iter()
                            .map(|v| text(v))
                            .collect(),
                    ),
                );
                if let Some(metadata) = metadata {
                    put("peerMetadata", metadata.to_value());
                }
            }
            Message::Peer {
                sender_id,
                target_id,
                selected_protocol_version,
                metadata,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("selectedProtocolVersion", text(selected_protocol_version));
                if let Some(metadata) = metadata {
                    put("peerMetadata", metadata.to_value());
                }
            }
            Message::Leave { sender_id } => put("senderId", text(sender_id)),
            Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
            | Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("documentId", text(&document_id.to_string()));
                put("data", Value::Bytes(data.clone()));
            }
            Message::DocUnavailable {
                sender_id,
                target_id,
                document_id,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("documentId", text(&document_id.to_string()));
            }
            Message::Ephemeral {
                sender_id,
                target_id,
                document_id,
                session_id,
                count,
                data,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("documentId", text(&document_id.to_string()));
                put("sessionId", text(session_id));
                put("count", Value::Integer((*count).into()));
                put("data", Value::Bytes(data.clone()));
            }
            Message::Error { message } => put("message", text(message)),
            Message::Other { .. } => {}
        }
        let mut out = Vec::new();
        // Writing a Value into a Vec cannot fail.
        let _ = ciborium::ser::into_writer(&Value::Map(map), &mut out);
        out
    }
}

impl PeerMetadata {
    fn to_value(&self) -> Value {
        let mut map = vec![(
            Value::Text("isEphemeral".into()),
            Value::Bool(self.is_ephemeral),
        )];
        if let Some(storage_id) = &self.storage_id {
            map.push((
                Value::Text("storageId".into()),
                Value::Text(storage_id.clone()),
            ));
        }
        Value::Map(map)
    }
}

/// Walks the first CBOR value of `frame` without building it: refuses more than
/// [`MAX_CBOR_ITEMS`] values, nesting deeper than [`MAX_CBOR_DEPTH`], and lengths that run past
/// the frame. Linear in the frame, allocates at most [`MAX_CBOR_DEPTH`] entries.
pub fn check_cbor_shape(frame: &[u8]) -> Result<(), ProtocolError> {
    let too_complex = |text: String| ProtocolError::TooComplex(text);
    let truncated = || ProtocolError::NotCbor("the frame ends inside a value".to_owned());
    // Per open container: how many values it still holds (`None`: until a break byte).
    let mut open: Vec<Option<u64>> = Vec::new();
    let mut pos = 0usize;
    let mut items = 0usize;
    loop {
        let initial = *frame.get(pos).ok_or_else(truncated)?;
        pos += 1;
        let (major, info) = (initial >> 5, initial & 0x1f);
        if initial == 0xff {
            // A break ends the innermost container of indefinite length.
            match open.pop() {
                Some(None) => {}
                _ => return Err(ProtocolError::NotCbor("an unexpected break".to_owned())),
            }
        } else {
            items += 1;
            if items > MAX_CBOR_ITEMS {
                return Err(too_complex(format!(
                    "holds more than {MAX_CBOR_ITEMS} values"
                )));
            }
            let argument: Option<u64> = match info {
                0..=23 => Some(u64::from(info)),
                24..=27 => {
                    let len = 1usize << (info - 24);
                    let bytes = frame.get(pos..pos + len).ok_or_else(truncated)?;
                    pos += len;
                    Some(bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
                }
                31 if (2..=5).contains(&major) => None,
                _ => {
                    return Err(ProtocolError::NotCbor(format!(
                        "a bad header byte {initial:#04x}"
                    )));
                }
            };
            let remaining = (frame.len() - pos) as u64;
            match (major, argument) {
                // Integers and simple values or floats: the argument was all of it.
                (0 | 1 | 7, _) => {}
                (2 | 3, Some(len)) => {
                    if len > remaining {
                        return Err(truncated());
                    }
                    pos += len as usize;
                }
                (4, Some(count)) | (5, Some(count)) => {
                    let values = if major == 5 {
                        count.saturating_mul(2)
                    } else {
                        count
                    };
                    if values > remaining {
                        return Err(truncated());
                    }
                    if values > 0 {
                        open.push(Some(values));
                        if open.len() > MAX_CBOR_DEPTH {
                            return Err(too_complex(format!("nests deeper than {MAX_CBOR_DEPTH}")));
                        }
                        continue;
                    }
                }
                (2..=5, None) => {
                    open.push(None);
                    if open.len() > MAX_CBOR_DEPTH {
                        return Err(too_complex(format!("nests deeper than {MAX_CBOR_DEPTH}")));
                    }
                    continue;
                }
                // A tag: the value it tags follows and takes its place.
                (6, _) => continue,
                _ => {
                    return Err(ProtocolError::NotCbor(format!(
                        "a bad header byte {initial:#04x}"
                    )));
                }
            }
        }
        // One value is complete: count it off its container, and each container it completes.
        loop {
            match open.last_mut() {
                None => return Ok(()),
                Some(None) => break,
                Some(Some(left)) => {
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    open.pop();
                }
            }
        }
    }
}

/// Typed access to the entries of one message map.
struct Fields<'a> {
    entries: &'a [(Value, Value)],
    message_type: String,
}

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find_map(|(k, v)| match k {
            Value::Text(k) if k == key => Some(v),
            _ => None,
        })
    }

    fn bad(&self, field: &'static str, expected: &'static str) -> ProtocolError {
        ProtocolError::BadField {
            message_type: self.message_type.clone(),
            field,
            expected,
        }
    }

    fn text(&self, key: &'static str) -> Result<String, ProtocolError> {
        match self.get(key) {
            Some(Value::Text(text)) => Ok(text.clone()),
            _ => Err(self.bad(key, "text")),
        }
    }

    /// A text the peer chose as an id: at most [`MAX_ID_BYTES`].
    fn id(&self, key: &'static str) -> Result<String, ProtocolError> {
        match self.get(key) {
            Some(Value::Text(text)) if text.len() > MAX_ID_BYTES => {
                Err(self.too_long(key, MAX_ID_BYTES))
            }
            Some(Value::Text(text)) => Ok(text.clone()),
            _ => Err(self.bad(key, "text")),
        }
    }

    fn too_long(&self, field: &'static str, max: usize) -> ProtocolError {
        ProtocolError::TooLong {
            message_type: self.message_type.clone(),
            field,
            max,
        }
    }

    fn texts(&self, key: &'static str) -> Result<Vec<String>, ProtocolError> {
        match self.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Text(text) if text.len() > MAX_TYPE_BYTES => {
                        Err(self.too_long(key, MAX_TYPE_BYTES))
                    }
                    Value::Text(text) => Ok(text.clone()),
                    _ => Err(self.bad(key, "a list of text")),
                })
                .collect(),
            _ => Err(self.bad(key, "a list of text")),
        }
    }

    fn bytes(&self, key: &'static str) -> Result<Vec<u8>, ProtocolError> {
        match self.get(key) {
            Some(Value::Bytes(bytes)) => Ok(bytes.clone()),
            _ => Err(self.bad(key, "bytes")),
        }
    }

    fn count(&self, key: &'static str) -> Result<u64, ProtocolError> {
        match self.get(key) {
            Some(Value::Integer(n)) => {
                u64::try_from(*n).map_err(|_| self.bad(key, "an unsigned integer"))
            }
            // JavaScript may send a whole number as a float.
            Some(Value::Float(f))
                if *f >= 0.0 && f.fract() == 0.0 && *f < 9.007_199_254_740_992e15 =>
            {
                Ok(*f as u64)
            }
            _ => Err(self.bad(key, "an unsigned integer")),
        }
    }

    fn document_id(&self) -> Result<DocumentId, ProtocolError> {
        let text = match self.get("documentId") {
            Some(Value::Text(text)) if text.len() > MAX_DOCUMENT_ID_BYTES => {
                return Err(self.too_long("documentId", MAX_DOCUMENT_ID_BYTES));
            }
            Some(Value::Text(text)) => text,
            _ => return Err(self.bad("documentId", "text")),
        };
        DocumentId::parse(text).map_err(|source| ProtocolError::BadDocumentId {
            message_type: self.message_type.clone(),
            source,
        })
    }

    /// `peerMetadata` (what the JavaScript implementation sends) or `metadata` (the README).
    fn metadata(&self) -> Option<PeerMetadata> {
        let Some(Value::Map(entries)) = self.get("peerMetadata").or_else(|| self.get("metadata"))
        else {
            return None;
        };
        let inner = Fields {
            entries,
            message_type: self.message_type.clone(),
        };
        Some(PeerMetadata {
            // A storage id that is not a short text is ignored, as if absent.
            storage_id: inner.id("storageId").ok(),
            is_ephemeral: matches!(inner.get("isEphemeral"), Some(Value::Bool(true))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> DocumentId {
        DocumentId::from_bytes([9; 16])
    }

    #[test]
    fn every_message_round_trips() {
        let messages = vec![
            Message::Join {
                sender_id: "client".into(),
                supported_protocol_versions: vec!["1".into()],
                metadata: Some(PeerMetadata {
                    storage_id: Some("s1".into()),
                    is_ephemeral: false,
                }),
            },
            Message::Peer {
                sender_id: "server".into(),
                target_id: "client".into(),
                selected_protocol_version: "1".into(),
                metadata: Some(PeerMetadata {
                    storage_id: None,
                    is_ephemeral: true,
                }),
            },
            Message::Leave {
                sender_id: "client".into(),
            },
            Message::Request {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: doc(),
                data: vec![1, 2],
            },
            Message::Sync {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: doc(),
                data: vec![0x42],
            },
            Message::DocUnavailable {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: doc(),
            },
            Message::Ephemeral {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: doc(),
                session_id: "s".into(),
                count: 7,
                data: vec![0xa0],
            },
            Message::Error {
                message: "tệ quá".into(),
            },
        ];
        for message in messages {
            assert_eq!(Message::decode(&message.encode()).unwrap(), message);
        }
    }

    #[test]
    fn non_minimal_lengths_from_javascript_encoders_are_accepted() {
        // {"type": "leave", "senderId": "x"} with every length written in 1 or 2 extra bytes:
        // map(2) as 0xb8 0x02, text(4) as 0x78 0x04, text(5) as 0x79 0x00 0x05 ...
        let mut frame = vec![0xb8, 0x02];
        frame.extend([0x78, 0x04]);
        frame.extend(b"type");
        frame.extend([0x79, 0x00, 0x05]);
        frame.extend(b"leave");
        frame.extend([0x7a, 0x00, 0x00, 0x00, 0x08]);
        frame.extend(b"senderId");
        frame.extend([0x78, 0x01]);
        frame.extend(b"x");
        assert_eq!(
            Message::decode(&frame).unwrap(),
            Message::Leave {
                sender_id: "x".into()
            }
        );
    }

    #[test]
    fn a_join_from_the_javascript_client_with_an_undefined_storage_id_is_read() {
        // cbor-x writes maps with a 2-byte count (0xb9) and `storageId: undefined` as 0xf7.
        let mut frame = vec![0xb9, 0x00, 0x04];
        let text = |frame: &mut Vec<u8>, s: &str| {
            frame.push(0x60 + u8::try_from(s.len()).unwrap());
            frame.extend(s.as_bytes());
        };
        text(&mut frame, "type");
        text(&mut frame, "join");
        text(&mut frame, "senderId");
        text(&mut frame, "peer-abc");
        text(&mut frame, "peerMetadata");
        frame.extend([0xb9, 0x00, 0x02]);
        text(&mut frame, "storageId");
        frame.push(0xf7);
        text(&mut frame, "isEphemeral");
        frame.push(0xf5);
        frame.extend([0x78, 25]);
        frame.extend(b"supportedProtocolVersions");
        frame.push(0x81);
        text(&mut frame, "1");
        assert_eq!(
            Message::decode(&frame).unwrap(),
            Message::Join {
                sender_id: "peer-abc".into(),
                supported_protocol_versions: vec!["1".into()],
                metadata: Some(PeerMetadata {
                    storage_id: None,
                    is_ephemeral: true
                }),
            }
        );
    }

    #[test]
    fn garbage_and_bad_shapes_are_errors_not_panics() {
        assert!(matches!(
            Message::decode(&[0xff, 0x00, 0x13]),
            Err(ProtocolError::NotCbor(_))
        ));
        assert!(matches!(
            Message::decode(&[]),
            Err(ProtocolError::NotCbor(_))
        ));
        // An array, not a map.
        assert_eq!(Message::decode(&[0x80]), Err(ProtocolError::NotAMessage));
        // A map without a type.
        assert_eq!(Message::decode(&[0xa0]), Err(ProtocolError::NotAMessage));
        let mut bad_sync = Message::Sync {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc(),
            data: vec![],
        }
        .encode();
        // Turn the bytes of `data` (0x40, empty) into the text "" (0x60).
        let last = bad_sync.len() - 1;
        bad_sync[last] = 0x60;
        assert_eq!(
            Message::decode(&bad_sync).unwrap_err().to_string(),
            "`sync` message: `data` is missing or not bytes"
        );
    }

    #[test]
    fn unknown_types_are_kept_as_other() {
        let frame = {
            let mut out = Vec::new();
            let value = Value::Map(vec![(
                Value::Text("type".into()),
                Value::Text("remote-heads-changed".into()),
            )]);
            ciborium::ser::into_writer(&value, &mut out).unwrap();
            out
        };
        assert_eq!(
            Message::decode(&frame).unwrap(),
            Message::Other {
                message_type: "remote-heads-changed".into()
            }
        );
    }

    #[test]
    fn a_bad_document_id_is_named() {
        let mut out = Vec::new();
        let value = Value::Map(vec![
            (
                Value::Text("type".into()),
                Value::Text("doc-unavailable".into()),
            ),
            (Value::Text("senderId".into()), Value::Text("a".into())),
            (Value::Text("targetId".into()), Value::Text("b".into())),
            (Value::Text("documentId".into()), Value::Text("nope".into())),
        ]);
        ciborium::ser::into_writer(&value, &mut out).unwrap();
        assert_eq!(
            Message::decode(&out).unwrap_err().to_string(),
            "`doc-unavailable` message: `nope` is not a base58check document id"
        );
    }
}
