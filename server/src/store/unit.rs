//! The `units` table: organisation units (communes, health centres and departments) and their
//! place in the hierarchy, and what reads it.

use std::sync::LazyLock;

use crate::store::{Store, StoreError};
use crate::with_pool;

/// The kind of unit `code` (`commune`, `health_centre`…), if there is one.
pub async fn kind_of(store: &Store, code: &str) -> Result<Option<String>, StoreError> {
    let kind: Option<(String,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT kind FROM units WHERE code = $1").bind(code).fetch_optional(pool).await?
    });
    Ok(kind.map(|(kind,)| kind))
}

/// The code of every commune.
pub async fn commune_codes(store: &Store) -> Result<Vec<String>, StoreError> {
    let codes: Vec<(String,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT code FROM units WHERE kind = 'commune'").fetch_all(pool).await?
    });
    Ok(codes.into_iter().map(|(code,)| code).collect())
}

/// Every commune's code and unit type (`xa`, `phuong`, `dac_khu`; NULL when not given).
pub async fn communes_with_type(
    store: &Store,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as("SELECT code, unit_type FROM units WHERE kind = 'commune'")
            .fetch_all(pool)
            .await?
    }))
}

/// Whether unit `code` exists.
pub async fn exists(store: &Store, code: &str) -> Result<bool, StoreError> {
    let found: Option<(String,)> = with_pool!(store, pool => {
        sqlx::query_as("SELECT code FROM units WHERE code = $1").bind(code).fetch_optional(pool).await?
    });
    Ok(found.is_some())
}

/// A unit as stored: code, kind, name, parent, unit type.
pub type UnitColumns = (String, String, String, Option<String>, Option<String>);

/// Every unit, by code.
pub async fn all(store: &Store) -> Result<Vec<UnitColumns>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as("SELECT code, kind, name, parent, unit_type FROM units ORDER BY code").fetch_all(pool).await?
    }))
}

/// Every (reviewing unit, commune it covers) pair, by unit and commune.
pub async fn coverage(store: &Store) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as("SELECT unit, commune FROM unit_coverage ORDER BY unit, commune").fetch_all(pool).await?
    }))
}

/// A unit to store, with the communes it covers.
#[derive(Debug, Clone, Copy)]
pub struct UnitToStore<'a> {
    pub code: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub parent: Option<&'a str>,
    pub unit_type: Option<&'a str>,
    pub covers: &'a [String],
}

