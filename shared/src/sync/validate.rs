//! Our own reading of an automerge sync message, done before automerge sees the bytes.
//!
//! automerge 0.12 trusts what it decodes: a `need` naming one change twice panics it, a Bloom
//! filter with 0 bits per entry divides by zero, one claiming 4,294,967,295 probes allocates
//! 16 GiB, and compressed data inflates without bound (see `docs/automerge-defects.md`). So every
//! `sync`/`request` payload goes through [`validate_sync_message`] first: it walks the whole
//! binary format (version 1, `0x42`, and version 2, `0x43`, which differ only in that byte),
//! checks every count against [`SyncLimits`], every declared length against the bytes that are
//! really there, the Bloom filters' parameters, that no hash list names a change twice, the
//! header of every chunk of changes, and how much memory decoding the message (inflating its
//! compressed parts included) can take. It allocates nothing in proportion to a declared count
//! and reads each byte a bounded number of times.
//!
//! The format (automerge 0.12, `src/sync.rs` and `src/sync/bloom.rs`): one byte `0x42`/`0x43`;
//! `heads` and `need`: a LEB128 count, then that many 32-byte hashes; `have`: a count, then per
//! entry `last_sync` (a hash list) and a length-prefixed Bloom filter (empty, or LEB128
//! entries, bits per entry, probes, then exactly ⌈entries × bits per entry / 8⌉ bytes);
//! `changes`: a count, then length-prefixed byte strings, each a run of storage chunks; then,
//! only if bytes remain, length-prefixed flags. These guards stay even once automerge is fixed.

use std::io::Read;

/// The first byte of a version 1 sync message.
pub const SYNC_V1: u8 = 0x42;
/// The first byte of a version 2 sync message (changes sent as one saved document).
pub const SYNC_V2: u8 = 0x43;
/// The magic bytes that open every automerge storage chunk.
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// A change hash is a SHA-256.
const HASH_BYTES: usize = 32;
/// Column specifications with this bit set hold DEFLATE-compressed data.
const COLUMN_DEFLATE: u64 = 0b1000;

/// What a sync message may hold. automerge itself writes Bloom filters with 10 bits per entry
/// and 7 probes; the ranges below leave room for other implementations and none for absurdity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLimits {
    /// Hashes in `heads`, and in each `have`'s `last_sync`.
    pub max_heads: u64,
    /// Hashes in `need`.
    pub max_need: u64,
    /// Entries in `have` (automerge sends at most one).
    pub max_have: u64,
    /// Entries one Bloom filter may summarize.
    pub max_bloom_entries: u64,
    /// Bits per entry of a Bloom filter.
    pub bloom_bits_per_entry: std::ops::RangeInclusive<u64>,
    /// Probes of a Bloom filter.
    pub bloom_probes: std::ops::RangeInclusive<u64>,
    /// Byte strings of changes in one message.
    pub max_changes: u64,
    /// Bytes of the trailing flags section (automerge writes 2).
    pub max_flags_bytes: u64,
    /// Memory decoding and applying the message may take, inflated data included (bytes).
    pub memory_budget: u64,
}

impl Default for SyncLimits {
    fn default() -> Self {
        SyncLimits {
            max_heads: 1_024,
            max_need: 16_384,
            max_have: 16,
            max_bloom_entries: 1 << 22,
            bloom_bits_per_entry: 1..=32,
            bloom_probes: 1..=32,
            max_changes: 100_000,
            max_flags_bytes: 16,
            memory_budget: 64 << 20,
        }
    }
}

