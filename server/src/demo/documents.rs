//! The demo's documents (hồ sơ minh họa): each station's roster of fictional people and each
//! assessment brought to its plan's state, signed by the station's own staff and reviewers.

use automerge::{ActorId, AutoCommit};

use super::plan::{Plan, deducted};
use super::*;

/// A small deterministic sequence, so the demo is the same every time.
pub(super) fn spread(seed: usize, i: usize, span: u32) -> u32 {
    let mixed = (seed * 7919 + i * 104_729 + 13) % 1_000_003;
    (mixed as u32) % span.max(1)
}

/// Family and given names of the rosters' fictional people.
pub(super) const FAMILY: [&str; 6] = ["Nguyễn", "Lê", "Trịnh", "Đỗ", "Vũ", "Mai"];
pub(super) const GIVEN: [&str; 6] = ["An", "Bình", "Chi", "Dung", "Giang", "Hà"];

/// Positions in a roster's staff: the head (who submits) and the midwife (who self-assesses).
pub(super) const HEAD_POSITION: usize = 0;
pub(super) const STAFF_POSITION: usize = 2;

/// The name of the `position`th staff member of a station's roster (the demo accounts' own
/// names at the demo stations).
pub(super) fn staff_name(code: &str, index: usize, position: usize) -> String {
    match (DEMO_STATIONS.contains(&code), position) {
        (true, HEAD_POSITION) => HEAD_NAME.to_owned(),
        (true, STAFF_POSITION) => STAFF_NAME.to_owned(),
        _ => format!(
            "{} Văn {} Mẫu (hư cấu)",
            FAMILY[(index + position) % FAMILY.len()],
            GIVEN[(index * 3 + position) % GIVEN.len()]
        ),
    }
}

pub(super) fn build_roster(
    code: &str,
    index: usize,
    villages: usize,
    now: i64,
) -> Result<AutoCommit, String> {
    let commune = CommuneCode::parse(code).map_err(|err| err.to_string())?;
    let mut doc = tramyte_shared::roster::new_roster(&commune, now).map_err(|e| e.to_string())?;
    let staff = [
        (Title::Doctor, "Bác sĩ đa khoa", StationRole::Head),
        (Title::Assistant, "Y sĩ đa khoa", StationRole::Deputy),
        (Title::Midwife, "Hộ sinh cao đẳng", StationRole::Member),
        (Title::Nurse, "Điều dưỡng trung cấp", StationRole::Member),
    ];
    for (i, (title, qualification, role)) in staff.into_iter().enumerate() {
        let name = staff_name(code, index, i);
        let person = Person {
            name,
            title,
            qualification: qualification.to_owned(),
            role,
            ..Person::default()
        };
        let id = person_id(&format!("staff-{code}-{}", i + 1))?;
        put_person(&mut doc, Group::Staff, &id, &person, now).map_err(|e| e.to_string())?;
    }
    for village in 1..=villages {
        let village_id = format!("{code}-T{village}");
        let id = VillageId::parse(&village_id).map_err(|err| err.to_string())?;
        let name = format!("Thôn {village}");
        put_village(&mut doc, &id, &Village { name }, now).map_err(|e| e.to_string())?;
        let id = format!("vhw-{code}-{village}");
        // The village health worker account is this person.
        let name = if id == VHW_PERSON {
            VHW_NAME.to_owned()
        } else {
            format!(
                "{} Thị {} Thôn (hư cấu)",
                FAMILY[(index + village) % FAMILY.len()],
                GIVEN[(index + village * 2) % GIVEN.len()]
            )
        };
        let worker = Person {
            name,
            title: Title::Other,
            qualification: "Nhân viên y tế thôn".to_owned(),
            role: StationRole::Member,
            village: Some(village_id),
            ..Person::default()
        };
        let id = person_id(&id)?;
        put_person(&mut doc, Group::VillageWorker, &id, &worker, now).map_err(|e| e.to_string())?;
    }
    Ok(doc)
}

