//! The assessment workflow (quy trình): an append-only list of events, and the status as a pure
//! function of that list.
//!
//! Order: events are folded in the order of the document's event list. Events are only ever
//! appended at the end, so that order is causal (an event comes after every event its author had
//! seen) and concurrent appends are ordered by automerge's operation ids: the same on every
//! replica, and independent of phones' clocks. Client times are shown, never used to order.
//!
//! Transitions (anything else is ignored and reported, never an error):
//!
//! | event       | from                              | to          |
//! |-------------|-----------------------------------|-------------|
//! | `submit`    | draft, returned                   | submitted   |
//! | `return`    | submitted, appraised, approved    | returned    |
//! | `appraise`  | submitted                         | appraised   |
//! | `approve`   | appraised                         | approved    |
//! | `recognize` | approved                          | recognized  |
//! | `maintain`  | approved, recognized              | maintained  |
//! | `withdraw`  | approved, recognized, maintained  | withdrawn   |
//! | `reopen`    | approved                          | appraised   |
//! | `acknowledge` | submitted, appraised            | (unchanged) |
//!
//! `reopen` (mở lại) is how a reviewer edits an approved dossier again: it needs a reason (its
//! comment), and the review side is editable again until the next approval. `acknowledge` (ghi
//! nhận) says the reviewer has seen what the station changed, offline, concurrently with its
//! submission: the "changed after submission" notice ends (see
//! [`WorkflowState::acknowledged`]).
//!
//! So when a station re-submits while a reviewer concurrently returns the dossier, every replica
//! folds the two in the same order and reaches the same status; the event that did not fit is
//! listed in [`WorkflowState::ignored`] so the UI can say so. Who may append which event is the
//! access policy's business, not this module's.

use serde::Serialize;

/// Status of an assessment (trạng thái hồ sơ).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being self-assessed by the station (đang tự đánh giá).
    Draft,
    /// Submitted by the commune (đã nộp).
    Submitted,
    /// Returned for rework (trả lại).
    Returned,
    /// Appraised on site by the reviewing body (đã thẩm định).
    Appraised,
    /// Approved (đã thông qua): the heads approved are recorded.
    Approved,
    /// Recognized by decision of the provincial People's Committee (đã công nhận).
    Recognized,
    /// Recognition maintained for this round (duy trì).
    Maintained,
    /// Recognition withdrawn (thu hồi).
    Withdrawn,
}

impl Status {
    /// Every status, in the order a dossier usually meets them.
    pub const ALL: [Status; 8] = [
        Status::Draft,
        Status::Submitted,
        Status::Returned,
        Status::Appraised,
        Status::Approved,
        Status::Recognized,
        Status::Maintained,
        Status::Withdrawn,
    ];

    /// The stored name (as serialized: `draft`, `submitted`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Appraised => "appraised",
            Status::Approved => "approved",
            Status::Recognized => "recognized",
            Status::Maintained => "maintained",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// Its name in Vietnamese, as the app shows it and the downloads write it (one label for
    /// both, so a CSV says what the screen says).
    pub fn label_vi(self) -> &'static str {
        match self {
            Status::Draft => "Đang tự đánh giá",
            Status::Submitted => "Đã nộp",
            Status::Returned => "Bị trả lại",
            Status::Appraised => "Đã thẩm định",
            Status::Approved => "Đã thông qua",
            Status::Recognized => "Đã công nhận",
            Status::Maintained => "Duy trì",
            Status::Withdrawn => "Bị thu hồi",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.name() == name)
    }

    /// Whether it counts as submitted in reports and targets: submitted, and everything that can
    /// only follow a submission (a returned dossier was submitted once; a withdrawn one was
    /// approved).
    pub fn counts_as_submitted(self) -> bool {
        !matches!(self, Status::Draft)
    }

    /// Whether it counts as approved in reports and targets: approved, and recognized or
    /// maintained on that approval (a withdrawn recognition no longer counts).
    pub fn counts_as_approved(self) -> bool {
        matches!(
            self,
            Status::Approved | Status::Recognized | Status::Maintained
        )
    }

    /// Whether the dossier rests on an approval (approved, recognized, maintained, or withdrawn
    /// after recognition): what was approved is a record, read at the approved heads and frozen.
    pub fn rests_on_an_approval(self) -> bool {
        matches!(
            self,
            Status::Approved | Status::Recognized | Status::Maintained | Status::Withdrawn
        )
    }

    /// Whether a stored status name counts as submitted ([`Status::counts_as_submitted`]).
    pub fn name_counts_as_submitted(name: &str) -> bool {
        Status::parse(name).is_some_and(Status::counts_as_submitted)
    }

    /// Whether a stored status name counts as approved ([`Status::counts_as_approved`]).
    pub fn name_counts_as_approved(name: &str) -> bool {
        Status::parse(name).is_some_and(Status::counts_as_approved)
    }
}

