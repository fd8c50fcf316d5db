//! Stored pieces of a document: a snapshot (the whole document) or an incremental chunk (some
//! changes), named by the SHA-256 of their bytes, so the same chunk stored twice (by two server
//! nodes, or a retry) is one row, and compaction can delete exactly what a snapshot replaced.

use sha2::{Digest, Sha256};

/// What a chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChunkKind {
    /// A whole document (`save()`).
    Snapshot,
    /// Some changes (`save_after(heads)`).
    Incremental,
}

impl ChunkKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkKind::Snapshot => "snapshot",
            ChunkKind::Incremental => "incremental",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<ChunkKind> {
        match text {
            "snapshot" => Some(ChunkKind::Snapshot),
            "incremental" => Some(ChunkKind::Incremental),
            _ => None,
        }
    }
}

/// The SHA-256 of a chunk's bytes, in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkKey(String);

impl ChunkKey {
    /// The key of `bytes`.
    pub fn of(bytes: &[u8]) -> ChunkKey {
        let digest = Sha256::digest(bytes);
        let mut hex = String::with_capacity(64);
        for byte in digest {
            hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
        }
        ChunkKey(hex)
    }

    /// A key read back from storage (trusted: the storage computed it with [`ChunkKey::of`]).
    pub fn from_stored(hex: String) -> ChunkKey {
        ChunkKey(hex)
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored piece of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub key: ChunkKey,
    pub kind: ChunkKind,
    pub bytes: Vec<u8>,
}

impl Chunk {
    /// A chunk of these bytes, keyed by their hash.
    pub fn new(kind: ChunkKind, bytes: Vec<u8>) -> Chunk {
        Chunk {
            key: ChunkKey::of(&bytes),
            kind,
            bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_sha256_of_the_bytes() {
        assert_eq!(
            ChunkKey::of(b"abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            ChunkKind::parse(ChunkKind::Snapshot.as_str()),
            Some(ChunkKind::Snapshot)
        );
    }
}