/// The assessment of commune or ward `index`, brought to its plan's state by the demo accounts
/// at the plan's dates.
pub(super) fn build_assessment(
    catalog: &Catalog,
    code: &str,
    index: usize,
    plan: &Plan,
) -> Result<AutoCommit, String> {
    let err = |e: tramyte_shared::document::DocumentError| e.to_string();
    let zone = Zone::new(1 + (index % 3) as i64).map_err(|e| e.to_string())?;
    let new = NewAssessment {
        commune: CommuneCode::parse(code).map_err(|e| e.to_string())?,
        round: plan.round,
        zone,
        unit_type: plan.unit_type,
    };
    let mut doc = new_assessment(catalog, &new, plan.start).map_err(err)?;
    let (staff, head) = station_people(code)?;
    let reviewer = user(plan.reviewer)?;
    let state = plan.state;
    let items: Vec<(ItemId, Points)> = catalog
        .items()
        .filter(|item| item.applies(zone, plan.unit_type))
        .map(|item| (item.id().clone(), item.max_points()))
        .collect();
    // Self scores: drafts partly scored, everything else fully; between 75% and 100% of each
    // item, or (wards) half a point above the review's deduction.
    let scored = if state == "draft" {
        plan.drafted.unwrap_or(index) % items.len()
    } else {
        items.len()
    };
    let own: Vec<Points> = match plan.review_deduction {
        Some(deduction) => deducted(&items, deduction.saturating_sub(1)),
        None => items
            .iter()
            .enumerate()
            .map(|(i, (_, max))| {
                let floor = max.halves() * 3 / 4;
                Points::from_halves(floor + spread(index, i, max.halves() - floor + 1))
            })
            .collect(),
    };
    let mut at = plan.start;
    for ((item, _), points) in items.iter().zip(&own).take(scored) {
        at += 60_000;
        let answer = Answer::Points(*points);
        set_score(&mut doc, Side::SelfAssessment, item, answer, &staff, at).map_err(err)?;
    }
    if let Some((item, _)) = items.first() {
        set_note(&mut doc, item, "Đã họp Ban chỉ đạo quý I (minh họa).", at).map_err(err)?;
    }
    if plan.conflict {
        // Two staff score TC2 offline on two phones; merged, both values stay visible.
        let item = ItemId::parse("TC2").map_err(|e| e.to_string())?;
        let mut phone_a = doc.fork().with_actor(ActorId::from(&[0xA1; 16][..]));
        let mut phone_b = doc.fork().with_actor(ActorId::from(&[0xB2; 16][..]));
        let a = Answer::Points(Points::whole(7));
        let b = Answer::Points(Points::whole(8));
        set_score(&mut phone_a, Side::SelfAssessment, &item, a, &staff, at + 1).map_err(err)?;
        set_score(&mut phone_b, Side::SelfAssessment, &item, b, &head, at + 2).map_err(err)?;
        doc.merge(&mut phone_a).map_err(|e| e.to_string())?;
        doc.merge(&mut phone_b).map_err(|e| e.to_string())?;
    }
    let missing = |step: &str| format!("{code}: the plan has no date for `{step}`");
    if state == "draft" {
        return Ok(doc);
    }
    let submitted = plan.submitted.ok_or_else(|| missing("submitted"))?;
    append_event(
        &mut doc,
        &EventKind::Submit,
        &head,
        submitted,
        "Trạm nộp hồ sơ (minh họa).",
    )
    .map_err(err)?;
    if state == "submitted" {
        return Ok(doc);
    }
    let reviewed = plan.reviewed.ok_or_else(|| missing("reviewed"))?;
    if state == "returned" {
        let item = items
            .get(4)
            .map(|(item, _)| item.clone())
            .ok_or("the catalog has fewer than 5 items")?;
        set_review_comment(
            &mut doc,
            &item,
            "Thiếu biên bản kiểm tra; bổ sung minh chứng (minh họa).",
            reviewed,
        )
        .map_err(err)?;
        append_event(
            &mut doc,
            &EventKind::Return,
            &reviewer,
            reviewed + 60_000,
            "Trả lại để bổ sung minh chứng tiêu chí 5 (minh họa).",
        )
        .map_err(err)?;
        return Ok(doc);
    }
    let review: Vec<Points> = match plan.review_deduction {
        Some(deduction) => deducted(&items, deduction),
        None => items
            .iter()
            .enumerate()
            .map(|(i, (_, max))| {
                let floor = max.halves() * 4 / 5;
                Points::from_halves(floor + spread(index + 17, i, max.halves() - floor + 1))
            })
            .collect(),
    };
    let mut at = reviewed;
    for ((item, _), points) in items.iter().zip(&review) {
        at += 60_000;
        let answer = Answer::Points(*points);
        set_score(&mut doc, Side::Review, item, answer, &reviewer, at).map_err(err)?;
    }
    append_event(
        &mut doc,
        &EventKind::Appraise,
        &reviewer,
        reviewed + 8 * 3_600_000,
        "Thẩm định tại trạm.",
    )
    .map_err(err)?;
    if state == "appraised" {
        return Ok(doc);
    }
    let approved = plan.approved.ok_or_else(|| missing("approved"))?;
    let heads = tramyte_shared::document::heads(&mut doc);
    append_event(
        &mut doc,
        &EventKind::Approve { heads },
        &reviewer,
        approved,
        "Đạt.",
    )
    .map_err(err)?;
    if state == "approved" {
        return Ok(doc);
    }
    let maintained = plan.maintained.ok_or_else(|| missing("maintained"))?;
    append_event(
        &mut doc,
        &EventKind::Maintain { decision: None },
        &reviewer,
        maintained,
        &format!("Duy trì đạt tiêu chí năm {} (minh họa).", plan.round),
    )
    .map_err(err)?;
    Ok(doc)
}
