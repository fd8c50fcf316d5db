//! Evidence files (tệp minh chứng): photos and scanned papers attached to an evidence entry,
//! content-addressed by the SHA-256 of their bytes. Pure: the server and the phone both use it.
//!
//! File bytes never enter an automerge document. An evidence entry (of an assessment item or of
//! a roster person) holds, FLAT in its map beside `label`, `reference`, `added_by`, `added_at`,
//! these optional fields, all absent on a text-only entry:
//!
//! ```text
//! file:       "<64 lowercase hex>"   the SHA-256 of the bytes (the file's id on the server)
//! media_type: "image/jpeg" | "image/png" | "image/webp" | "application/pdf"
//! size:       bytes, a whole number >= 0
//! file_name:  the name the person picked (text)
//! thumbnail:  "<64 lowercase hex>"   a JPEG, longest side <= THUMBNAIL_MAX_SIDE, uploaded as a
//!                                    file of its own (absent for PDFs)
//! ```
//!
//! The final API (what the web app and the server rely on):
//!
//! ```text
//! files::MediaType { Jpeg, Png, Webp, Pdf }
//!     .as_str() -> &'static str            "image/jpeg" ...
//!     MediaType::parse(&str) -> Option<MediaType>
//!     .extension() -> &'static str         "jpg" | "png" | "webp" | "pdf" (dossier ZIP names)
//!     MediaType::ALL: [MediaType; 4]
//! files::sniff(&[u8]) -> Option<MediaType>  from magic bytes only (the first SNIFF_BYTES suffice)
//! files::SNIFF_BYTES: usize = 12
//! files::is_sha256_hex(&str) -> bool        exactly 64 lowercase hex characters
//! files::DEFAULT_MAX_FILE_BYTES: u64 = 10 MiB
//! files::IMAGE_MAX_SIDE: u32 = 1600;  files::THUMBNAIL_MAX_SIDE: u32 = 320
//! files::AttachedFile { sha256, media_type, size, name, thumbnail: Option<String> }
//!     .ids() -> impl Iterator<Item = &str>  the file and its thumbnail
//! assessment::Evidence { label, reference, added_by, added_at, file: Option<AttachedFile> }
//!     assessment::put_evidence / remove_evidence write / delete it (flat fields when `file` is
//!     Some); read_assessment hydrates it back.
//! roster::PersonEntry { .., evidence: BTreeMap<String, Evidence> }
//!     roster::put_person_evidence(doc, group, person, id, &Evidence, at)
//!     roster::remove_person_evidence(doc, group, person, id, at)
//! rest::StoredFile { sha256, media_type, size, created }   the answer to PUT /api/files/{sha256}
//! ```
//!
//! Server routes (same auth as every `/api` route): `PUT /api/files/{sha256}?commune=<code>`
//! (201 stored now / 200 already there; 400 bad id or hash mismatch, 413 too large, 415 not one
//! of the four types, 403 not a commune of the caller, 507 over the commune's quota) and
//! `GET /api/files/{sha256}` (404 unless the caller may read it).

use std::collections::BTreeSet;

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};

/// The most bytes a stored file may have unless the server says otherwise (PDFs are kept as
/// they are; photos are downscaled well below this on the phone).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 << 20;
/// The longest side, in pixels, phones downscale a photo to before keeping it.
pub const IMAGE_MAX_SIDE: u32 = 1600;
/// The longest side, in pixels, of a thumbnail.
pub const THUMBNAIL_MAX_SIDE: u32 = 320;
/// How many leading bytes [`sniff`] needs.
pub const SNIFF_BYTES: usize = 12;

/// The types of file accepted as evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MediaType {
    /// `image/jpeg`
    #[serde(rename = "image/jpeg")]
    Jpeg,
    /// `image/png`
    #[serde(rename = "image/png")]
    Png,
    /// `image/webp`
    #[serde(rename = "image/webp")]
    Webp,
    /// `application/pdf`
    #[serde(rename = "application/pdf")]
    Pdf,
}

impl MediaType {
    /// Every accepted type.
    pub const ALL: [MediaType; 4] = [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Webp,
        MediaType::Pdf,
    ];

    /// The MIME name, as stored in documents and sent as `Content-Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Pdf => "application/pdf",
        }
    }

    /// Reads a MIME name; anything but the four exact names is `None`.
    pub fn parse(text: &str) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The usual file extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Webp => "webp",
            MediaType::Pdf => "pdf",
        }
    }

    /// Whether it is an image (a thumbnail can be made of it).
    pub fn is_image(self) -> bool {
        self != MediaType::Pdf
    }
}

