//! Document ids as automerge-repo names them: 16 random bytes, written in base58check, shared as
//! `automerge:` URLs.

use std::fmt;

use sha2::{Digest, Sha256};

/// The URL scheme automerge-repo uses for documents.
pub const URL_PREFIX: &str = "automerge:";

/// The most characters a base58check id of 16 bytes can take (20 bytes with the checksum:
/// ⌈20 × log 256 / log 58⌉ = 28), with room to spare. Longer text is refused before any
/// decoding: base58 decoding is quadratic in its input.
pub const MAX_ID_CHARS: usize = 32;

/// Why a document id could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentIdError {
    #[error("`{0}` is not a base58check document id")]
    NotBase58Check(String),
    #[error("a document id has 16 bytes, `{text}` has {len}")]
    WrongLength { text: String, len: usize },
    #[error("a document id has at most {MAX_ID_CHARS} characters, `{text}…` has {len}")]
    TooLong { text: String, len: usize },
}

/// A document id (16 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId([u8; 16]);

impl DocumentId {
    /// An id from its bytes (the caller supplies randomness for new documents).
    pub const fn from_bytes(bytes: [u8; 16]) -> DocumentId {
        DocumentId(bytes)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Reads `automerge:<id>`, `automerge:<id>#<heads>` or a bare base58check id. The id part
    /// is measured before it is decoded (at most [`MAX_ID_CHARS`]), so this takes time linear
    /// in the text whatever it holds.
    pub fn parse(text: &str) -> Result<DocumentId, DocumentIdError> {
        let bare = text.strip_prefix(URL_PREFIX).unwrap_or(text);
        let bare = bare.split('#').next().unwrap_or(bare);
        if bare.len() > MAX_ID_CHARS {
            return Err(DocumentIdError::TooLong {
                text: shorten(bare),
                len: bare.len(),
            });
        }
        let bytes = bs58::decode(bare)
            .into_vec()
            .ok()
            .and_then(|mut bytes| {
                let payload = bytes.len().checked_sub(CHECKSUM_LEN)?;
                let sum = bytes.split_off(payload);
                (sum == checksum(&bytes)).then_some(bytes)
            })
            .ok_or_else(|| DocumentIdError::NotBase58Check(shorten(text)))?;
        let bytes: [u8; 16] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| DocumentIdError::WrongLength {
                    text: shorten(text),
                    len: bytes.len(),
                })?;
        Ok(DocumentId(bytes))
    }

    /// `automerge:<id>`.
    pub fn url(&self) -> String {
        format!("{URL_PREFIX}{self}")
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = self.0.to_vec();
        bytes.extend_from_slice(&checksum(&self.0));
        f.write_str(&bs58::encode(bytes).into_string())
    }
}

/// Bytes of base58check's checksum.
const CHECKSUM_LEN: usize = 4;

/// Base58check's checksum: the first four bytes of the double SHA-256. Computed here with the
/// `sha2` automerge uses, rather than by bs58's `check` feature and its older `sha2`, so the
/// PWA's wasm carries one SHA-256.
fn checksum(bytes: &[u8]) -> [u8; CHECKSUM_LEN] {
    let twice = Sha256::digest(Sha256::digest(bytes));
    let mut sum = [0; CHECKSUM_LEN];
    sum.copy_from_slice(&twice[..CHECKSUM_LEN]);
    sum
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl std::str::FromStr for DocumentId {
    type Err = DocumentIdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DocumentId::parse(text)
    }
}

/// Error messages quote at most 64 characters of what a client sent.
fn shorten(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_round_trips_through_its_url_and_bare_text() {
        let id = DocumentId::from_bytes(*b"0123456789abcdef");
        assert!(id.url().starts_with("automerge:"));
        assert_eq!(DocumentId::parse(&id.url()).unwrap(), id);
        assert_eq!(DocumentId::parse(&id.to_string()).unwrap(), id);
        assert_eq!(
            DocumentId::parse(&format!("{}#abc|def", id.url())).unwrap(),
            id
        );
    }

    /// Base58check as automerge-repo (and Bitcoin) writes it: the bytes and the first four bytes
    /// of their double SHA-256, in base58; leading zero bytes are `1`s.
    #[test]
    fn ids_are_written_in_base58check() {
        let id = DocumentId::from_bytes(*b"0123456789abcdef");
        assert_eq!(id.to_string(), "fwaoKqDyZ5CbBM9gJn6sXgFZrfo");
        assert_eq!(DocumentId::parse("fwaoKqDyZ5CbBM9gJn6sXgFZrfo"), Ok(id));
        let zeros = DocumentId::from_bytes([0; 16]);
        assert_eq!(zeros.to_string(), "11111111111111114Ki9Gx");
        assert_eq!(DocumentId::parse("11111111111111114Ki9Gx"), Ok(zeros));
    }

    #[test]
    fn a_corrupted_id_fails_its_checksum() {
        let text = DocumentId::from_bytes([7; 16]).to_string();
        let mut corrupted: Vec<char> = text.chars().collect();
        corrupted[3] = if corrupted[3] == 'a' { 'b' } else { 'a' };
        let corrupted: String = corrupted.into_iter().collect();
        assert!(matches!(
            DocumentId::parse(&corrupted),
            Err(DocumentIdError::NotBase58Check(_))
        ));
        assert!(DocumentId::parse("not base58 0OIl").is_err());
    }

    /// Issue 24, frame 4: tens of thousands of base58 characters held the hub for seconds
    /// (decoding is quadratic); now they are refused after one linear scan.
    #[test]
    fn a_very_long_id_is_refused_before_decoding() {
        let long = "2".repeat(80_000);
        for text in [long.clone(), format!("{URL_PREFIX}{long}#abc")] {
            assert!(matches!(
                DocumentId::parse(&text),
                Err(DocumentIdError::TooLong { len: 80_000, .. })
            ));
        }
        // A URL with many heads is still read: only the id part is bounded.
        let id = DocumentId::from_bytes([200; 16]);
        let heads = vec!["abc"; 1_000].join("|");
        assert_eq!(
            DocumentId::parse(&format!("{}#{heads}", id.url())).unwrap(),
            id
        );
        // The longest ids there are fit: 16 bytes of 0xff.
        let max = DocumentId::from_bytes([0xff; 16]).to_string();
        assert!(max.len() <= MAX_ID_CHARS, "{max}");
    }

    #[test]
    fn an_id_of_another_length_is_refused() {
        let mut bytes = vec![1u8; 20];
        bytes.extend_from_slice(&checksum(&[1u8; 20]));
        let text = bs58::encode(bytes).into_string();
        assert_eq!(
            DocumentId::parse(&text),
            Err(DocumentIdError::WrongLength { text, len: 20 })
        );
    }
}
