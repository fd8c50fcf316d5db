//! Points (điểm): exact decimals in steps of 0.5, kept as a count of half points.
//!
//! Scores, maxima and thresholds are all `Points`, so sums and comparisons are exact integer
//! arithmetic: 90.5 is 181 halves, never a float that prints as 90.49999.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Points (điểm), in steps of 0.5, from 0 to [`Points::LIMIT`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(u32);

/// Why a value is not a valid number of points.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointsError {
    #[error("`{0}` is not a number")]
    NotANumber(String),
    #[error("{0} is negative")]
    Negative(String),
    #[error("{0} is not a multiple of 0.5")]
    NotHalfStep(String),
    #[error("{0} is more than {limit}", limit = Points::LIMIT)]
    TooLarge(String),
}

impl Points {
    /// No points.
    pub const ZERO: Points = Points(0);
    /// The largest value accepted anywhere (a catalog's total is 100; this leaves room for
    /// local catalogs while keeping `halves * 100` far from overflow).
    pub const LIMIT: Points = Points(20_000);

    /// Points from a count of half points (`181` is 90.5).
    pub const fn from_halves(halves: u32) -> Points {
        Points(halves)
    }

    /// Whole points (`whole(14)` is 14).
    pub const fn whole(points: u32) -> Points {
        Points(points.saturating_mul(2))
    }

    /// The count of half points.
    pub const fn halves(self) -> u32 {
        self.0
    }

    /// The value as a float, for display and charts only.
    pub fn to_f64(self) -> f64 {
        f64::from(self.0) / 2.0
    }

    /// Points from a float that must be a non-negative multiple of 0.5 (as read from JSON or a
    /// document).
    pub fn from_f64(value: f64) -> Result<Points, PointsError> {
        let shown = || format!("{value}");
        if !value.is_finite() {
            return Err(PointsError::NotANumber(shown()));
        }
        if value < 0.0 {
            return Err(PointsError::Negative(shown()));
        }
        let doubled = value * 2.0;
        if doubled.fract() != 0.0 {
            return Err(PointsError::NotHalfStep(shown()));
        }
        if doubled > f64::from(Points::LIMIT.0) {
            return Err(PointsError::TooLarge(shown()));
        }
        // In range and integral, so the conversion is exact.
        Ok(Points(doubled as u32))
    }

    /// Sum that stops at `u32::MAX` halves instead of overflowing.
    pub const fn saturating_add(self, other: Points) -> Points {
        Points(self.0.saturating_add(other.0))
    }

    /// Difference that stops at zero.
    pub const fn saturating_sub(self, other: Points) -> Points {
        Points(self.0.saturating_sub(other.0))
    }

    /// The smallest number of points (in steps of 0.5) that is at least `percent`% of `self`.
    ///
    /// Because scores move in half points, "score ≥ percent% of max" is exactly
    /// "score ≥ `max.share_ceil(percent)`": 80% of 14 is 11.2, so 11.5 is needed.
    pub fn share_ceil(self, percent: u32) -> Points {
        let needed = (u64::from(self.0) * u64::from(percent)).div_ceil(100);
        Points(u32::try_from(needed).unwrap_or(u32::MAX))
    }
}

impl std::iter::Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        iter.fold(Points::ZERO, Points::saturating_add)
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(2) {
            write!(f, "{}", self.0 / 2)
        } else {
            write!(f, "{}.5", self.0 / 2)
        }
    }
}

impl FromStr for Points {
    type Err = PointsError;

    /// Parses `"90"`, `"90.5"`, `"90,5"` (Vietnamese decimal comma) and `"90.50"`, exactly.
    fn from_str(s: &str) -> Result<Points, PointsError> {
        let text = s.trim();
        let bad = || PointsError::NotANumber(s.to_string());
        if text.starts_with('-') {
            return Err(PointsError::Negative(text.to_string()));
        }
        let (whole, fraction) = match text.split_once(['.', ',']) {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let fraction = fraction.trim_end_matches('0');
        let half = match fraction {
            "" => 0,
            "5" => 1,
            _ => return Err(PointsError::NotHalfStep(text.to_string())),
        };
        let whole: u32 = whole
            .parse()
            .map_err(|_| PointsError::TooLarge(text.to_string()))?;
        let halves = whole
            .checked_mul(2)
            .and_then(|h| h.checked_add(half))
            .filter(|h| *h <= Points::LIMIT.0)
            .ok_or_else(|| PointsError::TooLarge(text.to_string()))?;
        Ok(Points(halves))
    }
}

impl Serialize for Points {
    /// A JSON number: `14` when whole, `4.5` otherwise.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(2) {
            serializer.serialize_u32(self.0 / 2)
        } else {
            serializer.serialize_f64(self.to_f64())
        }
    }
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Points, D::Error> {
        struct PointsVisitor;
        impl Visitor<'_> for PointsVisitor {
            type Value = Points;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative number in steps of 0.5")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Points, E> {
                u32::try_from(v)
                    .ok()
                    .and_then(|v| v.checked_mul(2))
                    .filter(|h| *h <= Points::LIMIT.0)
                    .map(Points)
                    .ok_or_else(|| E::custom(PointsError::TooLarge(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Points, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(PointsError::Negative(v.to_string()))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Points, E> {
                Points::from_f64(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(PointsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_half_points_with_a_point_five() {
        assert_eq!(Points::from_halves(181).to_string(), "90.5");
        assert_eq!(Points::whole(14).to_string(), "14");
        assert_eq!(Points::ZERO.to_string(), "0");
    }

    #[test]
    fn parses_exactly_and_accepts_a_decimal_comma() {
        assert_eq!("90.5".parse(), Ok(Points::from_halves(181)));
        assert_eq!("90,50".parse(), Ok(Points::from_halves(181)));
        assert_eq!(" 7 ".parse(), Ok(Points::whole(7)));
        assert!(matches!(
            "7.3".parse::<Points>(),
            Err(PointsError::NotHalfStep(_))
        ));
        assert!(matches!(
            "-1".parse::<Points>(),
            Err(PointsError::Negative(_))
        ));
        assert!(matches!(
            "".parse::<Points>(),
            Err(PointsError::NotANumber(_))
        ));
        assert!(matches!(
            ".5".parse::<Points>(),
            Err(PointsError::NotANumber(_))
        ));
        assert!(matches!(
            "99999999999".parse::<Points>(),
            Err(PointsError::TooLarge(_))
        ));
    }

    #[test]
    fn floats_must_be_half_steps() {
        assert_eq!(Points::from_f64(4.5), Ok(Points::from_halves(9)));
        assert!(Points::from_f64(4.25).is_err());
        assert!(Points::from_f64(f64::NAN).is_err());
        assert!(Points::from_f64(-0.5).is_err());
    }

    #[test]
    fn share_ceil_rounds_up_to_the_next_half_point() {
        assert_eq!(Points::whole(14).share_ceil(80), Points::from_halves(23)); // 11.2 → 11.5
        assert_eq!(Points::whole(9).share_ceil(50), Points::from_halves(9)); // 4.5
        assert_eq!(Points::whole(100).share_ceil(80), Points::whole(80));
    }

    #[test]
    fn serde_writes_whole_points_as_integers() {
        let json = serde_json::to_string(&[Points::whole(14), Points::from_halves(9)]).unwrap();
        assert_eq!(json, "[14,4.5]");
        let back: Vec<Points> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, [Points::whole(14), Points::from_halves(9)]);
        assert!(serde_json::from_str::<Points>("4.2").is_err());
        assert!(serde_json::from_str::<Points>("-1").is_err());
    }
}
