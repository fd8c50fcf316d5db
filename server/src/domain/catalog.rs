//! Criteria catalogs (bộ tiêu chí) on the server: those shipped in the binary plus the revisions a
//! provincial administrator imported. Every catalog, whatever its origin, went through
//! `tramyte_shared::catalog::parse_catalog`.
//!
//! A revision belongs to a province (its unit code) or to the nation: the shipped ones, those a
//! system administrator publishes and those the operator imports are national. Every revision of
//! a code belongs to the owner of its first revision, so a code is national or one province's.
//! People see and use the national catalogs and their own province's ([`Access`]); system
//! administrators (and the operator, and open mode) see all.

use std::collections::BTreeSet;

use tramyte_shared::catalog::{Catalog, CatalogErrors, parse_catalog, shipped_catalogs};
use tramyte_shared::policy::{Principal, Role};

use crate::store::{Store, StoreError};

pub mod sheet;

/// Where a catalog comes from (a REST type).
pub use tramyte_shared::rest::CatalogOrigin as Origin;

/// A catalog with its origin.
#[derive(Debug, Clone)]
pub struct StoredCatalog {
    pub catalog: Catalog,
    pub origin: Origin,
    /// The province (unit code) it belongs to; `None`: national.
    pub province: Option<String>,
    /// Who published it; `None`: shipped, or imported by the operator.
    pub published_by: Option<String>,
}

/// One line of a catalog listing (a REST type).
pub use tramyte_shared::rest::CatalogSummary;

impl StoredCatalog {
    /// The listing line of this catalog.
    pub fn summary(&self) -> CatalogSummary {
        let catalog = &self.catalog;
        CatalogSummary {
            code: catalog.code.as_str().to_owned(),
            revision: catalog.revision,
            title_vi: catalog.title_vi.clone(),
            title_en: catalog.title_en.clone(),
            max_points: catalog.max_points(),
            criteria: catalog.criteria.len(),
            indicators: catalog.criteria.iter().map(|c| c.indicators.len()).sum(),
            origin: self.origin,
            province: self.province.clone(),
            published_by: self.published_by.clone(),
        }
    }
}

/// Which catalog revisions someone may see and use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// All of them: system administrators, the operator, open mode.
    Everything,
    /// The national ones and those of these provinces (unit codes).
    Provinces(BTreeSet<String>),
}

impl Access {
    /// What `by` may see (`None`: the operator or open mode, who see everything): a system
    /// administrator everything, anyone else the national catalogs and those of the provinces
    /// above the units they are attached to.
    pub async fn of(store: &Store, by: Option<&Principal>) -> Result<Access, StoreError> {
        match by {
            None => Ok(Access::Everything),
            Some(principal) if principal.role == Role::SystemAdmin => Ok(Access::Everything),
            Some(principal) => Ok(Access::Provinces(
                crate::store::unit::provinces_of_user(store, &principal.user)
                    .await?
                    .into_iter()
                    .collect(),
            )),
        }
    }

    /// Whether a revision of `province` (`None`: national) may be seen and used.
    pub fn allows(&self, province: Option<&str>) -> bool {
        match (self, province) {
            (Access::Everything, _) | (_, None) => true,
            (Access::Provinces(provinces), Some(province)) => provinces.contains(province),
        }
    }
}

/// Who publishes a revision.
#[derive(Debug, Clone)]
pub struct Publisher {
    /// The user id (`None`: the operator, through the command line).
    pub user: Option<String>,
    /// Where they may publish: [`Access::Everything`] for system administrators and the
    /// operator, their provinces for a provincial administrator.
    pub access: Access,
    /// The province a new code belongs to (`None`: national).
    pub province: Option<String>,
}

impl Publisher {
    /// Whether they may add a revision to a code of `owner` (`None`: national).
    fn may_publish_into(&self, owner: Option<&str>) -> bool {
        match (&self.access, owner) {
            (Access::Everything, _) => true,
            (Access::Provinces(provinces), Some(owner)) => provinces.contains(owner),
            (Access::Provinces(_), None) => false,
        }
    }

    /// A signed-in administrator: a system administrator publishes national catalogs, a
    /// provincial administrator their province's (the first of them, if attached to several).
    pub async fn of(store: &Store, principal: &Principal) -> Result<Publisher, StoreError> {
        let access = Access::of(store, Some(principal)).await?;
        let province = match &access {
            Access::Everything => None,
            Access::Provinces(provinces) => provinces.iter().next().cloned(),
        };
        Ok(Publisher {
            user: Some(principal.user.clone()),
            access,
            province,
        })
    }
}