/// A decision reference (số quyết định, ngày).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecisionRef {
    /// Decision number, e.g. `1234/QĐ-UBND`.
    pub number: String,
    /// Date signed, `YYYY-MM-DD`.
    pub date: String,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The commune submits the dossier (nộp hồ sơ).
    Submit,
    /// The reviewer returns it for rework (trả lại).
    Return,
    /// The reviewer finished the on-site appraisal (thẩm định).
    Appraise,
    /// The reviewer approves exactly the document at `heads` (thông qua).
    Approve {
        /// Hex change hashes of the document as approved.
        heads: Vec<String>,
    },
    /// The province recognizes the commune (công nhận).
    Recognize {
        /// The recognition decision.
        decision: DecisionRef,
    },
    /// Recognition is maintained this round (duy trì).
    Maintain {
        /// The decision, if one was issued.
        decision: Option<DecisionRef>,
    },
    /// Recognition is withdrawn (thu hồi).
    Withdraw {
        /// The decision, if one was issued.
        decision: Option<DecisionRef>,
    },
    /// A reviewer reopens an approved dossier, with a reason (mở lại).
    Reopen,
    /// A reviewer has seen the station's changes made concurrently with its submission (ghi
    /// nhận thay đổi sau khi nộp).
    Acknowledge,
    /// An event kind this version does not know (written by a newer app); always ignored.
    Unknown {
        /// The stored kind.
        name: String,
    },
}

impl EventKind {
    /// The stored name of the kind.
    pub fn name(&self) -> &str {
        match self {
            EventKind::Submit => "submit",
            EventKind::Return => "return",
            EventKind::Appraise => "appraise",
            EventKind::Approve { .. } => "approve",
            EventKind::Recognize { .. } => "recognize",
            EventKind::Maintain { .. } => "maintain",
            EventKind::Withdraw { .. } => "withdraw",
            EventKind::Reopen => "reopen",
            EventKind::Acknowledge => "acknowledge",
            EventKind::Unknown { name } => name,
        }
    }
}

/// One workflow event as stored in an assessment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Stable id: the automerge id of the list element (`counter@actor`).
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// User id of the author.
    pub by: String,
    /// When, as the author's device saw it (unix milliseconds); shown, not used to order.
    pub at: i64,
    /// Comment (ý kiến).
    pub comment: String,
}

/// An event that did not apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// The event's id.
    pub event: String,
    /// Its kind's name.
    pub kind: String,
    /// The status it met.
    pub status: Status,
}

/// The approval in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Approval {
    /// The approve event's id.
    pub event: String,
    /// Who approved.
    pub by: String,
    /// When.
    pub at: i64,
    /// The heads approved.
    pub heads: Vec<String>,
}

/// A status reached by an event that applied (một lần chuyển trạng thái).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    /// The event's time as its author's device saw it (unix milliseconds).
    pub at: i64,
    /// The status it led to.
    pub status: Status,
}

/// The status as of `cutoff` (unix milliseconds) from the changes in document order: the status
/// reached by the longest run of changes, from the first, all dated at or before the cutoff
/// (draft if there is none). Stopping at the first later-dated change keeps the answer a status
/// the dossier really went through, even when a phone's clock was wrong: a change dated after the
/// cutoff is not counted, nor is anything that followed it.
pub fn status_at(history: &[StatusChange], cutoff: i64) -> Status {
    history
        .iter()
        .take_while(|change| change.at <= cutoff)
        .last()
        .map_or(Status::Draft, |change| change.status)
}

