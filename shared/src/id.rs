//! Identifiers as newtypes, built only by [`parse`](ItemId::parse) or `TryFrom`.
//!
//! All ids share one alphabet so they are safe as automerge map keys, JSON keys, URL segments
//! and file names: 1 to 64 ASCII letters, digits or `. _ - : @`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("{what} `{value}` is longer than {MAX_LEN} characters")]
    TooLong { what: &'static str, value: String },
    #[error("{what} `{value}` has a character other than ASCII letters, digits and `. _ - : @`")]
    BadCharacter { what: &'static str, value: String },
}

/// The longest id accepted.
pub const MAX_LEN: usize = 64;

fn check(what: &'static str, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { what });
    }
    if value.len() > MAX_LEN {
        return Err(IdError::TooLong {
            what,
            value: value.to_string(),
        });
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '@');
    if !value.chars().all(allowed) {
        return Err(IdError::BadCharacter {
            what,
            value: value.to_string(),
        });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `value` and wraps it.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                check($what, value)?;
                Ok(Self(value.to_string()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(value: &str) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                check($what, &value)?;
                Ok(Self(value))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// Code of a criteria set (bộ tiêu chí), e.g. `QD1300-2023`.
    CatalogCode,
    "catalog code"
);
id_type!(
    /// Id of a criterion (tiêu chí, e.g. `TC2`) or an indicator (chỉ tiêu, e.g. `1.1`); unique
    /// within one catalog, so it names an assessment item.
    ItemId,
    "criterion or indicator id"
);
id_type!(
    /// Administrative code of a commune (mã xã, 5 digits since QĐ 19/2025/QĐ-TTg).
    CommuneCode,
    "commune code"
);
id_type!(
    /// Stable id of a person in a roster (chosen by the client that adds them, e.g. a UUID).
    PersonId,
    "person id"
);
id_type!(
    /// Stable id of a village (thôn, bản) or residential group (tổ dân phố).
    VillageId,
    "village id"
);
id_type!(
    /// Stable id of an evidence reference (minh chứng) within one assessment item.
    EvidenceId,
    "evidence id"
);
id_type!(
    /// Stable id of a training record within one person.
    TrainingId,
    "training id"
);
id_type!(
    /// Id of a user account, as the server knows it; written as `by` beside every value.
    UserId,
    "user id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_catalog_style_codes() {
        assert_eq!(ItemId::parse("1.1").unwrap().as_str(), "1.1");
        assert!(CatalogCode::parse("QD1300-2023").is_ok());
        assert!(UserId::parse("tram.thieuhoa@demo").is_ok());
    }

    #[test]
    fn ids_reject_empty_long_and_odd_characters() {
        assert_eq!(
            ItemId::parse(""),
            Err(IdError::Empty {
                what: "criterion or indicator id"
            })
        );
        assert!(matches!(
            PersonId::parse(&"x".repeat(65)),
            Err(IdError::TooLong { .. })
        ));
        assert!(matches!(
            VillageId::parse("thôn 1"),
            Err(IdError::BadCharacter { .. })
        ));
    }

    #[test]
    fn ids_deserialize_through_validation() {
        assert!(serde_json::from_str::<ItemId>("\"TC1\"").is_ok());
        assert!(serde_json::from_str::<ItemId>("\"a b\"").is_err());
    }
}
