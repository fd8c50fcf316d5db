//! Document summaries against the real server: after random edits by station staff, the
//! station head and a reviewer (online, and offline with concurrent writes that leave
//! conflicts), the stored summary row always equals the summary computed from the document as
//! loaded from the database; and the listing answers it to those who may see it.

use std::time::Duration;

use automerge::AutoCommit;
use tramyte_server::config::DocKindArg;
use tramyte_server::domain::summary::{
    DocumentRow, Filter, SummaryRecord, list, list_json, stored,
};
use tramyte_server::store::Store;
use tramyte_shared::assessment::{Answer, Side, append_event, clear_score, set_note, set_score};
use tramyte_shared::catalog::{Catalog, shipped_catalogs};
use tramyte_shared::id::{ItemId, UserId};
use tramyte_shared::points::Points;
use tramyte_shared::policy::Role;
use tramyte_shared::sync::DocumentId;
use tramyte_shared::sync::hub::load_chunks;
use tramyte_shared::workflow::EventKind;
use tramyte_tests::api;
use tramyte_tests::people::{seed_units, user};
use tramyte_tests::sync_client::{SyncClient, converge};
use tramyte_tests::{Backend, backends, spawn_node_beside, spawn_server_on};

/// A small deterministic random source (xorshift64*), so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn qd1300() -> Catalog {
    shipped_catalogs().remove(0)
}

async fn create_assessment(store: &Store, commune: &str) -> DocumentId {
    let object = serde_json::json!({
        "commune": commune, "catalog": "QD1300-2023", "round": 2024, "zone": 1, "unit_type": "xa"
    });
    tramyte_server::cli::create_document(store, DocKindArg::Assessment, object.as_object().unwrap())
        .await
        .unwrap()
}

/// The summary computed from the document as stored, as a row.
async fn expected(store: &Store, id: DocumentId) -> SummaryRecord {
    let chunks = tramyte_server::store::document::load(store, id)
        .await
        .unwrap()
        .unwrap();
    let mut doc = load_chunks(&chunks).unwrap();
    let mut facts = tramyte_shared::summary::read_facts(&mut doc);
    let owners = tramyte_server::store::document::actor_bindings(store)
        .await
        .unwrap();
    tramyte_server::domain::summary::name_devices(&mut facts, |actor| {
        owners
            .iter()
            .find(|(a, _)| a == actor)
            .map(|(_, user)| user.as_str())
    });
    SummaryRecord::of(&tramyte_shared::summary::summarize_facts(
        &facts,
        Some(&qd1300()),
    ))
}

