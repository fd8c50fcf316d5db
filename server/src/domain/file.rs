//! Evidence files (tệp minh chứng): receiving an upload as it streams in (hashed and sniffed
//! incrementally, stored in parts, never held whole), who may read a file, and the sweep of
//! files no document has named for a while.
//!
//! Nothing is stored on a refusal: the parts an upload wrote are deleted before it answers,
//! and a crash's leftovers are deleted by the sweep ([`sweep`]).

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tramyte_shared::files::{self, MediaType, SNIFF_BYTES};
use tramyte_shared::policy::{Principal, Role};
use tramyte_shared::rest::StoredFile;

use crate::store::file::{self as stored, Committed, PART_BYTES, Upload};
use crate::store::{Store, StoreError};

/// The limits on files (flags `--max-file-bytes`, `--commune-file-quota`,
/// `--file-sweep-days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    /// The most bytes of one file.
    pub max_file_bytes: u64,
    /// The most bytes of files uploaded for one commune (each file counted once per commune).
    pub commune_quota: u64,
    /// How long a file no document names is kept.
    pub keep_unreferenced: Duration,
}

/// 2 GiB a commune: about 5,000 downscaled photos, or 200 ten-megabyte PDFs.
pub const DEFAULT_COMMUNE_QUOTA: u64 = 2 << 30;
/// Days a file no document names is kept before the sweep deletes it.
pub const DEFAULT_SWEEP_DAYS: u64 = 30;
/// How long parts of an upload that never finished (a crash) are kept.
const ORPHAN_PARTS_AFTER: Duration = Duration::from_secs(24 * 3600);

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits {
            max_file_bytes: files::DEFAULT_MAX_FILE_BYTES,
            commune_quota: DEFAULT_COMMUNE_QUOTA,
            keep_unreferenced: Duration::from_secs(DEFAULT_SWEEP_DAYS * 24 * 3600),
        }
    }
}

/// Why an upload was refused (nothing of it is stored).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(
        "`{0}` is not a file id: a file is named by the SHA-256 of its bytes, 64 lowercase hex characters"
    )]
    BadId(String),
    #[error(
        "the bytes' SHA-256 is {actual}, not the {expected} named in the address: the file changed or was cut off"
    )]
    HashMismatch { expected: String, actual: String },
    #[error("the file is larger than the {limit} bytes allowed")]
    TooLarge { limit: u64 },
    #[error(
        "the file is not a JPEG, PNG or WebP image nor a PDF (its first bytes say so, whatever its name)"
    )]
    UnsupportedType,
    #[error(
        "commune {commune} has no room for this file: {used} of its {quota} bytes of files are used"
    )]
    OverQuota {
        commune: String,
        used: i64,
        quota: u64,
    },
    #[error("the upload was cut off: {0}")]
    Body(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FileError {
    /// The reason as metrics count it.
    pub fn reason(&self) -> &'static str {
        match self {
            FileError::BadId(_) => "bad_id",
            FileError::HashMismatch { .. } => "hash_mismatch",
            FileError::TooLarge { .. } => "too_large",
            FileError::UnsupportedType => "unsupported_type",
            FileError::OverQuota { .. } => "over_quota",
            FileError::Body(_) => "cut_off",
            FileError::Store(_) => "database",
        }
    }
}

/// Receives the bytes of file `sha256` uploaded for `commune` (whose right to upload the
/// caller checked): counts, hashes and sniffs them as they come, stores them in parts (unless
/// the file is stored already), and keeps the file only if every check passes. `declared` is
/// the request's `Content-Length`, refused at once when over the limit.
pub async fn receive<S, B, E>(
    store: &Store,
    limits: &FileLimits,
    sha256: &str,
    commune: &str,
    declared: Option<u64>,
    body: S,
    now: i64,
) -> Result<StoredFile, FileError>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    if !files::is_sha256_hex(sha256) {
        return Err(FileError::BadId(sha256.chars().take(80).collect()));
    }
    let limit = limits.max_file_bytes;
    if declared.is_some_and(|length| length > limit) {
        return Err(FileError::TooLarge { limit });
    }
    let quota = i64::try_from(limits.commune_quota).unwrap_or(i64::MAX);
    // Refused before reading when the declared size cannot fit (the commit checks again).
    if let Some(length) = declared
        && !stored::uploaded_for(store, sha256, commune).await?
    {
        let used = stored::usage(store, commune).await?;
        if used.saturating_add(i64::try_from(length).unwrap_or(i64::MAX)) > quota {
            return Err(FileError::OverQuota {
                commune: commune.to_owned(),
                used,
                quota: limits.commune_quota,
            });
        }
    }
    let existing = stored::find(store, sha256).await?;
    let blob = new_blob_id().map_err(|err| FileError::Store(StoreError::Corrupt(err)))?;
    let outcome = stream_in(store, limit, &blob, existing.is_none(), body, now).await;
    let (media_type, size, actual) = match outcome {
        Ok(received) => received,
        Err(err) => {
            stored::discard(store, &blob).await?;
            return Err(err);
        }
    };
    if actual != sha256 {
        stored::discard(store, &blob).await?;
        return Err(FileError::HashMismatch {
            expected: sha256.to_owned(),
            actual,
        });
    }
    let upload = Upload {
        sha256,
        blob: &blob,
        media_type: media_type.as_str(),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        commune,
    };
    let committed = stored::commit_upload(store, &upload, quota, now).await;
    let created = match committed {
        Ok(Committed::Created) => true,
        Ok(Committed::Existed) => {
            stored::discard(store, &blob).await?;
            false
        }
        Ok(Committed::OverQuota { used }) => {
            stored::discard(store, &blob).await?;
            return Err(FileError::OverQuota {
                commune: commune.to_owned(),
                used,
                quota: limits.commune_quota,
            });
        }
        Err(err) => {
            // Best effort: the sweep removes the parts if this fails too.
            let _ = stored::discard(store, &blob).await;
            return Err(err.into());
        }
    };
    Ok(StoredFile {
        sha256: sha256.to_owned(),
        media_type: media_type.as_str().to_owned(),
        size,
        created,
    })
}

