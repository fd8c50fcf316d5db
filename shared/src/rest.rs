//! Bodies of REST answers that the server writes and the web app reads, defined once here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Documents of one kind a round opening needed: created now, or there already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounts {
    pub created: usize,
    pub existing: usize,
}

/// What `POST /api/rounds` did, by kind (the totals stay for older clients).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedCounts {
    /// Documents created now, assessments and rosters together.
    pub created: usize,
    /// Documents that were there already, assessments and rosters together.
    pub existing: usize,
    /// The round's assessments.
    #[serde(default)]
    pub assessments: KindCounts,
    /// The communes' rosters (created only for communes without one).
    #[serde(default)]
    pub rosters: KindCounts,
}

/// The most user ids one `GET /api/names` resolves.
pub const MAX_NAMES: usize = 200;

/// The answer to `GET /api/names?ids=a,b`: the display name of each id that names a user
/// (ids of nobody are left out, so the app shows them as they are).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    pub names: BTreeMap<String, String>,
}