/// Waits (up to 10 s) until the stored summary equals the one computed from the stored
/// document, and returns it.
async fn assert_summary_matches(store: &Store, id: DocumentId, context: &str) -> SummaryRecord {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let want = expected(store, id).await;
        let have = stored(store, id).await.unwrap().map(|s| s.record);
        if have.as_ref() == Some(&want) {
            assert_listings_agree(store, &[id.to_string()], context).await;
            return want;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{context}: the stored summary\n{have:#?}\ndiffers from the document's\n{want:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The listing the database builds as JSON from the stored `listing` fields (what the API
/// answers) equals the rows read column by column, for these documents.
async fn assert_listings_agree(store: &Store, ids: &[String], context: &str) -> Vec<DocumentRow> {
    let filter = Filter {
        ids: Some(ids.to_vec()),
        ..Filter::default()
    };
    let rows = list(store, &filter).await.unwrap();
    let json = list_json(store, &filter).await.unwrap();
    let built: Vec<DocumentRow> = serde_json::from_str(json.get())
        .unwrap_or_else(|err| panic!("{context}: the listing is not rows ({err}): {json}"));
    assert_eq!(
        built, rows,
        "{context}: the JSON listing differs from the rows"
    );
    assert_eq!(rows.len(), ids.len(), "{context}: {rows:?}");
    rows
}

/// Whether `role`'s side of the dossier is read-only in this copy (submitted or approved).
fn side_frozen(doc: &AutoCommit, role: Role) -> bool {
    let status =
        tramyte_shared::workflow::status(&tramyte_shared::assessment::read_events(doc).unwrap())
            .status;
    let side = if role == Role::Reviewer {
        tramyte_shared::policy::Freeze::ReviewSide
    } else {
        tramyte_shared::policy::Freeze::StationSide
    };
    side.refuses(status).is_some()
}

/// One random edit, as `role` may make it.
fn random_edit(rng: &mut Rng, role: Role, user: &UserId, doc: &mut AutoCommit, at: i64) {
    let catalog = qd1300();
    let items: Vec<(ItemId, Points)> = catalog
        .items()
        .map(|item| (item.id().clone(), item.max_points()))
        .collect();
    let (item, max) = items[rng.below(items.len())].clone();
    let side = if role == Role::Reviewer {
        Side::Review
    } else {
        Side::SelfAssessment
    };
    // What the policy lets this person write as their own copy shows the dossier: once it is
    // submitted (or approved) their side takes only workflow events.
    let choice = if side_frozen(doc, role) {
        9
    } else {
        rng.below(10)
    };
    match choice {
        // Mostly scores: anything from 0 to the maximum in half points, sometimes above it
        // (an answer that does not fit its rule must show in the summary too).
        0..=5 => {
            let halves = rng.below(max.halves() as usize + 3) as u32;
            let answer = Answer::Points(Points::from_halves(halves));
            set_score(doc, side, &item, answer, user, at).unwrap();
        }
        6 => clear_score(doc, side, &item, at).unwrap(),
        7 if role != Role::Reviewer => set_note(doc, &item, &format!("ghi chú {at}"), at).unwrap(),
        _ => {
            let kind = match role {
                Role::StationHead => EventKind::Submit,
                Role::Reviewer => match rng.below(3) {
                    0 => EventKind::Return,
                    1 => EventKind::Appraise,
                    _ => EventKind::Approve {
                        heads: tramyte_shared::document::heads(doc),
                    },
                },
                _ if side_frozen(doc, role) => return,
                _ => {
                    let answer = Answer::Points(Points::ZERO);
                    return set_score(doc, side, &item, answer, user, at).unwrap();
                }
            };
            append_event(doc, &kind, user, at, "").unwrap();
        }
    }
}

#[tokio::test]
async fn the_stored_summary_equals_the_score_of_the_stored_document_after_random_edits() {
    for backend in backends().await {
        let mut server = spawn_server_on(backend, |_| {}).await;
        let store = Store::connect(&server.config.database_url).await.unwrap();
        seed_units(&store).await;
        let people = [
            (Role::StationStaff, "lan.tyt", "16024"),
            (Role::StationHead, "hung.truongtram", "16024"),
            (Role::Reviewer, "thu.ttyt", "38-405-TTYT"),
        ];
        let mut clients = Vec::new();
        let id = create_assessment(&store, "16024").await;
        let first = assert_summary_matches(&store, id, "after creation").await;
        assert_eq!(first.status.as_deref(), Some("draft"));

        for (role, name, unit) in people {
            let token = user(&store, name, role, &[unit]).await;
            let mut client = SyncClient::new(&format!("{name}-phone"));
            client.connect_as(&server.url(), Some(&token)).await;
            client.request(id).await;
            client.settle(id).await;
            clients.push((role, UserId::parse(name).unwrap(), token, client));
        }

        let seed = 0x7EA5_0001_u64 + u64::from(backend == Backend::Postgres);
        let mut rng = Rng(seed);
        let mut at = 1_700_000_000_000_i64;
        let mut conflicts_seen = 0;
        for round in 0..16 {
            let offline = round % 4 == 3;
            if offline {
                // Staff and head score the same item offline: a conflict once both are back.
                for (_, _, _, client) in clients.iter_mut().take(2) {
                    client.disconnect().await;
                }
                let item = ItemId::parse("TC2").unwrap();
                for (i, (role, user, _, client)) in clients.iter_mut().take(2).enumerate() {
                    if side_frozen(client.client.doc_mut(&id).unwrap(), *role) {
                        continue;
                    }
                    at += 1;
                    let answer = Answer::Points(Points::whole(1 + i as u32));
                    client
                        .edit(id, |doc| {
                            set_score(doc, Side::SelfAssessment, &item, answer, user, at).unwrap()
                        })
                        .await;
                }
            }
            for (role, user, _, client) in clients.iter_mut() {
                for _ in 0..1 + rng.below(3) {
                    at += 1;
                    let pick = rng.next();
                    client
                        .edit(id, |doc| {
                            random_edit(&mut Rng(pick | 1), *role, user, doc, at)
                        })
                        .await;
                }
            }
            if offline {
                for (_, _, token, client) in clients.iter_mut().take(2) {
                    client.connect_as(&server.url(), Some(token)).await;
                }
            }
            for (role, _, _, client) in clients.iter_mut() {
                client.pump_for(Duration::from_millis(20)).await;
                assert!(
                    client.is_online(),
                    "round {round}: {role:?}'s edit was refused: {:?}",
                    client.closed_with
                );
            }
            let mut all: Vec<&mut SyncClient> = clients.iter_mut().map(|(.., c)| c).collect();
            converge(&mut all, id).await;
            let record = assert_summary_matches(
                &store,
                id,
                &format!("{backend:?} seed {seed:#x} round {round}"),
            )
            .await;
            if record.open_conflicts > 0 {
                conflicts_seen += 1;
            }
        }
        assert!(
            conflicts_seen > 0,
            "{backend:?}: the random edits left a conflict at least once"
        );

        // The listing answers the row to a reviewer of the district, not to another commune's staff.
        let reviewer_token = clients[2].2.clone();
        let (status, body) = api::get(&server.url(), "/api/documents", Some(&reviewer_token)).await;
        assert_eq!(status, 200, "{body}");
        let rows = body["documents"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{body}");
        let row = &rows[0];
        let want = expected(&store, id).await;
        assert_eq!(row["id"], id.to_string());
        assert_eq!(row["url"], format!("automerge:{id}"));
        assert_eq!(row["commune_name"], "Xã Thiệu Vận (thử)");
        assert_eq!(row["status"].as_str(), want.status.as_deref());
        assert_eq!(row["self_total"].as_f64(), want.self_total);
        assert_eq!(row["review_total"].as_f64(), want.review_total);
        assert_eq!(
            row["open_conflicts"].as_i64(),
            Some(i64::from(want.open_conflicts))
        );
        assert!(row["last_change_by"].is_string(), "{row}");

        // Restarting backfills nothing and changes nothing.
        let before = stored(&store, id).await.unwrap();
        server.restart().await;
        assert_eq!(stored(&store, id).await.unwrap(), before);

        if backend == Backend::Postgres {
            // Two nodes on one database: each stores the summary of its own copy; once each
            // has merged the other's chunks, the row is the summary of everything stored.
            // The station edits below: the reviewer returns the dossier first, whatever state
            // the random rounds left it in (a return is ignored by a draft).
            let (_, reviewer, token, desk) = &mut clients[2];
            desk.connect_as(&server.url(), Some(token)).await;
            desk.request(id).await;
            desk.settle(id).await;
            at += 1;
            desk.edit(id, |doc| {
                drop(append_event(doc, &EventKind::Return, reviewer, at, "làm lại").unwrap())
            })
            .await;
            desk.settle(id).await;
            let other = spawn_node_beside(&server).await;
            let mut near = SyncClient::new("near-phone");
            near.connect_as(&server.url(), Some(&clients[0].2)).await;
            near.request(id).await;
            near.settle(id).await;
            let mut far = SyncClient::new("far-phone");
            far.connect_as(&other.url(), Some(&clients[1].2)).await;
            far.request(id).await;
            far.settle(id).await;
            for step in 0..6 {
                at += 1;
                let item = ItemId::parse(if step % 2 == 0 { "TC5" } else { "TC6" }).unwrap();
                let answer = Answer::Points(Points::whole(step));
                let (lan, hung) = (clients[0].1.clone(), clients[1].1.clone());
                near.edit(id, |doc| {
                    set_score(doc, Side::SelfAssessment, &item, answer, &lan, at).unwrap()
                })
                .await;
                far.edit(id, |doc| {
                    set_score(doc, Side::SelfAssessment, &item, answer, &hung, at).unwrap()
                })
                .await;
            }
            converge(&mut [&mut near, &mut far], id).await;
            assert_summary_matches(&store, id, "two nodes").await;
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn documents_stored_before_summaries_get_one_at_start() {
    for backend in backends().await {
        let mut server = spawn_server_on(backend, |_| {}).await;
        let store = Store::connect(&server.config.database_url).await.unwrap();
        let id = create_assessment(&store, "16024").await;
        // As in a database from before summaries: no row.
        tramyte_server::with_pool!(&store, pool => {
            tramyte_server::sqlx::query("DELETE FROM document_summaries")
                .execute(pool)
                .await
                .unwrap();
        });
        assert_eq!(stored(&store, id).await.unwrap(), None);
        server.restart().await;
        let row = stored(&store, id)
            .await
            .unwrap()
            .expect("a summary at start");
        assert_eq!(row.record, expected(&store, id).await);
        assert!(row.last_change_at.is_some());
        // As in a database from before status histories: the column is empty until the start.
        let history = |store: Store| async move {
            let (history,): (Option<String>,) = tramyte_server::with_pool!(&store, pool => {
                tramyte_server::sqlx::query_as("SELECT status_history FROM document_summaries")
                    .fetch_one(pool)
                    .await
                    .unwrap()
            });
            history
        };
        tramyte_server::with_pool!(&store, pool => {
            tramyte_server::sqlx::query("UPDATE document_summaries SET status_history = NULL")
                .execute(pool)
                .await
                .unwrap();
        });
        assert_eq!(history(store.clone()).await, None);
        server.restart().await;
        assert_eq!(history(store.clone()).await.as_deref(), Some("[]"));
        server.stop().await;
    }
}

#[tokio::test]
async fn rows_written_before_the_listing_column_are_listed_after_the_upgrade() {
    for backend in backends().await {
        let database = tramyte_tests::server::TestDatabase::new(backend).await;
        let store = Store::connect(&database.url).await.unwrap();
        // The schema as the release before the listing column left it, with rows in it.
        store.migrate_up_to(6).await.unwrap();
        let rows = [
            // id, commune, round, status, self, review, verdict, conflicts, last change
            (
                "old-a",
                Some("16024"),
                Some(2024),
                Some("approved"),
                Some(85.5),
                Some(90.0),
                Some("pass"),
                0,
                Some((1_700_000_000_000_i64, "lan.tyt")),
            ),
            (
                "old-b",
                Some("16025"),
                Some(2024),
                Some("draft"),
                None,
                None,
                Some("incomplete"),
                2,
                None,
            ),
            (
                "old-c",
                Some("99999"),
                None,
                None,
                Some(0.0),
                None,
                None,
                0,
                Some((1_700_000_000_001, "quản \"trị\"")),
            ),
        ];
        tramyte_server::with_pool!(&store, pool => {
            for (id, commune, round, status, self_total, review_total, verdict, conflicts, last) in rows {
                let kind = if round.is_some() { "assessment" } else { "roster" };
                tramyte_server::sqlx::query("INSERT INTO documents (id, kind, created_at, created_by) VALUES ($1, $2, 1, 'test')")
                    .bind(id).bind(kind).execute(pool).await.unwrap();
                tramyte_server::sqlx::query(
                    "INSERT INTO document_summaries (document_id, kind, commune, round, catalog, status, \
                     self_total, review_total, verdict, reasons, criteria, open_conflicts, changes, \
                     last_change_at, last_change_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '[]', '[]', $10, 3, $11, $12, 1)",
                )
                .bind(id)
                .bind(kind)
                .bind(commune)
                .bind(round)
                .bind(round.map(|_| "QD1300-2023"))
                .bind(status)
                .bind(self_total)
                .bind(review_total)
                .bind(verdict)
                .bind(conflicts)
                .bind(last.map(|(at, _)| at))
                .bind(last.map(|(_, by)| by))
                .execute(pool)
                .await
                .unwrap();
            }
        });
        store.migrate().await.unwrap();
        // The units (the communes' names) as today's release stores them.
        seed_units(&store).await;
        let ids: Vec<String> = rows.iter().map(|row| row.0.to_owned()).collect();
        let listed = assert_listings_agree(&store, &ids, &format!("{backend:?}")).await;
        let a = listed.iter().find(|row| row.id == "old-a").unwrap();
        assert_eq!(
            (
                a.self_total,
                a.review_total,
                a.commune_name.as_deref(),
                a.last_change_by.as_deref()
            ),
            (
                Some(Points::from_f64(85.5).unwrap()),
                Some(Points::whole(90)),
                Some("Xã Thiệu Vận (thử)"),
                Some("lan.tyt")
            ),
            "{backend:?}"
        );
        let c = listed.iter().find(|row| row.id == "old-c").unwrap();
        assert_eq!(
            (
                c.kind.as_str(),
                c.commune_name.as_deref(),
                c.last_change_by.as_deref(),
                c.self_total
            ),
            ("roster", None, Some("quản \"trị\""), Some(Points::whole(0))),
            "{backend:?}"
        );
        // Whole points are written as integers, as serde writes them.
        let json = list_json(
            &store,
            &Filter {
                ids: Some(vec!["old-a".to_owned()]),
                ..Filter::default()
            },
        )
        .await
        .unwrap();
        assert!(!json.get().contains("90.0"), "{backend:?}: {json}");
        store.close().await;
    }
}

/// A database of the release before scopes were kept as rows: its users' scopes, expanded by the
/// upgrade, are what the rule gives (a provincial health department its province, a district
/// health centre its district, a regional centre what it covers, a village its commune), and a
/// round's listing shows each reviewer exactly their communes.
#[tokio::test]
async fn scopes_of_users_stored_before_the_scope_rows_are_kept_by_the_upgrade() {
    for backend in backends().await {
        let database = tramyte_tests::server::TestDatabase::new(backend).await;
        let store = Store::connect(&database.url).await.unwrap();
        store.migrate_up_to(14).await.unwrap();
        let units = [
            ("38", "province", None),
            ("38-SYT", "health_department", Some("38")),
            ("38-405", "district", Some("38")),
            ("38-405-TTYT", "health_centre", Some("38-405")),
            ("KV1", "health_centre", Some("38")),
            ("16024", "commune", Some("38-405")),
            ("16025", "commune", Some("38-405")),
            ("16026", "commune", Some("38")),
            ("16024-T1", "village", Some("16024")),
        ];
        let users = [
            ("syt", "38-SYT"),
            ("ttyt", "38-405-TTYT"),
            ("kv", "KV1"),
            ("thon", "16024-T1"),
        ];
        tramyte_server::with_pool!(&store, pool => {
            for (code, kind, parent) in units {
                tramyte_server::sqlx::query("INSERT INTO units (code, kind, name, parent) VALUES ($1, $2, $1, $3)")
                    .bind(code).bind(kind).bind(parent).execute(pool).await.unwrap();
            }
            tramyte_server::sqlx::query("INSERT INTO unit_coverage (unit, commune) VALUES ('KV1', '16026')")
                .execute(pool).await.unwrap();
            for (id, unit) in users {
                tramyte_server::sqlx::query(
                    "INSERT INTO users (id, display_name, role, password_hash, created_at) \
                     VALUES ($1, $1, 'reviewer', '!', 1)",
                )
                .bind(id).execute(pool).await.unwrap();
                tramyte_server::sqlx::query("INSERT INTO user_units (user_id, unit) VALUES ($1, $2)")
                    .bind(id).bind(unit).execute(pool).await.unwrap();
            }
            for (i, commune) in ["16024", "16025", "16026"].into_iter().enumerate() {
                let id = format!("a{i}");
                tramyte_server::sqlx::query("INSERT INTO documents (id, kind, created_at, created_by) VALUES ($1, 'assessment', 1, 'test')")
                    .bind(&id).execute(pool).await.unwrap();
                tramyte_server::sqlx::query(
                    "INSERT INTO document_summaries (document_id, kind, commune, round, catalog, status, \
                     reasons, criteria, open_conflicts, changes, updated_at, listing) \
                     VALUES ($1, 'assessment', $2, 2025, 'QD1300-2023', 'draft', '[]', '[]', 0, 1, 1, '')",
                )
                .bind(&id).bind(commune).execute(pool).await.unwrap();
            }
        });
        store.migrate().await.unwrap();
        let expected = [
            ("syt", vec!["16024", "16025", "16026"]),
            ("ttyt", vec!["16024", "16025"]),
            ("kv", vec!["16026"]),
            ("thon", vec!["16024"]),
        ];
        for (user, communes) in expected {
            let scope = tramyte_server::domain::unit::communes_of_user(&store, user)
                .await
                .unwrap();
            assert_eq!(
                scope.iter().map(String::as_str).collect::<Vec<_>>(),
                communes,
                "{backend:?}: {user}'s scope"
            );
            // (The listing as rows: the stored listing fields of rows this old are written by
            // the start-up backfill, which this test does not run.)
            let filter =
                tramyte_server::domain::summary::round_assessments(2025, Some(user.to_owned()));
            let rows = list(&store, &filter).await.unwrap();
            let mut listed: Vec<&str> = rows.iter().map(DocumentRow::commune_code).collect();
            listed.sort_unstable();
            assert_eq!(listed, communes, "{backend:?}: {user}'s overview");
        }
        store.close().await;
    }
}

/// The stored listing objects (migration 0016) follow their communes' names, kept by the
/// database: a commune imported after its dossier, a renamed commune and a later change all
/// show in both listings; the overview orders its rows by those names in Vietnamese order,
/// communes of one name by code, a dossier whose commune is no unit by its code.
#[tokio::test]
async fn the_listing_follows_its_communes_names_and_the_overview_orders_by_them() {
    for backend in backends().await {
        let database = tramyte_tests::server::TestDatabase::new(backend).await;
        let store = Store::connect(&database.url).await.unwrap();
        store.migrate().await.unwrap();
        let units = |names: &[(&str, &str)]| {
            let mut csv =
                String::from("code,kind,name,parent,unit_type,covers\nP,province,Tỉnh Thử,,,\n");
            for (code, name) in names {
                csv.push_str(&format!("{code},commune,{name},P,xa,\n"));
            }
            csv
        };
        tramyte_server::domain::unit::import(
            &store,
            &units(&[
                ("00003", "Xã Đức Giang"),
                ("00002", "Xã Tân Lập"),
                ("00001", "Xã Tân Lập"),
                ("00004", "Xã An Khánh"),
            ]),
        )
        .await
        .unwrap();
        let mut ids = Vec::new();
        for commune in ["00001", "00002", "00003", "00004", "00009"] {
            ids.push(create_assessment(&store, commune).await.to_string());
        }
        let order = |store: Store| async move {
            let overview = tramyte_server::domain::overview::overview(&store, 2024, None)
                .await
                .unwrap();
            assert_eq!(overview.count, 5, "{backend:?}");
            let rows: Vec<DocumentRow> = serde_json::from_str(overview.documents.get()).unwrap();
            rows.into_iter()
                .map(|row| (row.commune.unwrap(), row.commune_name))
                .collect::<Vec<_>>()
        };
        let named = |code: &str, name: Option<&str>| (code.to_owned(), name.map(str::to_owned));
        assert_eq!(
            order(store.clone()).await,
            [
                named("00009", None),
                named("00004", Some("Xã An Khánh")),
                named("00003", Some("Xã Đức Giang")),
                named("00001", Some("Xã Tân Lập")),
                named("00002", Some("Xã Tân Lập")),
            ],
            "{backend:?}: digits before letters, Đ after D, one name by code"
        );
        assert_listings_agree(&store, &ids, "before the import").await;

        // The unit-less commune imported, another renamed.
        tramyte_server::domain::unit::import(
            &store,
            &units(&[("00009", "Xã Bình Minh"), ("00004", "Xã Yên Bình")]),
        )
        .await
        .unwrap();
        assert_eq!(
            order(store.clone()).await,
            [
                named("00009", Some("Xã Bình Minh")),
                named("00003", Some("Xã Đức Giang")),
                named("00001", Some("Xã Tân Lập")),
                named("00002", Some("Xã Tân Lập")),
                named("00004", Some("Xã Yên Bình")),
            ],
            "{backend:?}: after the import"
        );
        let rows = assert_listings_agree(&store, &ids, "after the import").await;
        assert!(
            rows.iter()
                .any(|row| row.commune_name.as_deref() == Some("Xã Yên Bình")),
            "{backend:?}: {rows:?}"
        );

        // A later change is listed with who made it.
        let first: DocumentId = ids[0].parse().unwrap();
        let record = stored(&store, first).await.unwrap().unwrap().record;
        tramyte_server::with_pool!(&store, pool => {
            let mut tx = pool.begin().await.unwrap();
            tramyte_server::store::summary::upsert_summary(
                &mut tx, &ids[0], &record, 1, Some((1_800_000_000_000, Some("lan"))),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        });
        let rows = assert_listings_agree(&store, &ids[..1], "after a change").await;
        assert_eq!(
            rows[0].last_change_at,
            Some(1_800_000_000_000),
            "{backend:?}"
        );
        assert_eq!(
            rows[0].last_change_by.as_deref(),
            Some("lan"),
            "{backend:?}"
        );
        store.close().await;
    }
}
