//! Rounds (đợt đánh giá): opening the assessments of a year for the communes a reviewer covers.
//!
//! Opening creates, for each commune, one assessment of the round (with every item of the
//! criteria set, as the documents' design requires) and the commune's roster if it has none.
//! It is idempotent and safe to run concurrently: each document claims its commune's place in
//! `commune_documents` (primary key: commune, kind, round) in the transaction that stores it, so
//! a second opening — or a simultaneous one on another node — finds the place taken and creates
//! nothing. `POST /api/rounds` and `tramyte round open` share [`open_round`].

use std::collections::{BTreeMap, BTreeSet};

use tramyte_shared::assessment::{NewAssessment, new_assessment};
use tramyte_shared::commune::{UnitType, Zone};
use tramyte_shared::id::CommuneCode;
use tramyte_shared::policy::{Principal, Role, Scope};
use tramyte_shared::rest::KindCounts;
use tramyte_shared::summary::summarize;
use tramyte_shared::sync::{Chunk, ChunkKind, DocumentId};

use crate::domain::catalog::{self, CatalogStoreError};
use crate::domain::summary::SummaryRecord;
use crate::store::document::{self, Created, DocumentKind, NewDocument, Slot};
use crate::store::{Store, StoreError, now_millis};

/// Most communes one opening may cover.
pub const MAX_COMMUNES: usize = 20_000;

/// Who may open a round.
pub const OPENERS: &[Role] = &[Role::Reviewer, Role::ProvincialAdmin, Role::SystemAdmin];

/// What to open (a REST type: the body of `POST /api/rounds`).
pub use tramyte_shared::rest::OpenRound;

/// What an opening did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Documents created now (assessments and rosters).
    pub created: usize,
    /// Documents the round needs that existed already.
    pub existing: usize,
    /// The same by kind: the round's assessments, the communes' rosters.
    pub assessments: KindCounts,
    pub rosters: KindCounts,
    /// Every document the round needs: each commune's assessment and roster.
    pub documents: Vec<DocumentId>,
}

impl Opened {
    /// Counts one document of `kind` the round needs, created now or there already.
    fn count(&mut self, kind: DocumentKind, created: bool) {
        let by_kind = if kind == DocumentKind::Assessment {
            &mut self.assessments
        } else {
            &mut self.rosters
        };
        if created {
            self.created += 1;
            by_kind.created += 1;
        } else {
            self.existing += 1;
            by_kind.existing += 1;
        }
    }
}