/// Why a sync message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncMessageError {
    #[error("the sync message is empty")]
    Empty,
    #[error("not an automerge sync message (first byte {0:#04x})")]
    WrongType(u8),
    #[error("the sync message ends inside {0}")]
    Truncated(&'static str),
    #[error("a number in {0} is not a valid LEB128 integer")]
    BadNumber(&'static str),
    #[error("{what} has {count} entries; at most {max} are accepted")]
    TooMany {
        what: &'static str,
        count: u64,
        max: u64,
    },
    #[error("{0} names the same change twice")]
    DuplicateHash(&'static str),
    #[error("{0} is not in ascending order (automerge writes hash lists sorted)")]
    UnsortedHashes(&'static str),
    #[error("bloom filter: {0}")]
    Bloom(String),
    #[error("changes, entry {index}: {reason}")]
    Change { index: u64, reason: String },
    #[error("decoding this sync message would take more than {budget} bytes of memory")]
    TooMuchMemory { budget: u64 },
    #[error("{0} bytes follow the end of the sync message")]
    Trailing(usize),
}

impl SyncMessageError {
    /// A short, stable label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            SyncMessageError::Empty
            | SyncMessageError::WrongType(_)
            | SyncMessageError::Truncated(_)
            | SyncMessageError::BadNumber(_)
            | SyncMessageError::Trailing(_) => "sync_message_malformed",
            SyncMessageError::TooMany { .. } => "sync_message_too_many",
            SyncMessageError::DuplicateHash(_) => "sync_message_duplicate_hash",
            SyncMessageError::UnsortedHashes(_) => "sync_message_unsorted_hashes",
            SyncMessageError::Bloom(_) => "sync_message_bloom_filter",
            SyncMessageError::Change { .. } => "sync_message_change_chunk",
            SyncMessageError::TooMuchMemory { .. } => "sync_message_memory",
        }
    }
}

/// What a valid sync message holds, as counted while checking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncMessageShape {
    pub heads: u64,
    pub need: u64,
    pub have: u64,
    pub changes: u64,
    /// Bytes of every change chunk, as sent.
    pub change_bytes: u64,
    /// What inflating the compressed parts of the changes produced.
    pub inflated_bytes: u64,
    /// The memory decoding the message takes, by our estimate (bytes).
    pub decoded_bytes: u64,
}

/// Checks a sync message (the `data` of a `sync` or `request` frame) completely.
pub fn validate_sync_message(
    data: &[u8],
    limits: &SyncLimits,
) -> Result<SyncMessageShape, SyncMessageError> {
    let mut r = Reader::new(data);
    let kind = r
        .byte("the message type")
        .map_err(|_| SyncMessageError::Empty)?;
    if kind != SYNC_V1 && kind != SYNC_V2 {
        return Err(SyncMessageError::WrongType(kind));
    }
    let mut shape = SyncMessageShape::default();
    let mut memory = Memory::new(limits.memory_budget);
    // automerge copies the message's bytes once more while decoding it.
    memory.take(data.len() as u64)?;

    shape.heads = hash_list(&mut r, "heads", limits.max_heads, &mut memory)?;
    shape.need = hash_list(&mut r, "need", limits.max_need, &mut memory)?;

    shape.have = r.count("have", limits.max_have)?;
    for _ in 0..shape.have {
        memory.take(64)?;
        hash_list(&mut r, "have.last_sync", limits.max_heads, &mut memory)?;
        let len = r.number("a bloom filter's length")?;
        let bloom = r.bytes(len, "a bloom filter")?;
        memory.take(len)?;
        bloom_filter(bloom, limits)?;
    }

    shape.changes = r.count("changes", limits.max_changes)?;
    for index in 0..shape.changes {
        let len = r.number("a change's length")?;
        let bytes = r.bytes(len, "a change")?;
        // automerge keeps each change in a `Vec` of its own.
        memory.take(len + 24)?;
        shape.change_bytes += len;
        shape.inflated_bytes += chunks(bytes, &mut memory)
            .map_err(|reason| into_change_error(index, reason, limits))?;
    }

    if !r.is_empty() {
        let len = r.number("the flags' length")?;
        if len > limits.max_flags_bytes {
            return Err(SyncMessageError::TooMany {
                what: "flags",
                count: len,
                max: limits.max_flags_bytes,
            });
        }
        r.bytes(len, "the flags")?;
        if !r.is_empty() {
            return Err(SyncMessageError::Trailing(r.remaining()));
        }
    }
    shape.decoded_bytes = memory.used;
    Ok(shape)
}

fn into_change_error(index: u64, reason: ChunkError, limits: &SyncLimits) -> SyncMessageError {
    match reason {
        ChunkError::Memory => SyncMessageError::TooMuchMemory {
            budget: limits.memory_budget,
        },
        ChunkError::Bad(reason) => SyncMessageError::Change { index, reason },
    }
}

