//! Calendar dates in Vietnam time (UTC+7, no daylight saving) and unix milliseconds, without a
//! date library: reports end periods at midnight in Vietnam, and the demo dates its events.

/// Milliseconds in a day.
const DAY: i64 = 86_400_000;
/// Vietnam's offset from UTC in milliseconds.
const VIETNAM_OFFSET: i64 = 7 * 3_600_000;

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Unix milliseconds of midnight at the start of a day in Vietnam.
pub fn vietnam_midnight(year: i64, month: i64, day: i64) -> i64 {
    days_from_civil(year, month, day) * DAY - VIETNAM_OFFSET
}

/// Unix milliseconds of `YYYY-MM-DD` at `hour`:00 in Vietnam, or `None` if it is not a date.
pub fn vietnam_millis(date: &str, hour: i64) -> Option<i64> {
    let mut parts = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (parts.next()??, parts.next()??, parts.next()??);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || vietnam_date(vietnam_midnight(year, month, day)) != date
    {
        return None;
    }
    Some(vietnam_midnight(year, month, day) + hour * 3_600_000)
}

/// The date (`YYYY-MM-DD`) of unix milliseconds in Vietnam.
pub fn vietnam_date(millis: i64) -> String {
    civil_date(millis.saturating_add(VIETNAM_OFFSET).div_euclid(DAY))
}

/// The date (`YYYY-MM-DD`) `days` after 1970-01-01: the inverse of [`days_from_civil`].
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_vietnam_round_trip() {
        // 2024-07-01T00:00:00+07:00 is 2024-06-30T17:00:00Z.
        assert_eq!(vietnam_midnight(2024, 7, 1), 1_719_766_800_000);
        assert_eq!(vietnam_date(1_719_766_800_000 - 1), "2024-06-30");
        assert_eq!(vietnam_date(1_719_766_800_000), "2024-07-01");
        assert_eq!(vietnam_date(0), "1970-01-01");
        assert_eq!(vietnam_date(951_782_400_000), "2000-02-29");
        assert_eq!(
            vietnam_millis("2024-06-30", 9),
            Some(1_719_766_800_000 - 15 * 3_600_000)
        );
        for day in 0..800 {
            let millis = vietnam_midnight(2023, 1, 1) + day * DAY;
            assert_eq!(vietnam_millis(&vietnam_date(millis), 0), Some(millis));
        }
        for bad in ["", "2024-02-30", "2024-13-01", "2024-6", "x-1-1"] {
            assert_eq!(vietnam_millis(bad, 0), None, "{bad}");
        }
    }
}
