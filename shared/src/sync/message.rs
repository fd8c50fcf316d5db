//! The messages of the automerge-repo websocket protocol, version "1": one CBOR map per binary
//! frame (see automerge-repo's `automerge-repo-network-websocket` README, "Wire Protocol").
//!
//! Decoding is strict about the fields a message needs and lenient about everything else: unknown
//! fields are ignored, unknown message types that are well-formed maps come back as
//! [`Message::Other`] (so newer clients keep working), and CBOR lengths may use more bytes than
//! needed (JavaScript encoders do that).

use ciborium::Value;

use super::document_id::{DocumentId, DocumentIdError};

/// The only protocol version there is.
pub const PROTOCOL_VERSION: &str = "1";

/// A peer id: an opaque string chosen by each peer for the life of its process or tab.
pub type PeerId = String;

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
        let fields = Fields {
            entries: &entries,
            message_type: message_type.clone(),
        };
        Ok(match message_type.as_str() {
            "join" => Message::Join {
                sender_id: fields.text("senderId")?,
                supported_protocol_versions: fields.texts("supportedProtocolVersions")?,
                metadata: fields.metadata(),
            },
            "peer" => Message::Peer {
                sender_id: fields.text("senderId")?,
                target_id: fields.text("targetId")?,
                selected_protocol_version: fields.text("selectedProtocolVersion")?,
                metadata: fields.metadata(),
            },
            "leave" => Message::Leave {
                sender_id: fields.text("senderId")?,
            },
            "request" => Message::Request {
                sender_id: fields.text("senderId")?,
                target_id: fields.text("targetId")?,
                document_id: fields.document_id()?,
                data: fields.bytes("data")?,
            },
            "sync" => Message::Sync {
                sender_id: fields.text("senderId")?,
                target_id: fields.text("targetId")?,
                document_id: fields.document_id()?,
                data: fields.bytes("data")?,
            },
            "doc-unavailable" => Message::DocUnavailable {
                sender_id: fields.text("senderId")?,
                target_id: fields.text("targetId")?,
                document_id: fields.document_id()?,
            },
            "ephemeral" => Message::Ephemeral {
                sender_id: fields.text("senderId")?,
                target_id: fields.text("targetId")?,
                document_id: fields.document_id()?,
                session_id: fields.text("sessionId")?,
                count: fields.count("count")?,
                data: fields.bytes("data")?,
            },
            "error" => Message::Error {
                message: fields.text("message").unwrap_or_default(),
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

    fn texts(&self, key: &'static str) -> Result<Vec<String>, ProtocolError> {
        match self.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
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
        let text = self.text("documentId")?;
        DocumentId::parse(&text).map_err(|source| ProtocolError::BadDocumentId {
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
            storage_id: inner.text("storageId").ok(),
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