/// A count, then that many 32-byte hashes, in strictly ascending order: automerge writes them
/// so (and automerge 1.0's JavaScript refused anything else), and automerge 0.12 asserts its own
/// hash lists are sorted, which a peer's unsorted `heads` broke (found by the fuzz target).
fn hash_list(
    r: &mut Reader<'_>,
    what: &'static str,
    max: u64,
    memory: &mut Memory,
) -> Result<u64, SyncMessageError> {
    let count = r.count(what, max)?;
    let bytes = r.bytes(count * HASH_BYTES as u64, what)?;
    memory.take(count * HASH_BYTES as u64)?;
    let mut previous: Option<&[u8]> = None;
    for hash in bytes.chunks_exact(HASH_BYTES) {
        match previous {
            Some(before) if before == hash => return Err(SyncMessageError::DuplicateHash(what)),
            Some(before) if before > hash => return Err(SyncMessageError::UnsortedHashes(what)),
            _ => previous = Some(hash),
        }
    }
    Ok(count)
}

/// A Bloom filter: empty, or entries, bits per entry and probes in range, followed by exactly
/// the bytes those parameters call for.
fn bloom_filter(bytes: &[u8], limits: &SyncLimits) -> Result<(), SyncMessageError> {
    if bytes.is_empty() {
        return Ok(());
    }
    let bad = |text: String| SyncMessageError::Bloom(text);
    let mut r = Reader::new(bytes);
    let entries = r.number("a bloom filter's entries")?;
    let bits_per_entry = r.number("a bloom filter's bits per entry")?;
    let probes = r.number("a bloom filter's probes")?;
    if entries > limits.max_bloom_entries {
        return Err(bad(format!(
            "{entries} entries; at most {} are accepted",
            limits.max_bloom_entries
        )));
    }
    if !limits.bloom_bits_per_entry.contains(&bits_per_entry) {
        return Err(bad(format!(
            "{bits_per_entry} bits per entry; {} to {} are accepted",
            limits.bloom_bits_per_entry.start(),
            limits.bloom_bits_per_entry.end()
        )));
    }
    if !limits.bloom_probes.contains(&probes) {
        return Err(bad(format!(
            "{probes} probes; {} to {} are accepted",
            limits.bloom_probes.start(),
            limits.bloom_probes.end()
        )));
    }
    let expected = (entries * bits_per_entry).div_ceil(8);
    let actual = r.remaining() as u64;
    if actual != expected {
        return Err(bad(format!(
            "{entries} entries of {bits_per_entry} bits need {expected} bytes, {actual} were sent"
        )));
    }
    Ok(())
}

#[derive(Debug)]
enum ChunkError {
    Bad(String),
    Memory,
}

impl From<SyncMessageError> for ChunkError {
    fn from(err: SyncMessageError) -> Self {
        match err {
            SyncMessageError::TooMuchMemory { .. } => ChunkError::Memory,
            other => ChunkError::Bad(other.to_string()),
        }
    }
}

