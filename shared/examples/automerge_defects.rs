//! Reproduces the automerge 0.12 defects of `docs/automerge-defects.md` with automerge alone
//! (none of our guards): `cargo run -p tramyte-shared --example automerge_defects -- CASE`,
//! CASE one of `duplicate-need`, `bloom-zero-bits`, `bloom-probes`, `inflate`,
//! `unsorted-heads`.
//!
//! Each case feeds one hostile sync message (or chunk) to an ordinary document the way a sync
//! server does. Expect a panic, or (bloom-probes, inflate) an allocation that only ends when
//! memory does: run those under `ulimit -v`.
#![allow(clippy::unwrap_used, clippy::print_stdout)] // a reproduction, not a library

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ReadDoc};

/// A document with one change, as a server holds it.
fn stored() -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(automerge::ROOT, "title", "hello").unwrap();
    doc.commit();
    doc
}

/// Receives `bytes` as a sync message from a new peer, then answers it, as a sync server does.
fn receive_and_answer(doc: &mut AutoCommit, bytes: &[u8]) {
    let mut state = sync::State::new();
    let message = sync::Message::decode(bytes).unwrap();
    println!("decoded: {message:?}");
    doc.sync()
        .receive_sync_message(&mut state, message)
        .unwrap();
    let answer = doc.sync().generate_sync_message(&mut state);
    // Encoded, as a server sends it.
    println!("answered: {:?} bytes", answer.map(|m| m.encode().len()));
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let mut doc = stored();
    let head = doc.get_heads()[0];
    match case.as_str() {
        // `need` names the document's one change twice: 0x42, heads 0, need 2, the hash twice,
        // have 0, changes 0.
        "duplicate-need" => {
            let mut bytes = vec![0x42, 0x00, 0x02];
            bytes.extend(head.0);
            bytes.extend(head.0);
            bytes.extend([0x00, 0x00]);
            receive_and_answer(&mut doc, &bytes);
        }
        // One `have` with no last_sync and a Bloom filter of 1 entry, 0 bits per entry,
        // 7 probes (and so 0 bytes of bits).
        "bloom-zero-bits" => {
            let bytes = [0x42, 0x00, 0x00, 0x01, 0x00, 0x03, 0x01, 0x00, 0x07, 0x00];
            receive_and_answer(&mut doc, &bytes);
        }
        // A Bloom filter of 1 entry, 1 bit per entry, 4,294,967,295 probes, 1 byte of bits.
        "bloom-probes" => {
            let bytes = [
                0x42, 0x00, 0x00, 0x01, 0x00, 0x08, 0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00,
                0x00,
            ];
            receive_and_answer(&mut doc, &bytes);
        }
        // A compressed change chunk (type 2) of 8 KiB that inflates to 8 GiB of zeros before
        // automerge looks at what it holds.
        "inflate" => {
            use std::io::Write;
            let mut encoder =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            let zeros = vec![0u8; 1 << 20];
            for _ in 0..(8 << 10) {
                encoder.write_all(&zeros).unwrap();
            }
            let deflated = encoder.finish().unwrap();
            let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
            leb128(&mut chunk, deflated.len() as u64);
            chunk.extend(&deflated);
            println!("a compressed chunk of {} bytes; loading it", chunk.len());
            let result = doc.load_incremental(&chunk);
            println!("load_incremental: {result:?}");
        }
        // The document's two changes as `heads`, in descending order (automerge writes them
        // ascending). Its answer then trips a `debug_assert!` (debug builds only).
        "unsorted-heads" => {
            doc.put(automerge::ROOT, "second", 2).unwrap();
            doc.commit();
            let mut hashes: Vec<automerge::ChangeHash> =
                doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
            hashes.sort();
            hashes.reverse();
            let mut bytes = vec![0x42, 0x02];
            bytes.extend(hashes[0].0);
            bytes.extend(hashes[1].0);
            bytes.extend([0x00, 0x00, 0x00]);
            receive_and_answer(&mut doc, &bytes);
        }
        _ => {
            eprintln!(
                "CASE: duplicate-need | bloom-zero-bits | bloom-probes | inflate | unsorted-heads"
            );
            std::process::exit(2);
        }
    }
    println!(
        "title still {:?}",
        doc.get(automerge::ROOT, "title").unwrap()
    );
}

fn leb128(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