/// Reads the body: at most `limit` bytes, hashed and sniffed as they come; written in parts of
/// [`PART_BYTES`] under `blob` when `keep`. The type, the size and the SHA-256 in hex.
async fn stream_in<S, B, E>(
    store: &Store,
    limit: u64,
    blob: &str,
    keep: bool,
    body: S,
    now: i64,
) -> Result<(MediaType, u64, String), FileError>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let mut body = std::pin::pin!(body);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut media_type = None;
    let mut part: Vec<u8> = Vec::with_capacity(if keep { PART_BYTES } else { SNIFF_BYTES });
    let mut seq: i64 = 0;
    while let Some(frame) = body.next().await {
        let frame = frame.map_err(|err| FileError::Body(err.to_string()))?;
        let mut bytes = frame.as_ref();
        size = size.saturating_add(bytes.len() as u64);
        if size > limit {
            return Err(FileError::TooLarge { limit });
        }
        hasher.update(bytes);
        if !keep {
            if media_type.is_none() {
                let wanted = SNIFF_BYTES.saturating_sub(part.len()).min(bytes.len());
                part.extend_from_slice(&bytes[..wanted]);
                media_type = sniffed(&part)?;
            }
            continue;
        }
        while !bytes.is_empty() {
            let room = PART_BYTES - part.len();
            let (now_in, later) = bytes.split_at(room.min(bytes.len()));
            part.extend_from_slice(now_in);
            bytes = later;
            if media_type.is_none() {
                media_type = sniffed(&part)?;
            }
            if part.len() == PART_BYTES {
                stored::put_part(store, blob, seq, &part, now).await?;
                seq += 1;
                part.clear();
            }
        }
    }
    let media_type = match media_type {
        Some(found) => found,
        None => files::sniff(&part).ok_or(FileError::UnsupportedType)?,
    };
    if keep && !part.is_empty() {
        stored::put_part(store, blob, seq, &part, now).await?;
    }
    let actual: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((media_type, size, actual))
}

/// The type once enough bytes are in; refused as soon as they say it is none of ours.
fn sniffed(first: &[u8]) -> Result<Option<MediaType>, FileError> {
    if first.len() < SNIFF_BYTES {
        return Ok(None);
    }
    files::sniff(first)
        .map(Some)
        .ok_or(FileError::UnsupportedType)
}

fn new_blob_id() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| format!("no random source for an upload: {err}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A stored file that `principal` may read (`None` in open mode: anyone), or `None` when it is
/// not stored or they may not (the same answer, so nobody learns what exists elsewhere). They
/// may when their scope covers the commune of a document that names it, or a commune it was
/// uploaded for; system administrators read every file.
pub async fn readable(
    store: &Store,
    principal: Option<&Principal>,
    sha256: &str,
) -> Result<Option<stored::FileRow>, StoreError> {
    if !files::is_sha256_hex(sha256) {
        return Ok(None);
    }
    let Some(file) = stored::find(store, sha256).await? else {
        return Ok(None);
    };
    let allowed = match principal {
        None => true,
        Some(principal) if principal.role == Role::SystemAdmin => true,
        Some(principal) => stored::reader_communes(store, sha256)
            .await?
            .iter()
            .any(|commune| principal.covers(commune)),
    };
    Ok(allowed.then_some(file))
}

/// The bytes of a stored file, part by part, as a stream (one part in memory at a time).
pub fn read(
    store: Store,
    file: &stored::FileRow,
) -> impl Stream<Item = Result<Vec<u8>, StoreError>> + Send + 'static {
    let blob = file.blob.clone();
    futures_util::stream::unfold(
        (store, blob, 0i64, false),
        |(store, blob, seq, done)| async move {
            if done {
                return None;
            }
            match stored::read_part(&store, &blob, seq).await {
                Ok(Some(data)) => Some((Ok(data), (store, blob, seq + 1, false))),
                Ok(None) => None,
                Err(err) => Some((Err(err), (store, blob, seq, true))),
            }
        },
    )
}

/// What a sweep deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// The files deleted, oldest first.
    pub deleted: Vec<stored::SweptFile>,
    /// Parts of uploads that never finished, deleted.
    pub orphan_parts: u64,
}

impl SweepReport {
    /// Bytes freed by the deleted files.
    pub fn bytes(&self) -> i64 {
        self.deleted.iter().map(|f| f.size).sum()
    }
}

/// Deletes every file uploaded more than `limits.keep_unreferenced` before `now` (unix
/// milliseconds) that no document has named since then, and the parts of uploads a crash cut
/// off. `tramyte files sweep` runs it, and the server once a day.
pub async fn sweep(
    store: &Store,
    limits: &FileLimits,
    now: i64,
) -> Result<SweepReport, StoreError> {
    let keep = i64::try_from(limits.keep_unreferenced.as_millis()).unwrap_or(i64::MAX);
    let cutoff = now.saturating_sub(keep);
    let mut report = SweepReport::default();
    for candidate in stored::unreferenced_since(store, cutoff).await? {
        if stored::delete_unreferenced(store, &candidate.sha256, cutoff).await? {
            report.deleted.push(candidate);
        }
    }
    let orphans = i64::try_from(ORPHAN_PARTS_AFTER.as_millis()).unwrap_or(i64::MAX);
    report.orphan_parts = stored::tidy(store, cutoff, now.saturating_sub(orphans)).await?;
    Ok(report)
}