/// Adds or updates `units` in this order (parents first, so the foreign key holds at every
/// insert), then replaces the communes each covers; one transaction.
pub async fn upsert(store: &Store, units: &[UnitToStore<'_>]) -> Result<(), StoreError> {
    with_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        for unit in units {
            sqlx::query(
                "INSERT INTO units (code, kind, name, parent, unit_type) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                 parent = excluded.parent, unit_type = excluded.unit_type",
            )
            .bind(unit.code)
            .bind(unit.kind)
            .bind(unit.name)
            .bind(unit.parent)
            .bind(unit.unit_type)
            .execute(&mut *tx)
            .await?;
        }
        for unit in units {
            sqlx::query("DELETE FROM unit_coverage WHERE unit = $1").bind(unit.code).execute(&mut *tx).await?;
            for commune in unit.covers {
                sqlx::query("INSERT INTO unit_coverage (unit, commune) VALUES ($1, $2)")
                    .bind(unit.code)
                    .bind(commune)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // Units and coverage decide every unit's communes, so every user's scope.
        sqlx::query("DELETE FROM unit_communes").execute(&mut *tx).await?;
        sqlx::query(REFILL_UNIT_COMMUNES.as_str()).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// The units (code and kind) `user` manages as a provincial administrator: the subtrees of the
/// units they are attached to, from the province or district of their reviewing body down.
pub async fn managed_by(store: &Store, user: &str) -> Result<Vec<(String, String)>, StoreError> {
    Ok(with_pool!(store, pool => {
        sqlx::query_as(
            "WITH RECURSIVE managed(code) AS ( \
                 SELECT unit FROM user_units WHERE user_id = $1 \
                 UNION SELECT u.parent FROM units u JOIN units p ON p.code = u.parent \
                       JOIN user_units uu ON uu.unit = u.code \
                       WHERE uu.user_id = $1 AND ((u.kind = 'health_department' AND p.kind = 'province') \
                          OR (u.kind = 'health_centre' AND p.kind = 'district')) \
                 UNION SELECT u.code FROM units u JOIN managed ON u.parent = managed.code \
             ) \
             SELECT units.code, units.kind FROM units JOIN managed ON units.code = managed.code",
        )
        .bind(user)
        .fetch_all(pool)
        .await?
    }))
}

/// The provinces `user` belongs to: every province above (or among) the units they are attached
/// to.
pub async fn provinces_of_user(store: &Store, user: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_pool!(store, pool => {
        sqlx::query_as(
            "WITH RECURSIVE above(code) AS ( \
                 SELECT unit FROM user_units WHERE user_id = $1 \
                 UNION SELECT u.parent FROM units u JOIN above ON u.code = above.code \
                       WHERE u.parent IS NOT NULL \
             ) \
             SELECT units.code FROM units JOIN above ON units.code = above.code \
             WHERE units.kind = 'province' ORDER BY units.code",
        )
        .bind(user)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(|(code,)| code).collect())
}

/// The coverage rule, one recursive CTE `covered(unit, code)` over the units a query seeds in
/// `seeds(unit)`: each seed covers itself, the communes it lists in `unit_coverage` (a regional
/// centre's), a village's commune, the province of a health department or the district of a
/// health centre that is its health body, and everything under what it covers. A reviewer's
/// scope ([`communes_of_user`]) and the desk's units ([`reviewing_coverage`]) both read it.
const COVERED: &str = "covered(unit, code) AS ( \
         SELECT unit, unit FROM seeds \
         UNION SELECT s.unit, c.commune FROM unit_coverage c JOIN seeds s ON s.unit = c.unit \
         UNION SELECT s.unit, u.parent FROM units u JOIN seeds s ON s.unit = u.code \
               WHERE u.kind = 'village' \
         UNION SELECT s.unit, u.parent FROM units u JOIN units p ON p.code = u.parent \
               JOIN seeds s ON s.unit = u.code \
               WHERE (u.kind = 'health_department' AND p.kind = 'province') \
                  OR (u.kind = 'health_centre' AND p.kind = 'district') \
         UNION SELECT covered.unit, u.code FROM units u JOIN covered ON u.parent = covered.code \
               WHERE u.kind <> 'village' \
     )";

/// Refills `unit_communes` (each unit's communes as rows: [`COVERED`] from every unit, kept to
/// communes); run after emptying it, in the transaction that stored the units.
static REFILL_UNIT_COMMUNES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH RECURSIVE seeds(unit) AS (SELECT code FROM units), {COVERED} \
         INSERT INTO unit_communes (unit, commune) \
         SELECT DISTINCT covered.unit, c.code FROM covered JOIN units c ON c.code = covered.code \
         WHERE c.kind = 'commune'"
    )
});

/// The SQL condition "`column` is a commune of the scope of the user bound as `$n`, or `$n` is
/// NULL" (every commune): a user's scope is the communes of the units they are attached to, as
/// `unit_communes` holds them. How listings and the round's reads join a caller's scope.
pub(crate) fn in_scope_of(column: &str, n: usize) -> String {
    format!(
        "(${n} IS NULL OR {column} IN ({}))",
        communes_of_user_sql(n)
    )
}

/// The SQL of the communes of the scope of the user bound as `$n` (possibly repeated): those of
/// the units they are attached to, as `unit_communes` holds them.
pub(crate) fn communes_of_user_sql(n: usize) -> String {
    format!(
        "SELECT uc.commune FROM user_units uu JOIN unit_communes uc ON uc.unit = uu.unit \
         WHERE uu.user_id = ${n}"
    )
}

/// [`reviewing_coverage`]'s statement, with `agg` the database's way to join a group's
/// communes into one text: one row per reviewing unit, by code, with its communes in the scope
/// (NULL: none). Each unit's communes are gathered by their own lookup, unordered: grouping or
/// ordering 10,000 communes in SQL sorted them (twice, by the database's collation on
/// PostgreSQL). The caller drops the units without communes and orders each one's communes:
/// a condition on the gathered text in SQL would gather it twice.
fn reviewing_coverage_sql(agg: &str) -> String {
    format!(
        "SELECT r.code, r.name, \
             (SELECT {agg}(uc.commune, ',') FROM unit_communes uc \
              WHERE uc.unit = r.code AND {scope}) \
         FROM units r WHERE r.kind IN ('health_department', 'health_centre') ORDER BY r.code",
        scope = in_scope_of("uc.commune", 1)
    )
}

/// [`reviewing_coverage`] on SQLite.
static SQLITE_REVIEWING_COVERAGE: LazyLock<String> =
    LazyLock::new(|| reviewing_coverage_sql("group_concat"));
/// [`reviewing_coverage`] on PostgreSQL.
static POSTGRES_REVIEWING_COVERAGE: LazyLock<String> =
    LazyLock::new(|| reviewing_coverage_sql("string_agg"));

/// The communes `user`'s scope covers (see [`crate::domain::unit::communes_of_user`]): those of
/// the units they are attached to, as `unit_communes` holds them.
pub async fn communes_of_user(store: &Store, user: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = with_pool!(store, pool => {
        sqlx::query_as(
            "SELECT DISTINCT uc.commune FROM user_units uu \
             JOIN unit_communes uc ON uc.unit = uu.unit WHERE uu.user_id = $1",
        )
        .bind(user)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(|(code,)| code).collect())
}

/// Every reviewing unit (health department or centre) whose coverage includes communes in the
/// scope of user `scope_of` (`None`: every commune): its code, its name and those communes
/// (`unit_communes`, the rows a reviewer's scope is read from), by unit and commune code.
pub async fn reviewing_coverage(
    store: &Store,
    scope_of: Option<&str>,
) -> Result<Vec<(String, String, Vec<String>)>, StoreError> {
    let rows: Vec<(String, String, Option<String>)> = match store {
        Store::Sqlite(pool, _) => {
            sqlx::query_as(SQLITE_REVIEWING_COVERAGE.as_str())
                .bind(scope_of)
                .fetch_all(pool)
                .await?
        }
        Store::Postgres(pool) => {
            sqlx::query_as(POSTGRES_REVIEWING_COVERAGE.as_str())
                .bind(scope_of)
                .fetch_all(pool)
                .await?
        }
    };
    // Unit codes are letters, digits, `-` and `_` (checked on import): a comma joins them safely.
    Ok(rows
        .into_iter()
        .filter_map(|(code, name, communes)| {
            let mut communes: Vec<String> = communes?.split(',').map(str::to_owned).collect();
            communes.sort_unstable();
            Some((code, name, communes))
        })
        .collect())
}