impl std::fmt::Display for MediaType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type of a file from its first bytes (magic numbers), never from a name or a claim.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaType::Png)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(MediaType::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        Some(MediaType::Pdf)
    } else {
        None
    }
}

/// Whether `text` is a SHA-256 as files are named: exactly 64 lowercase hex characters.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A file attached to an evidence entry, as the entry records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedFile {
    /// SHA-256 of the bytes, lowercase hex: the file's id.
    pub sha256: String,
    /// Its type.
    pub media_type: MediaType,
    /// Its size in bytes.
    pub size: u64,
    /// The name the person picked (tên tệp).
    pub name: String,
    /// SHA-256 of its thumbnail (a small JPEG), if one was made.
    pub thumbnail: Option<String>,
}

impl AttachedFile {
    /// The ids of the files this attachment needs on the server: the file and its thumbnail.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.sha256.as_str()).chain(self.thumbnail.as_deref())
    }
}

/// The ids of every file an assessment's or a roster's evidence entries name now (as `file` or
/// `thumbnail`), valid ids only. Other kinds of document reference none. The server keeps these
/// references beside each stored document: they decide who may read a file, and which files
/// nothing needs any more.
pub fn referenced<D: ReadDoc>(doc: &D) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let kind = match doc.get(automerge::ROOT, crate::document::KIND_KEY) {
        Ok(Some((Value::Scalar(kind), _))) => kind.as_str().map(str::to_owned),
        _ => None,
    };
    let groups: &[&str] = match kind.as_deref() {
        Some(crate::assessment::KIND) => &["items"],
        Some(crate::roster::KIND) => &["staff", "village_workers"],
        _ => &[],
    };
    for group in groups {
        let Some(entries) = map_at(doc, &automerge::ROOT, group) else {
            continue;
        };
        for key in doc.keys(&entries) {
            let Some(entry) = map_at(doc, &entries, &key) else {
                continue;
            };
            let Some(evidence) = map_at(doc, &entry, "evidence") else {
                continue;
            };
            for id in doc.keys(&evidence) {
                let Some(one) = map_at(doc, &evidence, &id) else {
                    continue;
                };
                for field in ["file", "thumbnail"] {
                    if let Ok(Some((Value::Scalar(value), _))) = doc.get(&one, field)
                        && let ScalarValue::Str(text) = value.as_ref()
                        && is_sha256_hex(text)
                    {
                        found.insert(text.to_string());
                    }
                }
            }
        }
    }
    found
}

fn map_at<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(ObjType::Map), id))) => Some(id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_sniffed_from_real_magic_bytes() {
        // The first bytes of a JPEG (JFIF), a PNG, a WebP and a PDF as cameras and scanners
        // write them.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01,
        ];
        let exif_jpeg = [0xFF, 0xD8, 0xFF, 0xE1, 0x2F, 0xFE, b'E', b'x', b'i', b'f'];
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H',
        ];
        let webp = *b"RIFF\x24\x00\x00\x00WEBPVP8 ";
        let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
        assert_eq!(sniff(&jpeg), Some(MediaType::Jpeg));
        assert_eq!(sniff(&exif_jpeg), Some(MediaType::Jpeg));
        assert_eq!(sniff(&png), Some(MediaType::Png));
        assert_eq!(sniff(&webp), Some(MediaType::Webp));
        assert_eq!(sniff(pdf), Some(MediaType::Pdf));
        // A WAV is RIFF too; a GIF, an HTML page, text and nothing are none of ours.
        assert_eq!(sniff(b"RIFF\x24\x00\x00\x00WAVEfmt "), None);
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00"), None);
        assert_eq!(sniff(b"<!DOCTYPE html><script>"), None);
        assert_eq!(sniff(b"%PD"), None);
        assert_eq!(sniff(&[]), None);
    }

    #[test]
    fn media_types_round_trip_through_their_names() {
        for t in MediaType::ALL {
            assert_eq!(MediaType::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.as_str())
            );
        }
        assert_eq!(MediaType::parse("image/gif"), None);
        assert_eq!(MediaType::parse("IMAGE/JPEG"), None);
        assert_eq!(MediaType::parse("image/jpeg "), None);
    }

    #[test]
    fn only_lowercase_sha256_hex_names_a_file() {
        let good = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert!(is_sha256_hex(good));
        assert!(!is_sha256_hex(&good.to_uppercase()));
        assert!(!is_sha256_hex(&good[1..]));
        assert!(!is_sha256_hex(&format!("{good}0")));
        assert!(!is_sha256_hex(&good.replace('e', "g")));
        assert!(!is_sha256_hex("../../etc/passwd"));
    }
}
