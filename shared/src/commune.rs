//! What a commune is for the criteria: its zone (vùng 1/2/3) and its unit type (xã, phường, đặc
//! khu). Both decide which indicators apply.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a zone or unit type is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommuneError {
    #[error("zone {0} is not 1, 2 or 3")]
    BadZone(i64),
    #[error("unit type `{0}` is not one of xa, phuong, dac_khu")]
    BadUnitType(String),
}

/// Zone (vùng) of a commune, 1 to 3, set by the provincial health department by distance to the
/// nearest hospital and by terrain; stored per commune and round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct Zone(u8);

impl Zone {
    /// All zones, in order.
    pub const ALL: [Zone; 3] = [Zone(1), Zone(2), Zone(3)];

    /// A zone from its number.
    pub fn new(zone: i64) -> Result<Zone, CommuneError> {
        match zone {
            1..=3 => Ok(Zone(zone as u8)),
            _ => Err(CommuneError::BadZone(zone)),
        }
    }

    /// The zone's number, 1 to 3.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Zone {
    type Error = CommuneError;
    fn try_from(zone: i64) -> Result<Zone, CommuneError> {
        Zone::new(zone)
    }
}

impl From<Zone> for u8 {
    fn from(zone: Zone) -> u8 {
        zone.0
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Unit type of a commune-level unit (đơn vị hành chính cấp xã).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitType {
    /// Rural commune (xã).
    Xa,
    /// Urban ward (phường).
    Phuong,
    /// Special zone (đặc khu), e.g. an island district.
    DacKhu,
}

impl UnitType {
    /// All unit types, in order.
    pub const ALL: [UnitType; 3] = [UnitType::Xa, UnitType::Phuong, UnitType::DacKhu];

    /// The stored name: `xa`, `phuong` or `dac_khu`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitType::Xa => "xa",
            UnitType::Phuong => "phuong",
            UnitType::DacKhu => "dac_khu",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Result<UnitType, CommuneError> {
        UnitType::ALL
            .into_iter()
            .find(|u| u.as_str() == s)
            .ok_or_else(|| CommuneError::BadUnitType(s.to_string()))
    }
}

impl fmt::Display for UnitType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_one_to_three() {
        assert_eq!(Zone::new(2).map(Zone::get), Ok(2));
        assert_eq!(Zone::new(4), Err(CommuneError::BadZone(4)));
        assert!(serde_json::from_str::<Zone>("0").is_err());
    }

    #[test]
    fn unit_types_round_trip_through_their_names() {
        for unit in UnitType::ALL {
            assert_eq!(UnitType::parse(unit.as_str()), Ok(unit));
            let json = serde_json::to_string(&unit).unwrap();
            assert_eq!(json, format!("\"{}\"", unit.as_str()));
        }
        assert!(UnitType::parse("thi_tran").is_err());
    }
}