/// Everything derived from the events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorkflowState {
    /// Current status.
    pub status: Status,
    /// The approval in force, if any (kept after recognition, cleared when the province's
    /// re-check returns the dossier).
    pub approval: Option<Approval>,
    /// The recognition decision, if recognized.
    pub recognition: Option<DecisionRef>,
    /// Events that did not fit the status they met, in order.
    pub ignored: Vec<Ignored>,
    /// Every status change, in order: what reports of a past period read (see [`status_at`]).
    pub history: Vec<StatusChange>,
    /// The `submit` event in force (until a `return`), if any: the station side is frozen from
    /// it on.
    pub submission: Option<String>,
    /// Events after that submission by which a reviewer saw the dossier (`appraise`, `approve`,
    /// `reopen`, `acknowledge`): what the station changed concurrently with its submission and
    /// that one of these had seen is no longer "changed after submission".
    pub acknowledged: Vec<String>,
}

/// The status after `from` meets `kind`, or `None` if the event does not apply.
pub fn transition(from: Status, kind: &EventKind) -> Option<Status> {
    use Status::*;
    match (kind, from) {
        (EventKind::Submit, Draft | Returned) => Some(Submitted),
        (EventKind::Return, Submitted | Appraised | Approved) => Some(Returned),
        (EventKind::Appraise, Submitted) => Some(Appraised),
        (EventKind::Approve { .. }, Appraised) => Some(Approved),
        (EventKind::Recognize { .. }, Approved) => Some(Recognized),
        (EventKind::Maintain { .. }, Approved | Recognized) => Some(Maintained),
        (EventKind::Withdraw { .. }, Approved | Recognized | Maintained) => Some(Withdrawn),
        (EventKind::Reopen, Approved) => Some(Appraised),
        (EventKind::Acknowledge, Submitted | Appraised) => Some(from),
        _ => None,
    }
}

/// Folds the events, in document order, into the workflow state.
pub fn status(events: &[Event]) -> WorkflowState {
    let mut state = WorkflowState {
        status: Status::Draft,
        approval: None,
        recognition: None,
        ignored: Vec::new(),
        history: Vec::new(),
        submission: None,
        acknowledged: Vec::new(),
    };
    for event in events {
        let Some(next) = transition(state.status, &event.kind) else {
            state.ignored.push(Ignored {
                event: event.id.clone(),
                kind: event.kind.name().to_string(),
                status: state.status,
            });
            continue;
        };
        match &event.kind {
            EventKind::Approve { heads } => {
                state.approval = Some(Approval {
                    event: event.id.clone(),
                    by: event.by.clone(),
                    at: event.at,
                    heads: heads.clone(),
                });
            }
            EventKind::Return => {
                state.approval = None;
                state.submission = None;
                state.acknowledged.clear();
            }
            EventKind::Submit => {
                state.submission = Some(event.id.clone());
                state.acknowledged.clear();
            }
            EventKind::Recognize { decision } => state.recognition = Some(decision.clone()),
            EventKind::Reopen => state.approval = None,
            _ => {}
        }
        if matches!(
            event.kind,
            EventKind::Appraise
                | EventKind::Approve { .. }
                | EventKind::Reopen
                | EventKind::Acknowledge
        ) {
            state.acknowledged.push(event.id.clone());
        }
        if next != state.status {
            state.history.push(StatusChange {
                at: event.at,
                status: next,
            });
        }
        state.status = next;
    }
    state
}