/// One entry of `changes`: one or more storage chunks (magic, checksum, type, length, data).
/// Returns how many bytes its compressed parts inflate to (counted against `memory`).
fn chunks(bytes: &[u8], memory: &mut Memory) -> Result<u64, ChunkError> {
    if bytes.is_empty() {
        return Err(ChunkError::Bad("an empty change".to_owned()));
    }
    let mut r = Reader::new(bytes);
    let mut inflated = 0;
    while !r.is_empty() {
        let magic = r.bytes(4, "a chunk's magic bytes")?;
        if magic != CHUNK_MAGIC {
            return Err(ChunkError::Bad("not an automerge chunk".to_owned()));
        }
        r.bytes(4, "a chunk's checksum")?;
        let kind = r.byte("a chunk's type")?;
        let len = r.number("a chunk's length")?;
        let data = r.bytes(len, "a chunk")?;
        inflated += match kind {
            // A document (what version 2 messages carry) and a bundle of changes may hold
            // compressed columns; a change chunk may not (automerge refuses those itself).
            0 => compressed_columns(data, ChunkLayout::Document, memory)?,
            1 => 0,
            2 => inflate(data, memory)?,
            3 => compressed_columns(data, ChunkLayout::Bundle, memory)?,
            other => return Err(ChunkError::Bad(format!("unknown chunk type {other}"))),
        };
    }
    Ok(inflated)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkLayout {
    /// actors, heads, change columns' metadata, op columns' metadata, change data, op data.
    Document,
    /// dependencies, actors, change columns' metadata and data, op columns' metadata and data.
    Bundle,
}

/// Finds the DEFLATE-compressed columns of a document or bundle chunk and inflates each within
/// the budget.
fn compressed_columns(
    data: &[u8],
    layout: ChunkLayout,
    memory: &mut Memory,
) -> Result<u64, ChunkError> {
    let mut r = Reader::new(data);
    let actors = |r: &mut Reader<'_>| -> Result<(), SyncMessageError> {
        let count = r.number("a chunk's actors")?;
        for _ in 0..count {
            let len = r.number("an actor id")?;
            r.bytes(len, "an actor id")?;
        }
        Ok(())
    };
    let hashes = |r: &mut Reader<'_>, what: &'static str| -> Result<(), SyncMessageError> {
        let count = r.number(what)?;
        r.bytes(count.saturating_mul(HASH_BYTES as u64), what)?;
        Ok(())
    };
    let mut inflated = 0;
    match layout {
        ChunkLayout::Document => {
            actors(&mut r)?;
            hashes(&mut r, "a document's heads")?;
            let change_columns = columns(&mut r)?;
            let op_columns = columns(&mut r)?;
            for columns in [change_columns, op_columns] {
                inflated += column_data(&mut r, &columns, memory)?;
            }
        }
        ChunkLayout::Bundle => {
            hashes(&mut r, "a bundle's dependencies")?;
            actors(&mut r)?;
            for _ in 0..2 {
                let columns = columns(&mut r)?;
                inflated += column_data(&mut r, &columns, memory)?;
            }
        }
    }
    Ok(inflated)
}

/// Column metadata: a count, then (specification, length) pairs. Only what is needed later is
/// kept: whether each column is compressed, and its length.
fn columns(r: &mut Reader<'_>) -> Result<Vec<(bool, u64)>, SyncMessageError> {
    let count = r.number("a chunk's columns")?;
    // Each column takes at least two bytes of metadata: the count is bounded by the input.
    if count > r.remaining() as u64 / 2 {
        return Err(SyncMessageError::Truncated("a chunk's column metadata"));
    }
    let mut columns = Vec::new();
    for _ in 0..count {
        let spec = r.number("a column specification")?;
        let len = r.number("a column's length")?;
        columns.push((spec & COLUMN_DEFLATE != 0, len));
    }
    Ok(columns)
}

fn column_data(
    r: &mut Reader<'_>,
    columns: &[(bool, u64)],
    memory: &mut Memory,
) -> Result<u64, ChunkError> {
    let mut inflated = 0;
    for &(deflated, len) in columns {
        let data = r.bytes(len, "a column's data")?;
        if deflated {
            inflated += inflate(data, memory)?;
        }
    }
    Ok(inflated)
}

/// Inflates DEFLATE data, stopping as soon as it outgrows what is left of the budget.
fn inflate(data: &[u8], memory: &mut Memory) -> Result<u64, ChunkError> {
    let left = memory.left();
    let mut decoder = flate2::bufread::DeflateDecoder::new(data).take(left.saturating_add(1));
    let mut sink = [0u8; 8 << 10];
    let mut total: u64 = 0;
    loop {
        match decoder.read(&mut sink) {
            Ok(0) => break,
            Ok(n) => total += n as u64,
            Err(_) => return Err(ChunkError::Bad("compressed data does not inflate".into())),
        }
        if total > left {
            return Err(ChunkError::Memory);
        }
    }
    memory.take(total).map_err(|_| ChunkError::Memory)?;
    Ok(total)
}

/// The memory a message's decoding may still take.
#[derive(Debug)]
struct Memory {
    budget: u64,
    used: u64,
}

impl Memory {
    fn new(budget: u64) -> Memory {
        Memory { budget, used: 0 }
    }

    fn take(&mut self, bytes: u64) -> Result<(), SyncMessageError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.budget {
            return Err(SyncMessageError::TooMuchMemory {
                budget: self.budget,
            });
        }
        Ok(())
    }

    fn left(&self) -> u64 {
        self.budget.saturating_sub(self.used)
    }
}