/// Why a round was not opened.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error("no catalog {0} (see `tramyte catalog list`)")]
    UnknownCatalog(String),
    #[error(
        "{0} belongs to another province; open the round on a national criteria set or your own"
    )]
    NotYourCatalog(String),
    #[error("round {0} is not a year between 2000 and 2100")]
    BadRound(u16),
    #[error("no communes to open the round for")]
    NoCommunes,
    #[error("more than {MAX_COMMUNES} communes in one opening")]
    TooMany,
    #[error("{0} is not a known commune")]
    UnknownCommune(String),
    #[error("commune {0} is outside your scope")]
    OutOfScope(String),
    #[error("zone of {commune}: {problem}")]
    BadZone { commune: String, problem: String },
    #[error("could not create a document: {0}")]
    Document(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RoundError {
    fn from(err: sqlx::Error) -> Self {
        RoundError::Store(StoreError::Query(err))
    }
}

impl From<CatalogStoreError> for RoundError {
    fn from(err: CatalogStoreError) -> Self {
        match err {
            CatalogStoreError::Store(err) => RoundError::Store(err),
            other => RoundError::Document(other.to_string()),
        }
    }
}

/// Opens a round for `by` (`None`: the command line, which may open any commune).
pub async fn open_round(
    store: &Store,
    by: Option<&Principal>,
    request: &OpenRound,
    node: &str,
) -> Result<Opened, RoundError> {
    if !(2000..=2100).contains(&request.round) {
        return Err(RoundError::BadRound(request.round));
    }
    let code = request.catalog.trim();
    let named = || match request.revision {
        Some(revision) => format!(
            "{} revision {revision}",
            code.chars().take(64).collect::<String>()
        ),
        None => code.chars().take(64).collect(),
    };
    let access = catalog::Access::of(store, by).await?;
    let catalog = match catalog::find_for(store, code, request.revision, &access).await? {
        catalog::Found::Allowed(stored) => stored.catalog,
        catalog::Found::NotAllowed => return Err(RoundError::NotYourCatalog(named())),
        catalog::Found::Missing => return Err(RoundError::UnknownCatalog(named())),
    };
    let known: BTreeMap<String, Option<String>> = crate::store::unit::communes_with_type(store)
        .await?
        .into_iter()
        .collect();
    let scope = by.and_then(|principal| match &principal.scope {
        _ if principal.role == Role::SystemAdmin => None,
        Scope::All => None,
        Scope::Communes(set) => Some(set),
    });
    let communes: BTreeSet<String> = match &request.communes {
        Some(list) => {
            if list.len() > MAX_COMMUNES {
                return Err(RoundError::TooMany);
            }
            list.iter().map(|c| c.trim().to_owned()).collect()
        }
        None => match scope {
            Some(set) => set.iter().cloned().collect(),
            None => known.keys().cloned().collect(),
        },
    };
    if communes.is_empty() {
        return Err(RoundError::NoCommunes);
    }
    if communes.len() > MAX_COMMUNES {
        return Err(RoundError::TooMany);
    }
    for commune in &communes {
        if !known.contains_key(commune) {
            return Err(RoundError::UnknownCommune(
                commune.chars().take(32).collect(),
            ));
        }
        if scope.is_some_and(|set| !set.contains(commune)) {
            return Err(RoundError::OutOfScope(commune.clone()));
        }
    }
    let mut zones = BTreeMap::new();
    for (commune, zone) in &request.zones {
        if !communes.contains(commune) {
            return Err(RoundError::BadZone {
                commune: commune.chars().take(32).collect(),
                problem: "not one of the communes opened".to_owned(),
            });
        }
        let zone = Zone::new(*zone).map_err(|err| RoundError::BadZone {
            commune: commune.clone(),
            problem: err.to_string(),
        })?;
        zones.insert(commune.clone(), zone);
    }
    let by_user = by.map(|principal| principal.user.as_str());
    let created_by = match by_user {
        Some(user) => format!("round {} opened by {user}", request.round),
        None => format!("round {} opened by tramyte round open", request.round),
    };
    let mut opened = Opened {
        created: 0,
        existing: 0,
        assessments: KindCounts::default(),
        rosters: KindCounts::default(),
        documents: Vec::new(),
    };
    let round = i32::from(request.round);
    for commune in &communes {
        let code =
            CommuneCode::parse(commune).map_err(|_| RoundError::UnknownCommune(commune.clone()))?;
        let unit_type = known
            .get(commune)
            .and_then(|t| t.as_deref())
            .and_then(|t| UnitType::parse(t).ok())
            .unwrap_or(UnitType::Xa);
        for kind in [DocumentKind::Assessment, DocumentKind::Roster] {
            let slot_round = if kind == DocumentKind::Assessment {
                round
            } else {
                0
            };
            if let Some(id) = slot_of(store, commune, kind, slot_round).await? {
                opened.count(kind, false);
                opened.documents.push(id);
                continue;
            }
            let now = now_millis();
            let doc = match kind {
                DocumentKind::Assessment => {
                    let new = NewAssessment {
                        commune: code.clone(),
                        round: request.round,
                        zone: zones.get(commune).copied().unwrap_or(Zone::ALL[0]),
                        unit_type,
                    };
                    new_assessment(&catalog, &new, now)
                }
                _ => tramyte_shared::roster::new_roster(&code, now),
            };
            let mut doc = doc.map_err(|err| RoundError::Document(err.to_string()))?;
            let id = crate::store::document::new_document_id().map_err(RoundError::Document)?;
            let snapshot = Chunk::new(ChunkKind::Snapshot, doc.save());
            let record = SummaryRecord::of(&summarize(&mut doc, Some(&catalog)));
            let new = NewDocument {
                id,
                kind,
                created_by: &created_by,
                by_user,
                dated: None,
                snapshot: &snapshot,
                summary: &record,
                slot: Some(Slot {
                    commune,
                    kind,
                    round: slot_round,
                    required: true,
                }),
            };
            match document::create(store, &new, node).await? {
                Created::Created => {
                    opened.count(kind, true);
                    opened.documents.push(id);
                }
                // Someone opened it meanwhile: theirs is the one.
                Created::SlotTaken => {
                    opened.count(kind, false);
                    if let Some(id) = slot_of(store, commune, kind, slot_round).await? {
                        opened.documents.push(id);
                    }
                }
            }
        }
    }
    tracing::info!(
        round = request.round,
        catalog = %catalog.code.as_str(),
        assessments_created = opened.assessments.created,
        assessments_existing = opened.assessments.existing,
        rosters_created = opened.rosters.created,
        rosters_existing = opened.rosters.existing,
        "round opened"
    );
    Ok(opened)
}

/// The document holding a commune's place, if any.
async fn slot_of(
    store: &Store,
    commune: &str,
    kind: DocumentKind,
    round: i32,
) -> Result<Option<DocumentId>, StoreError> {
    let id = document::slot_holder(store, commune, kind, round).await?;
    Ok(id.and_then(|id| DocumentId::parse(&id).ok()))
}

/// Gives the documents that hold no place yet (stored before places existed, or by an older
/// version) their commune's place when it is free, oldest first. Runs at start, after the
/// summaries' backfill.
pub async fn register_existing(store: &Store) -> Result<u64, StoreError> {
    document::register_existing(store).await
}

/// The body of `POST /api/rounds/move` and its answer (REST types).
pub use tramyte_shared::rest::{MoveRound, MovedAssessment, MovedRound, SkippedAssessment};

/// Moves the round's open assessments of a criteria set to a newer revision (see
/// [`tramyte_shared::assessment::move_to_revision`]): each change is made by the server as
/// `by`, under a fresh actor bound to them, and stored with its provenance and summary like a
/// phone's. The caller tells the sync hub to reload the moved documents (answered in `moved`),
/// which sends the change to every connected phone; other nodes hear of it as of any stored
/// chunk.
pub async fn move_round(
    store: &Store,
    by: &Principal,
    request: &MoveRound,
    node: &str,
) -> Result<MovedRound, RoundError> {
    let code = request.catalog.trim();
    let access = catalog::Access::of(store, Some(by)).await?;
    let newer = match catalog::find_for(store, code, request.revision, &access).await? {
        catalog::Found::Allowed(stored) => stored.catalog,
        catalog::Found::NotAllowed => {
            return Err(RoundError::NotYourCatalog(code.chars().take(64).collect()));
        }
        catalog::Found::Missing => {
            return Err(RoundError::UnknownCatalog(code.chars().take(64).collect()));
        }
    };
    let user = tramyte_shared::id::UserId::parse(&by.user)
        .map_err(|err| RoundError::Document(err.to_string()))?;
    let communes: Vec<String> = match (&request.communes, &by.scope) {
        (Some(list), _) => list.iter().map(|c| c.trim().to_owned()).collect(),
        (None, Scope::Communes(set)) if by.role != Role::SystemAdmin => {
            set.iter().cloned().collect()
        }
        (None, _) => crate::store::unit::commune_codes(store).await?,
    };
    if communes.len() > MAX_COMMUNES {
        return Err(RoundError::TooMany);
    }
    let mut answer = MovedRound {
        revision: newer.revision,
        moved: Vec::new(),
        skipped: Vec::new(),
    };
    for commune in &communes {
        if !by.covers(commune) && by.role != Role::SystemAdmin {
            return Err(RoundError::OutOfScope(commune.chars().take(32).collect()));
        }
        let Some(id) = slot_of(
            store,
            commune,
            DocumentKind::Assessment,
            i32::from(request.round),
        )
        .await?
        else {
            continue;
        };
        let skip = |reason: String| SkippedAssessment {
            id: id.to_string(),
            commune: commune.clone(),
            reason,
        };
        let Some(chunks) = document::load(store, id).await? else {
            continue;
        };
        let doc = tramyte_shared::sync::hub::load_chunks(&chunks)
            .map_err(|err| RoundError::Document(err.to_string()))?;
        let view = tramyte_shared::assessment::read_assessment(&doc)
            .map_err(|err| RoundError::Document(err.to_string()))?;
        if view.catalog != newer.code.as_str() {
            continue;
        }
        if view.catalog_revision >= newer.revision {
            answer.skipped.push(skip(format!(
                "already on revision {}",
                view.catalog_revision
            )));
            continue;
        }
        let Some(older) = catalog::find(store, code, Some(view.catalog_revision)).await? else {
            answer.skipped.push(skip(format!(
                "revision {} is unknown here",
                view.catalog_revision
            )));
            continue;
        };
        let mut doc = doc.with_actor(automerge::ActorId::random());
        let before = doc.get_heads();
        let changes = match tramyte_shared::assessment::move_to_revision(
            &mut doc,
            &newer,
            &user,
            now_millis(),
            &older.catalog,
        ) {
            Ok(changes) => changes,
            Err(err) => {
                answer.skipped.push(skip(err.to_string()));
                continue;
            }
        };
        let made: Vec<(String, String)> = doc
            .get_changes_meta(&before)
            .iter()
            .map(|change| (change.hash.to_string(), change.actor.to_hex_string()))
            .collect();
        let bytes: Vec<u8> = doc
            .get_changes(&before)
            .iter()
            .flat_map(|change| change.raw_bytes().iter().copied())
            .collect();
        let actor = doc.get_actor().to_hex_string();
        let record = SummaryRecord::of(&summarize(&mut doc, Some(&newer)));
        let job = document::PersistJob {
            id,
            chunk: Chunk::new(ChunkKind::Incremental, bytes),
            created: None,
            provenance: document::Provenance {
                user: by.user.clone(),
                device: format!("server ({node})"),
                changes: made,
                new_actors: vec![actor],
            },
            summary: Some(record),
            files: None,
            // Compare-and-set: a move made meanwhile (here or on another node) wins alone.
            on_revision: Some(i32::try_from(view.catalog_revision).unwrap_or(i32::MAX)),
        };
        match document::persist(store, &[job], node, now_millis()).await {
            Ok(()) => {}
            Err(document::PersistError::RevisionChanged { .. }) => {
                answer.skipped.push(skip(
                    "moved meanwhile by another request; nothing changed by this one".to_owned(),
                ));
                continue;
            }
            Err(err) => return Err(RoundError::Document(err.to_string())),
        }
        answer.moved.push(MovedAssessment {
            id: id.to_string(),
            commune: commune.clone(),
            from: older.catalog.revision,
            changes,
        });
    }
    tracing::info!(round = request.round, catalog = %code, to = newer.revision, moved = answer.moved.len(), by = %by.user, "round moved to a newer revision");
    Ok(answer)
}