#[cfg(test)]
mod tests {
    #[test]
    fn status_names_are_the_serialized_ones_and_read_back() {
        for status in super::Status::ALL {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.name())
            );
            assert_eq!(super::Status::parse(status.name()), Some(status));
        }
        assert_eq!(super::Status::parse("unknown"), None);
    }

    use super::*;

    fn event(id: &str, kind: EventKind) -> Event {
        Event {
            id: id.to_string(),
            kind,
            by: "u".to_string(),
            at: 0,
            comment: String::new(),
        }
    }

    #[test]
    fn reports_count_submitted_and_approved_from_the_workflow_alone() {
        let submitted: Vec<&str> = Status::ALL
            .into_iter()
            .filter(|s| s.counts_as_submitted())
            .map(Status::name)
            .collect();
        assert_eq!(
            submitted,
            [
                "submitted",
                "returned",
                "appraised",
                "approved",
                "recognized",
                "maintained",
                "withdrawn"
            ]
        );
        assert!(Status::name_counts_as_approved("maintained"));
        assert!(!Status::name_counts_as_approved("withdrawn"));
        assert!(!Status::name_counts_as_submitted("draft"));
        assert!(!Status::name_counts_as_submitted("unknown"));
    }

    #[test]
    fn a_new_assessment_is_a_draft() {
        assert_eq!(status(&[]).status, Status::Draft);
    }

    #[test]
    fn the_full_cycle_reaches_recognition() {
        let decision = DecisionRef {
            number: "12/QĐ-UBND".to_string(),
            date: "2025-12-01".to_string(),
        };
        let events = [
            event("1", EventKind::Submit),
            event("2", EventKind::Return),
            event("3", EventKind::Submit),
            event("4", EventKind::Appraise),
            event(
                "5",
                EventKind::Approve {
                    heads: vec!["ab".to_string()],
                },
            ),
            event(
                "6",
                EventKind::Recognize {
                    decision: decision.clone(),
                },
            ),
        ];
        let state = status(&events);
        assert_eq!(state.status, Status::Recognized);
        assert_eq!(state.recognition, Some(decision));
        assert_eq!(
            state.approval.map(|a| a.heads),
            Some(vec!["ab".to_string()])
        );
        assert!(state.ignored.is_empty());
    }

    #[test]
    fn events_that_do_not_fit_are_ignored_and_reported() {
        let events = [
            event("1", EventKind::Approve { heads: vec![] }),
            event("2", EventKind::Submit),
            event("3", EventKind::Submit),
            event(
                "4",
                EventKind::Unknown {
                    name: "escalate".to_string(),
                },
            ),
        ];
        let state = status(&events);
        assert_eq!(state.status, Status::Submitted);
        let ignored: Vec<(&str, &str, Status)> = state
            .ignored
            .iter()
            .map(|i| (i.event.as_str(), i.kind.as_str(), i.status))
            .collect();
        assert_eq!(
            ignored,
            [
                ("1", "approve", Status::Draft),
                ("3", "submit", Status::Submitted),
                ("4", "escalate", Status::Submitted)
            ]
        );
    }

    #[test]
    fn the_status_at_a_date_follows_the_dated_changes_in_order() {
        let at = |id: &str, kind: EventKind, at: i64| Event {
            at,
            ..event(id, kind)
        };
        let events = [
            at("1", EventKind::Submit, 100),
            at("2", EventKind::Submit, 150), // ignored: no change, no history
            at("3", EventKind::Appraise, 200),
            at("4", EventKind::Approve { heads: vec![] }, 300),
        ];
        let history = status(&events).history;
        assert_eq!(
            history,
            [
                StatusChange {
                    at: 100,
                    status: Status::Submitted
                },
                StatusChange {
                    at: 200,
                    status: Status::Appraised
                },
                StatusChange {
                    at: 300,
                    status: Status::Approved
                },
            ]
        );
        assert_eq!(status_at(&history, 99), Status::Draft);
        assert_eq!(status_at(&history, 100), Status::Submitted);
        assert_eq!(status_at(&history, 299), Status::Appraised);
        assert_eq!(status_at(&history, i64::MAX), Status::Approved);
        // A change dated later than one after it (a wrong clock) stops the count there.
        let skewed = [
            at("1", EventKind::Submit, 500),
            at("2", EventKind::Appraise, 200),
        ];
        let history = status(&skewed).history;
        assert_eq!(status_at(&history, 300), Status::Draft);
        assert_eq!(status_at(&history, 500), Status::Appraised);
    }

    #[test]
    fn a_return_clears_the_approval_in_force() {
        let events = [
            event("1", EventKind::Submit),
            event("2", EventKind::Appraise),
            event("3", EventKind::Approve { heads: vec![] }),
            event("4", EventKind::Return),
        ];
        let state = status(&events);
        assert_eq!(state.status, Status::Returned);
        assert_eq!(state.approval, None);
    }
}