/// Reads the binary format front to back; every read checks the bytes are there.
#[derive(Debug)]
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn remaining(&self) -> usize {
        self.bytes.len()
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, SyncMessageError> {
        let (&first, rest) = self
            .bytes
            .split_first()
            .ok_or(SyncMessageError::Truncated(what))?;
        self.bytes = rest;
        Ok(first)
    }

    fn bytes(&mut self, len: u64, what: &'static str) -> Result<&'a [u8], SyncMessageError> {
        let len = usize::try_from(len).map_err(|_| SyncMessageError::Truncated(what))?;
        if len > self.bytes.len() {
            return Err(SyncMessageError::Truncated(what));
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    /// An unsigned LEB128 number as automerge reads it: at most 64 bits, no redundant trailing
    /// zero byte.
    fn number(&mut self, what: &'static str) -> Result<u64, SyncMessageError> {
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let byte = self.byte(what)?;
            if shift == 63 && byte > 1 {
                return Err(SyncMessageError::BadNumber(what));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift > 0 && byte == 0 {
                    return Err(SyncMessageError::BadNumber(what));
                }
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err(SyncMessageError::BadNumber(what));
            }
        }
    }

    /// A count of entries, at most `max`.
    fn count(&mut self, what: &'static str, max: u64) -> Result<u64, SyncMessageError> {
        let count = self.number(what)?;
        if count > max {
            return Err(SyncMessageError::TooMany { what, count, max });
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ReadDoc};

    fn check(data: &[u8]) -> Result<SyncMessageShape, SyncMessageError> {
        validate_sync_message(data, &SyncLimits::default())
    }

    fn hex(text: &str) -> Vec<u8> {
        let text: String = text.split_whitespace().collect();
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// A document with one change, and a peer's sync state that has talked to it.
    fn document() -> AutoCommit {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "title", "Trạm Y tế xã Thiệu Toán")
            .unwrap();
        doc.commit();
        doc
    }

    /// Every message automerge itself writes passes, V1 and V2, with and without changes.
    #[test]
    fn messages_automerge_writes_are_accepted() {
        use automerge::sync::SyncDoc;
        let mut a = document();
        let mut b = AutoCommit::new();
        for i in 0..30 {
            a.put(automerge::ROOT, format!("k{i}"), i).unwrap();
            a.commit();
        }
        let (mut sa, mut sb) = (automerge::sync::State::new(), automerge::sync::State::new());
        let mut seen = 0;
        for _ in 0..10 {
            if let Some(message) = a.sync().generate_sync_message(&mut sa) {
                let bytes = message.encode();
                check(&bytes).unwrap_or_else(|err| panic!("{err}: {bytes:02x?}"));
                seen += 1;
                b.sync()
                    .receive_sync_message(
                        &mut sb,
                        automerge::sync::Message::decode(&bytes).unwrap(),
                    )
                    .unwrap();
            }
            if let Some(message) = b.sync().generate_sync_message(&mut sb) {
                let bytes = message.encode();
                check(&bytes).unwrap_or_else(|err| panic!("{err}: {bytes:02x?}"));
                seen += 1;
                a.sync()
                    .receive_sync_message(
                        &mut sa,
                        automerge::sync::Message::decode(&bytes).unwrap(),
                    )
                    .unwrap();
            }
        }
        assert!(seen >= 3);
        assert_eq!(a.get_heads(), b.get_heads());
        assert_eq!(
            b.get(automerge::ROOT, "k29").unwrap().unwrap().0.as_i64(),
            Some(29)
        );

        // A version 2 message: the whole document, compressed, as one chunk.
        let v2 = automerge::sync::Message {
            heads: a.get_heads(),
            need: Vec::new(),
            have: Vec::new(),
            changes: a.save().into(),
            flags: None,
            version: automerge::sync::MessageVersion::V2,
        }
        .encode();
        let shape = check(&v2).unwrap();
        assert_eq!(shape.changes, 1);
    }

    /// Issue 24, frame 1: `need` names one stored change twice.
    #[test]
    fn a_need_naming_one_change_twice_is_refused() {
        let mut doc = document();
        let hash = doc.get_heads()[0];
        let mut data = hex("42 00 02");
        data.extend(hash.0);
        data.extend(hash.0);
        data.extend(hex("00 00"));
        assert_eq!(check(&data), Err(SyncMessageError::DuplicateHash("need")));
        // The same hash once is a fine request.
        let mut once = hex("42 00 01");
        once.extend(hash.0);
        once.extend(hex("00 00"));
        assert_eq!(check(&once).unwrap().need, 1);
        // In heads too; and an unsorted list is refused as such.
        let mut heads = hex("42 03");
        heads.extend([1u8; 32]);
        heads.extend([3u8; 32]);
        heads.extend([3u8; 32]);
        heads.extend(hex("00 00 00"));
        assert_eq!(check(&heads), Err(SyncMessageError::DuplicateHash("heads")));
        let mut unsorted = hex("42 02");
        unsorted.extend([3u8; 32]);
        unsorted.extend([1u8; 32]);
        unsorted.extend(hex("00 00 00"));
        assert_eq!(
            check(&unsorted),
            Err(SyncMessageError::UnsortedHashes("heads"))
        );
    }

    /// Issue 24, frame 2: a Bloom filter with entries but 0 bits per entry (`01 00 07`).
    #[test]
    fn a_bloom_filter_with_zero_bits_per_entry_is_refused() {
        let data = hex("42 00 00 01 00 03 01 00 07 00");
        let err = check(&data).unwrap_err();
        assert!(
            matches!(&err, SyncMessageError::Bloom(text) if text.contains("0 bits per entry")),
            "{err}"
        );
        assert_eq!(err.label(), "sync_message_bloom_filter");
    }

    /// Issue 24, frame 3: a Bloom filter claiming 4,294,967,295 probes (`01 01 ffffffff0f 00`).
    #[test]
    fn a_bloom_filter_with_absurd_probes_is_refused() {
        let data = hex("42 00 00 01 00 08 01 01 ff ff ff ff 0f 00 00");
        let err = check(&data).unwrap_err();
        assert!(
            matches!(&err, SyncMessageError::Bloom(text) if text.contains("4294967295 probes")),
            "{err}"
        );
    }

    #[test]
    fn a_bloom_filter_must_be_as_long_as_its_parameters_say() {
        // 3 entries × 10 bits = 30 bits = 4 bytes.
        let good = hex("42 00 00 01 00 07 03 0a 07 00 00 00 00 00");
        assert_eq!(check(&good).unwrap().have, 1);
        let short = hex("42 00 00 01 00 06 03 0a 07 00 00 00 00");
        assert!(matches!(check(&short), Err(SyncMessageError::Bloom(_))));
        let long = hex("42 00 00 01 00 08 03 0a 07 00 00 00 00 00 00");
        assert!(matches!(check(&long), Err(SyncMessageError::Bloom(_))));
        // The bloom's declared length runs past the message.
        let truncated = hex("42 00 00 01 00 09 03 0a 07 00");
        assert_eq!(
            check(&truncated),
            Err(SyncMessageError::Truncated("a bloom filter"))
        );
        // Too many probes, a parameter beyond 32 bits, more entries than allowed.
        assert!(matches!(
            check(&hex("42 00 00 01 00 04 01 0a 21 00 00")),
            Err(SyncMessageError::Bloom(_))
        ));
        assert!(matches!(
            check(&hex("42 00 00 01 00 09 01 0a ff ff ff ff 7f 00 00 00")),
            Err(SyncMessageError::Bloom(text)) if text.contains("34359738367 probes")
        ));
    }

    #[test]
    fn counts_beyond_the_limits_or_the_bytes_sent_are_refused() {
        // 2,000 heads claimed.
        let data = hex("42 d0 0f");
        assert!(matches!(
            check(&data),
            Err(SyncMessageError::TooMany { what: "heads", .. })
        ));
        // 2 needs claimed, one sent.
        let mut data = hex("42 00 02");
        data.extend([7u8; 32]);
        assert_eq!(check(&data), Err(SyncMessageError::Truncated("need")));
        // A change longer than the message.
        assert_eq!(
            check(&hex("42 00 00 00 01 ff 01 00")),
            Err(SyncMessageError::Truncated("a change"))
        );
        // A count of 2^64 - 1 changes.
        assert!(matches!(
            check(&hex("42 00 00 00 ff ff ff ff ff ff ff ff ff 01")),
            Err(SyncMessageError::TooMany {
                what: "changes",
                ..
            })
        ));
        // A number that does not end, and one with a redundant zero byte.
        assert!(matches!(
            check(&hex("42 ff ff ff ff ff ff ff ff ff ff ff")),
            Err(SyncMessageError::BadNumber(_))
        ));
        assert!(matches!(
            check(&hex("42 80 00 00 00 00")),
            Err(SyncMessageError::BadNumber(_))
        ));
        assert_eq!(check(&[]), Err(SyncMessageError::Empty));
        assert_eq!(check(&[0x41]), Err(SyncMessageError::WrongType(0x41)));
        // Bytes after the flags.
        assert_eq!(
            check(&hex("42 00 00 00 00 02 02 84 99")),
            Err(SyncMessageError::Trailing(1))
        );
        assert!(check(&hex("42 00 00 00 00 02 02 84")).is_ok());
    }

    #[test]
    fn changes_must_be_automerge_chunks() {
        let mut doc = document();
        let change = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        let message = |change: &[u8]| {
            let mut data = hex("42 00 00 00 01");
            let mut len = Vec::new();
            let mut n = change.len();
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    len.push(byte);
                    break;
                }
                len.push(byte | 0x80);
            }
            data.extend(len);
            data.extend(change);
            data
        };
        assert_eq!(
            check(&message(&change)).unwrap().change_bytes,
            change.len() as u64
        );
        let mut not_a_chunk = change.clone();
        not_a_chunk[0] = 0;
        assert!(matches!(
            check(&message(&not_a_chunk)),
            Err(SyncMessageError::Change { index: 0, .. })
        ));
        let mut unknown_type = change.clone();
        unknown_type[8] = 9;
        assert!(matches!(
            check(&message(&unknown_type)),
            Err(SyncMessageError::Change { .. })
        ));
        let cut = &change[..change.len() - 1];
        assert!(matches!(
            check(&message(cut)),
            Err(SyncMessageError::Change { .. })
        ));
        assert!(matches!(
            check(&message(&[])),
            Err(SyncMessageError::Change { .. })
        ));
    }

    /// A compressed change chunk (type 2) that inflates beyond the budget is refused before
    /// anything inflates it whole.
    #[test]
    fn compressed_data_inflating_beyond_the_budget_is_refused() {
        use std::io::Write;
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![0u8; 4 << 20]).unwrap();
        let deflated = encoder.finish().unwrap();
        assert!(deflated.len() < 8 << 10, "{}", deflated.len());
        let mut chunk = CHUNK_MAGIC.to_vec();
        chunk.extend([0, 0, 0, 0, 2]);
        let mut n = deflated.len();
        while n >= 0x80 {
            chunk.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        chunk.push(n as u8);
        chunk.extend(&deflated);
        let mut data = hex("42 00 00 00 01");
        let mut n = chunk.len();
        while n >= 0x80 {
            data.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        data.push(n as u8);
        data.extend(&chunk);
        let small = SyncLimits {
            memory_budget: 1 << 20,
            ..SyncLimits::default()
        };
        assert_eq!(
            validate_sync_message(&data, &small),
            Err(SyncMessageError::TooMuchMemory { budget: 1 << 20 })
        );
        let roomy = SyncLimits {
            memory_budget: 8 << 20,
            ..SyncLimits::default()
        };
        let shape = validate_sync_message(&data, &roomy).unwrap();
        assert_eq!(shape.inflated_bytes, 4 << 20);
    }

    /// The saved document's compressed columns count against the budget too.
    #[test]
    fn a_version_2_document_is_inflated_within_the_budget() {
        let mut doc = AutoCommit::new();
        let text = "đạt chuẩn ".repeat(20_000);
        doc.put(automerge::ROOT, "note", text).unwrap();
        doc.commit();
        let saved = doc.save();
        let v2 = automerge::sync::Message {
            heads: doc.get_heads(),
            need: Vec::new(),
            have: Vec::new(),
            changes: saved.into(),
            flags: None,
            version: automerge::sync::MessageVersion::V2,
        }
        .encode();
        let shape = check(&v2).unwrap();
        assert!(shape.inflated_bytes > 100_000, "{shape:?}");
        let tight = SyncLimits {
            memory_budget: 50_000,
            ..SyncLimits::default()
        };
        assert!(matches!(
            validate_sync_message(&v2, &tight),
            Err(SyncMessageError::TooMuchMemory { .. })
        ));
    }
}
