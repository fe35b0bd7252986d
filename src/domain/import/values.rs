//! How the values of exported files read: dates and times as ISO 8601 and the exports' own
//! forms, amounts with thousands separators, people's names in two columns, lists in a cell.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::domain::money::Amount;
use crate::domain::validate::{Code, Format};

/// Date forms of exports besides ISO 8601 (`2026-11-30`): Excel and CRMs in China write
/// `2026/11/30` and `2026年11月30日`; US exports `11/30/2026`.
const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%m/%d/%Y",
];
const DATE_TIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
];

/// A date: ISO 8601 or an export's form; a date with a time reads as its date.
pub fn date(s: &str) -> Result<NaiveDate, Code> {
    let s = s.trim();
    for f in DATE_FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Ok(d);
        }
    }
    date_time(s)
        .map(|t| t.date_naive())
        .map_err(|_| Code::InvalidFormat(Format::Date))
}

/// A point in time: RFC 3339 (`2026-11-30T09:00:00.000Z`, `+0800`), or a date and time without
/// a zone (read as UTC), or a date alone (midnight UTC).
pub fn date_time(s: &str) -> Result<DateTime<Utc>, Code> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    for f in DATE_TIME_FORMATS {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    for f in DATE_FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Ok(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default()));
        }
    }
    Err(Code::InvalidFormat(Format::DateTime))
}

/// An amount as exports write it: `1,200,000.50`, `1200000.5`, `¥1,200,000`, `1 200 000`.
pub fn amount(s: &str) -> Result<Amount, Code> {
    let cleaned: String = s
        .trim()
        .trim_start_matches(['¥', '￥', '$', '€', '£'])
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '\u{a0}' | '_' | '\''))
        .collect();
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, "0"));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if digits(whole) && digits(fraction) {
        Ok(Amount::Decimal(cleaned))
    } else {
        Err(Code::InvalidFormat(Format::Amount))
    }
}

/// A whole number of minutes (`30`, `30.0`).
pub fn minutes(s: &str) -> Result<u32, Code> {
    let t = s.trim();
    let t = t.strip_suffix(".0").unwrap_or(t);
    t.parse::<u32>()
        .map_err(|_| Code::InvalidFormat(Format::Integer))
}

/// `true`/`false` as exports write them.
pub fn boolean(s: &str) -> Result<bool, Code> {
    match s.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" => Ok(true),
        "false" | "0" | "no" | "n" | "否" => Ok(false),
        _ => Err(Code::InvalidFormat(Format::Boolean)),
    }
}

/// A person's name from its parts: family name first without a space when either part is
/// Chinese, Japanese or Korean (`王` + `建国` → `王建国`), else `First Last`.
pub fn person_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [first, last].into_iter().flatten().collect();
    match (first, last) {
        (Some(f), Some(l)) if is_cjk(f) || is_cjk(l) => Some(format!("{l}{f}")),
        _ if parts.is_empty() => None,
        _ => Some(parts.join(" ")),
    }
}

fn is_cjk(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
    })
}

/// The items of a list in one cell: separated by `;` or `,` (HubSpot's associations, tags).
pub fn list(s: &str) -> Vec<String> {
    s.split([';', ','])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// A website from a company domain (`example.com` → `https://example.com`).
pub fn website_of_domain(domain: &str) -> String {
    let d = domain.trim();
    if d.starts_with("http://") || d.starts_with("https://") {
        d.to_string()
    } else {
        format!("https://{d}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_exports() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        for s in [
            "2026-11-30",
            "2026/11/30",
            "2026年11月30日",
            "11/30/2026",
            "2026-11-30T08:00:00.000Z",
            " 2026-11-30 10:00 ",
        ] {
            assert_eq!(date(s), Ok(d), "{s}");
        }
        assert_eq!(date("30 Nov"), Err(Code::InvalidFormat(Format::Date)));
    }

    #[test]
    fn times_of_exports() {
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 1, 30, 0).unwrap();
        for s in [
            "2026-11-30T01:30:00.000Z",
            "2026-11-30T09:30:00+08:00",
            "2026-11-30T09:30:00.000+0800",
            "2026-11-30 01:30",
            "11/30/2026 1:30 AM",
        ] {
            assert_eq!(date_time(s), Ok(t), "{s}");
        }
        assert_eq!(
            date_time("2026-11-30"),
            Ok(Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap())
        );
        assert!(date_time("soon").is_err());
    }

    #[test]
    fn amounts_of_exports() {
        let cny = crate::domain::money::Currency::parse("CNY").unwrap();
        for (s, minor) in [
            ("1,200,000.50", 120_000_050),
            ("¥1 200 000", 120_000_000),
            ("15", 1500),
        ] {
            assert_eq!(amount(s).unwrap().to_minor(&cny), Ok(minor), "{s}");
        }
        assert!(amount("twelve").is_err());
        assert!(amount("-5").is_err());
    }

    #[test]
    fn names_lists_and_flags() {
        assert_eq!(
            person_name(Some("建国"), Some("王")).as_deref(),
            Some("王建国")
        );
        assert_eq!(
            person_name(Some("Ada"), Some("Lovelace")).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(person_name(None, Some("Smith")).as_deref(), Some("Smith"));
        assert_eq!(person_name(None, None), None);
        assert_eq!(list("101; 102,103"), ["101", "102", "103"]);
        assert_eq!(boolean("是"), Ok(true));
        assert_eq!(minutes("30.0"), Ok(30));
        assert_eq!(website_of_domain("example.cn"), "https://example.cn");
    }
}