/// Why a catalog could not be imported or read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogStoreError {
    #[error(transparent)]
    Invalid(#[from] CatalogErrors),
    #[error(
        "revision {revision} of {code} ships with tramyte and differs from this file; import it as revision {next} or higher"
    )]
    ShippedRevision {
        code: String,
        revision: u32,
        next: u32,
    },
    #[error(
        "revision {revision} of {code} was already imported with different content; import it as revision {next} or higher"
    )]
    RevisionTaken {
        code: String,
        revision: u32,
        next: u32,
    },
    #[error(
        "the criteria set {code} belongs to {}; publish your own sheet under a new code",
        owner.as_deref().map_or_else(|| "the nation (it is national)".to_owned(), |p| format!("another province ({p})"))
    )]
    NotYours { code: String, owner: Option<String> },
    #[error("you are attached to no province, so you cannot publish a provincial criteria set")]
    NoProvince,
    #[error("criteria set {code} belongs to province {owner}, not {asked}")]
    OtherProvince {
        code: String,
        owner: String,
        asked: String,
    },
    #[error("{0} is not a province (see `tramyte units export`)")]
    NotAProvince(String),
    #[error("another revision of {0} was published at the same moment; publish again")]
    Busy(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CatalogStoreError {
    fn from(err: sqlx::Error) -> Self {
        CatalogStoreError::Store(StoreError::Query(err))
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// The revision is new and now stored.
    Imported,
    /// The same revision with the same content was already there; nothing changed.
    AlreadyPresent,
}

/// What a publication stored (or found).
#[derive(Debug, Clone)]
pub struct Published {
    pub stored: StoredCatalog,
    pub outcome: ImportOutcome,
}

/// Every revision of every catalog, shipped ones first, ordered by code and revision.
pub async fn all(store: &Store) -> Result<Vec<StoredCatalog>, CatalogStoreError> {
    let rows = crate::store::catalog::all(store).await?;
    let mut catalogs: Vec<StoredCatalog> = shipped_catalogs()
        .into_iter()
        .map(|catalog| StoredCatalog {
            catalog,
            origin: Origin::Shipped,
            province: None,
            published_by: None,
        })
        .collect();
    for (code, revision, source, province, published_by) in rows {
        match parse_catalog(&source) {
            Ok(catalog) => catalogs.push(StoredCatalog {
                catalog,
                origin: Origin::Imported,
                province,
                published_by,
            }),
            // Only a future format change could do this; keep serving the others.
            Err(errors) => {
                tracing::error!(%code, revision, %errors, "a stored catalog no longer parses; skipped")
            }
        }
    }
    catalogs.sort_by(|a, b| {
        (a.catalog.code.as_str(), a.catalog.revision)
            .cmp(&(b.catalog.code.as_str(), b.catalog.revision))
    });
    Ok(catalogs)
}

/// Every revision `access` allows, ordered by code and revision.
pub async fn all_for(
    store: &Store,
    access: &Access,
) -> Result<Vec<StoredCatalog>, CatalogStoreError> {
    let mut catalogs = all(store).await?;
    catalogs.retain(|stored| access.allows(stored.province.as_deref()));
    Ok(catalogs)
}

/// The newest revision of each catalog.
pub async fn latest(store: &Store) -> Result<Vec<StoredCatalog>, CatalogStoreError> {
    latest_for(store, &Access::Everything).await
}

/// The newest revision of each catalog `access` allows.
pub async fn latest_for(
    store: &Store,
    access: &Access,
) -> Result<Vec<StoredCatalog>, CatalogStoreError> {
    let mut newest: Vec<StoredCatalog> = Vec::new();
    for stored in all_for(store, access).await? {
        match newest.last_mut() {
            Some(last) if last.catalog.code == stored.catalog.code => *last = stored,
            _ => newest.push(stored),
        }
    }
    Ok(newest)
}

/// One catalog by code: the given revision, or the newest.
pub async fn find(
    store: &Store,
    code: &str,
    revision: Option<u32>,
) -> Result<Option<StoredCatalog>, CatalogStoreError> {
    let mut matching = all(store)
        .await?
        .into_iter()
        .filter(|s| s.catalog.code.as_str() == code);
    Ok(match revision {
        Some(revision) => matching.find(|s| s.catalog.revision == revision),
        None => matching.next_back(),
    })
}

/// One catalog by code as `access` allows it: the given revision, or the newest allowed. A
/// revision that exists but is another province's is [`Found::NotAllowed`].
pub async fn find_for(
    store: &Store,
    code: &str,
    revision: Option<u32>,
    access: &Access,
) -> Result<Found, CatalogStoreError> {
    let matching: Vec<StoredCatalog> = all(store)
        .await?
        .into_iter()
        .filter(|s| s.catalog.code.as_str() == code)
        .filter(|s| revision.is_none_or(|r| s.catalog.revision == r))
        .collect();
    if matching.is_empty() {
        return Ok(Found::Missing);
    }
    Ok(
        match matching
            .into_iter()
            .rfind(|s| access.allows(s.province.as_deref()))
        {
            Some(stored) => Found::Allowed(Box::new(stored)),
            None => Found::NotAllowed,
        },
    )
}

/// What [`find_for`] found.
#[derive(Debug, Clone)]
pub enum Found {
    Allowed(Box<StoredCatalog>),
    /// It exists, but belongs to a province the caller is not of.
    NotAllowed,
    Missing,
}

impl Found {
    /// The catalog, hiding another province's as if it did not exist.
    pub fn visible(self) -> Option<StoredCatalog> {
        match self {
            Found::Allowed(stored) => Some(*stored),
            Found::NotAllowed | Found::Missing => None,
        }
    }
}

/// The owner of `code` (`Some(None)`: national; `None`: no revision yet): the province of its
/// first revision.
fn owner_of(existing: &[StoredCatalog]) -> Option<Option<String>> {
    existing.first().map(|first| first.province.clone())
}

/// Publishes a validated catalog as the next revision of its code (whatever revision the sheet
/// says), for `publisher`. A code belongs to the owner of its first revision: only its province
/// (or a system administrator) adds revisions to it; a new code belongs to the publisher's
/// province. Publishing what the newest revision already holds changes nothing.
pub async fn publish(
    store: &Store,
    mut catalog: Catalog,
    publisher: &Publisher,
    now_millis: i64,
) -> Result<Published, CatalogStoreError> {
    let code = catalog.code.as_str().to_owned();
    // A concurrent publication of the same code takes the revision first: try again above it.
    for _ in 0..3 {
        let existing: Vec<StoredCatalog> = all(store)
            .await?
            .into_iter()
            .filter(|s| s.catalog.code == catalog.code)
            .collect();
        let province = match owner_of(&existing) {
            // Allowed to use is not allowed to publish into: national sets are a system
            // administrator's.
            Some(owner) if !publisher.may_publish_into(owner.as_deref()) => {
                return Err(CatalogStoreError::NotYours { code, owner });
            }
            Some(owner) => owner,
            None => match (&publisher.access, &publisher.province) {
                (Access::Provinces(_), None) => return Err(CatalogStoreError::NoProvince),
                (_, province) => province.clone(),
            },
        };
        if let Some(newest) = existing.last() {
            catalog.revision = newest.catalog.revision;
            if newest.catalog == catalog {
                return Ok(Published {
                    stored: newest.clone(),
                    outcome: ImportOutcome::AlreadyPresent,
                });
            }
        }
        let revision = existing.last().map_or(1, |s| s.catalog.revision + 1);
        catalog.revision = revision;
        let inserted = crate::store::catalog::insert(
            store,
            &code,
            i64::from(revision),
            &catalog.to_json(),
            province.as_deref(),
            publisher.user.as_deref(),
            now_millis,
        )
        .await?;
        if inserted == 1 {
            tracing::info!(%code, revision, province = ?province, by = ?publisher.user, "catalog published");
            return Ok(Published {
                stored: StoredCatalog {
                    catalog,
                    origin: Origin::Imported,
                    province,
                    published_by: publisher.user.clone(),
                },
                outcome: ImportOutcome::Imported,
            });
        }
    }
    Err(CatalogStoreError::Busy(code))
}

/// Validates `source` whole and stores it as a new revision. Importing the same revision with the
/// same content again changes nothing; different content needs a higher revision.
pub async fn import(
    store: &Store,
    source: &str,
    now_millis: i64,
) -> Result<(Catalog, ImportOutcome), CatalogStoreError> {
    import_into(store, source, None, now_millis).await
}

/// [`import`] as the operator: the revision the file says; a new code belongs to `province`
/// (`None`: national), a known code keeps its owner (naming another province is refused).
pub async fn import_into(
    store: &Store,
    source: &str,
    province: Option<&str>,
    now_millis: i64,
) -> Result<(Catalog, ImportOutcome), CatalogStoreError> {
    let catalog = parse_catalog(source)?;
    let code = catalog.code.as_str().to_owned();
    if let Some(province) = province
        && crate::store::unit::kind_of(store, province)
            .await?
            .as_deref()
            != Some("province")
    {
        return Err(CatalogStoreError::NotAProvince(
            province.chars().take(32).collect(),
        ));
    }
    let revision = catalog.revision;
    let existing: Vec<StoredCatalog> = all(store)
        .await?
        .into_iter()
        .filter(|s| s.catalog.code == catalog.code)
        .collect();
    let next = existing
        .iter()
        .map(|s| s.catalog.revision)
        .max()
        .unwrap_or(0)
        + 1;
    let province = match (owner_of(&existing), province) {
        (None, asked) => asked.map(str::to_owned),
        (Some(owner), None) => owner,
        (Some(owner), Some(asked)) if owner.as_deref() == Some(asked) => owner,
        (Some(owner), Some(asked)) => {
            return Err(CatalogStoreError::OtherProvince {
                code,
                owner: owner.unwrap_or_else(|| "the nation".to_owned()),
                asked: asked.to_owned(),
            });
        }
    };
    if let Some(same) = existing.iter().find(|s| s.catalog.revision == revision) {
        if same.catalog == catalog {
            return Ok((catalog, ImportOutcome::AlreadyPresent));
        }
        return Err(match same.origin {
            Origin::Shipped => CatalogStoreError::ShippedRevision {
                code,
                revision,
                next,
            },
            Origin::Imported => CatalogStoreError::RevisionTaken {
                code,
                revision,
                next,
            },
        });
    }
    let normalised = catalog.to_json();
    let inserted = crate::store::catalog::insert(
        store,
        &code,
        i64::from(revision),
        &normalised,
        province.as_deref(),
        None,
        now_millis,
    )
    .await?;
    if inserted == 0 {
        // Another import of the same revision won the race: same rule as above.
        return match find(store, &code, Some(revision)).await? {
            Some(same) if same.catalog == catalog => Ok((catalog, ImportOutcome::AlreadyPresent)),
            _ => Err(CatalogStoreError::RevisionTaken {
                code,
                revision,
                next: next + 1,
            }),
        };
    }
    tracing::info!(%code, revision, "catalog imported");
    Ok((catalog, ImportOutcome::Imported))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_CATALOG: &str = r#"{
      "format": 1, "code": "TEST-SERVER", "revision": 1,
      "title_vi": "TEST: bộ tiêu chí thử", "title_en": "TEST catalog",
      "pass_rule": { "total_min_percent": 80, "criterion_min_percent": 50 },
      "criteria": [
        { "id": "C1", "name_vi": "TEST một", "max_points": 6,
          "indicators": [
            { "id": "1.1", "name_vi": "TEST a", "max_points": 4, "scoring": { "kind": "points" } },
            { "id": "1.2", "name_vi": "TEST b", "max_points": 2, "scoring": { "kind": "yes_no" }, "knockout": true } ] },
        { "id": "C2", "name_vi": "TEST hai", "max_points": 4 } ]
    }"#;

    async fn store() -> Store {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[tokio::test]
    async fn the_shipped_catalog_is_listed_without_any_import() {
        let store = store().await;
        let latest = latest(&store).await.unwrap();
        let codes: Vec<_> = latest
            .iter()
            .map(|s| s.summary())
            .map(|s| (s.code, s.origin))
            .collect();
        assert_eq!(codes, vec![("QD1300-2023".to_owned(), Origin::Shipped)]);
        assert_eq!(latest[0].summary().max_points.to_string(), "100");
    }

    #[tokio::test]
    async fn an_import_is_stored_once_and_a_changed_revision_is_refused() {
        let store = store().await;
        let (_, outcome) = import(&store, TEST_CATALOG, 1).await.unwrap();
        assert_eq!(outcome, ImportOutcome::Imported);
        let (_, outcome) = import(&store, TEST_CATALOG, 2).await.unwrap();
        assert_eq!(outcome, ImportOutcome::AlreadyPresent);

        let changed = TEST_CATALOG.replace("TEST: bộ tiêu chí thử", "TEST: đã sửa");
        let err = import(&store, &changed, 3).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "revision 1 of TEST-SERVER was already imported with different content; import it as revision 2 or higher"
        );
        let revised = changed.replace(r#""revision": 1"#, r#""revision": 2"#);
        import(&store, &revised, 4).await.unwrap();
        let newest = find(&store, "TEST-SERVER", None).await.unwrap().unwrap();
        assert_eq!(newest.catalog.revision, 2);
        assert_eq!(newest.catalog.title_vi, "TEST: đã sửa");
        assert_eq!(
            find(&store, "TEST-SERVER", Some(1))
                .await
                .unwrap()
                .unwrap()
                .catalog
                .revision,
            1
        );
    }

    #[tokio::test]
    async fn an_invalid_file_is_refused_whole_with_every_problem() {
        let store = store().await;
        let broken = TEST_CATALOG
            .replace(
                r#""max_points": 4, "scoring""#,
                r#""max_points": 3, "scoring""#,
            )
            .replace(r#""id": "C2""#, r#""id": "C1""#);
        let CatalogStoreError::Invalid(errors) = import(&store, &broken, 1).await.unwrap_err()
        else {
            panic!("expected validation errors");
        };
        assert_eq!(errors.problems.len(), 2, "{errors}");
        assert!(
            find(&store, "TEST-SERVER", None).await.unwrap().is_none(),
            "nothing was stored"
        );
    }

    fn provincial(province: &str) -> Publisher {
        Publisher {
            user: Some(format!("admin-{province}")),
            access: Access::Provinces([province.to_owned()].into()),
            province: Some(province.to_owned()),
        }
    }

    #[tokio::test]
    async fn a_code_takes_revisions_only_from_its_province() {
        let store = store().await;
        let catalog = parse_catalog(TEST_CATALOG).unwrap();
        let first = publish(&store, catalog.clone(), &provincial("38"), 1)
            .await
            .unwrap();
        assert_eq!(first.outcome, ImportOutcome::Imported);
        assert_eq!(first.stored.province.as_deref(), Some("38"));
        let again = publish(&store, catalog.clone(), &provincial("38"), 2)
            .await
            .unwrap();
        assert_eq!(again.outcome, ImportOutcome::AlreadyPresent);
        let mut changed = catalog.clone();
        changed.title_vi = "TEST: đã sửa".to_owned();
        let second = publish(&store, changed.clone(), &provincial("38"), 3)
            .await
            .unwrap();
        assert_eq!(second.stored.catalog.revision, 2);
        let err = publish(&store, changed, &provincial("40"), 4)
            .await
            .unwrap_err();
        assert!(matches!(err, CatalogStoreError::NotYours { .. }), "{err}");
        let of_40 = Access::Provinces(["40".to_owned()].into());
        assert!(latest_for(&store, &of_40).await.unwrap().len() == 1);
        assert!(matches!(
            find_for(&store, "TEST-SERVER", Some(1), &of_40)
                .await
                .unwrap(),
            Found::NotAllowed
        ));
    }

    #[tokio::test]
    async fn the_operator_imports_for_a_province_and_a_code_keeps_its_owner() {
        let store = store().await;
        crate::domain::unit::import(
            &store,
            "code,kind,name,parent,unit_type,covers\n38,province,TEST tỉnh,,,\n40,province,TEST hai,,,\n",
        )
        .await
        .unwrap();
        let err = import_into(&store, TEST_CATALOG, Some("99"), 1)
            .await
            .unwrap_err();
        assert!(matches!(err, CatalogStoreError::NotAProvince(_)), "{err}");
        import_into(&store, TEST_CATALOG, Some("38"), 1)
            .await
            .unwrap();
        let revised = TEST_CATALOG.replace(r#""revision": 1"#, r#""revision": 2"#);
        let err = import_into(&store, &revised, Some("40"), 2)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "criteria set TEST-SERVER belongs to province 38, not 40"
        );
        // Without a province, a known code's revision stays its owner's.
        import_into(&store, &revised, None, 3).await.unwrap();
        let newest = find(&store, "TEST-SERVER", None).await.unwrap().unwrap();
        assert_eq!(
            (newest.catalog.revision, newest.province.as_deref()),
            (2, Some("38"))
        );
    }

    #[tokio::test]
    async fn the_shipped_revision_cannot_be_replaced() {
        let store = store().await;
        let shipped = shipped_catalogs().remove(0);
        let altered = shipped.to_json().replace("Nhân lực y tế", "Nhân lực");
        let err = import(&store, &altered, 1).await.unwrap_err();
        assert!(
            matches!(err, CatalogStoreError::ShippedRevision { next: 2, .. }),
            "{err}"
        );
    }
}
