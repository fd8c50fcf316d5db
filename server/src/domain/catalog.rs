//! Criteria catalogs (bộ tiêu chí) on the server: those shipped in the binary plus the revisions a
//! provincial administrator imported. Every catalog, whatever its origin, went through
//! `tramyte_shared::catalog::parse_catalog`.

use tramyte_shared::catalog::{Catalog, CatalogErrors, parse_catalog, shipped_catalogs};

use crate::store::{Store, StoreError};

pub mod sheet;

/// Where a catalog comes from (a REST type).
pub use tramyte_shared::rest::CatalogOrigin as Origin;

/// A catalog with its origin.
#[derive(Debug, Clone)]
pub struct StoredCatalog {
    pub catalog: Catalog,
    pub origin: Origin,
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
        }
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

/// Every revision of every catalog, shipped ones first, ordered by code and revision.
pub async fn all(store: &Store) -> Result<Vec<StoredCatalog>, CatalogStoreError> {
    let rows = crate::store::catalog::all(store).await?;
    let mut catalogs: Vec<StoredCatalog> = shipped_catalogs()
        .into_iter()
        .map(|catalog| StoredCatalog {
            catalog,
            origin: Origin::Shipped,
        })
        .collect();
    for (code, revision, source) in rows {
        match parse_catalog(&source) {
            Ok(catalog) => catalogs.push(StoredCatalog {
                catalog,
                origin: Origin::Imported,
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

/// The newest revision of each catalog.
pub async fn latest(store: &Store) -> Result<Vec<StoredCatalog>, CatalogStoreError> {
    let mut newest: Vec<StoredCatalog> = Vec::new();
    for stored in all(store).await? {
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

/// Validates `source` whole and stores it as a new revision. Importing the same revision with the
/// same content again changes nothing; different content needs a higher revision.
pub async fn import(
    store: &Store,
    source: &str,
    now_millis: i64,
) -> Result<(Catalog, ImportOutcome), CatalogStoreError> {
    let catalog = parse_catalog(source)?;
    let code = catalog.code.as_str().to_owned();
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
    let inserted =
        crate::store::catalog::insert(store, &code, i64::from(revision), &normalised, now_millis)
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
