//! Keyset pagination: `limit` (1..=200, default 50) and an opaque `cursor`.

use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::validate::{Code, Format, In, Violation};
use crate::error::ApiError;
use crate::service::Keyset;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;
const CURSOR_VERSION: u8 = 1;

/// A key a cursor can carry: the id (or number) of the last row of the previous page.
pub trait CursorKey: Sized + Copy {
    const TAG: u8;
    fn to_bytes(&self) -> Vec<u8>;
    fn from_bytes(b: &[u8]) -> Option<Self>;
}

impl CursorKey for Uuid {
    const TAG: u8 = CURSOR_VERSION;
    fn to_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Uuid::from_slice(b).ok()
    }
}

impl CursorKey for i64 {
    const TAG: u8 = CURSOR_VERSION + 1;
    fn to_bytes(&self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(i64::from_be_bytes(b.try_into().ok()?))
    }
}

/// Lists ordered by a time and the id (newest first): the time travels as microseconds.
impl CursorKey for (DateTime<Utc>, Uuid) {
    const TAG: u8 = CURSOR_VERSION + 2;
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.0.timestamp_micros().to_be_bytes().to_vec();
        v.extend_from_slice(self.1.as_bytes());
        v
    }
    fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() != 24 {
            return None;
        }
        let micros = i64::from_be_bytes(b[..8].try_into().ok()?);
        Some((
            DateTime::<Utc>::from_timestamp_micros(micros)?,
            Uuid::from_slice(&b[8..]).ok()?,
        ))
    }
}

/// The `(updated_at, id)` key of a sync page (`updated_since`): a tag of its own, so a cursor
/// of a list's own order is refused there and vice versa.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedKey(pub DateTime<Utc>, pub Uuid);

impl CursorKey for ChangedKey {
    const TAG: u8 = CURSOR_VERSION + 4;
    fn to_bytes(&self) -> Vec<u8> {
        (self.0, self.1).to_bytes()
    }
    fn from_bytes(b: &[u8]) -> Option<Self> {
        let (t, id) = <(DateTime<Utc>, Uuid)>::from_bytes(b)?;
        Some(ChangedKey(t, id))
    }
}

/// Paging of lists that have no other filter but can be synced.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SyncPageQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// Sync: only rows changed at or after this time (RFC 3339), archived ones included, in
    /// `(updated_at, id)` order.
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (of the same order).
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

/// Positions in the event log: `(txid, seq)`.
impl CursorKey for (i64, i64) {
    const TAG: u8 = CURSOR_VERSION + 3;
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.0.to_be_bytes().to_vec();
        v.extend_from_slice(&self.1.to_be_bytes());
        v
    }
    fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() != 16 {
            return None;
        }
        Some((
            i64::from_be_bytes(b[..8].try_into().ok()?),
            i64::from_be_bytes(b[8..].try_into().ok()?),
        ))
    }
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<K> {
    pub after: Option<K>,
    pub limit: u32,
}

/// Paging of lists that have no other filter.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

/// Pages keyed by time-ordered UUIDs.
pub type PageRequest = Page<Uuid>;

impl<K: CursorKey> Page<K> {
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Page<K>, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::Validation(vec![Violation::at(
                In::Query,
                "limit",
                Code::range(1, i64::from(MAX_LIMIT)),
            )]));
        }
        let after = match cursor {
            None | Some("") => None,
            Some(c) => Some(decode_cursor::<K>(c).ok_or_else(|| {
                // Of the documented form, so well-formed: refused, not malformed.
                ApiError::Validation(vec![Violation::at(
                    In::Query,
                    "cursor",
                    Code::InvalidFormat(Format::Cursor),
                )])
            })?),
        };
        Ok(Page { after, limit })
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Trims the extra row and returns the cursor of the next page, if any.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> K) -> (Vec<T>, Option<String>) {
        if rows.len() > self.limit as usize {
            rows.truncate(self.limit as usize);
            let next = rows.last().map(|r| encode_cursor(key(r)));
            (rows, next)
        } else {
            (rows, None)
        }
    }
}

/// A page of a list that a sync client can also read by `updated_since`: then the order is
/// `(updated_at, id)`, archived rows are included, and the cursor is of that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPage<K> {
    Natural(Page<K>),
    Changed {
        since: DateTime<Utc>,
        page: Page<ChangedKey>,
    },
}

impl<K: CursorKey> SyncPage<K> {
    pub fn parse(
        limit: Option<u32>,
        cursor: Option<&str>,
        updated_since: Option<DateTime<Utc>>,
    ) -> Result<SyncPage<K>, ApiError> {
        Ok(match updated_since {
            None => SyncPage::Natural(Page::parse(limit, cursor)?),
            Some(since) => SyncPage::Changed {
                since,
                page: Page::parse(limit, cursor)?,
            },
        })
    }

    /// Where the query starts.
    pub fn keyset(&self) -> Keyset<K> {
        match self {
            SyncPage::Natural(p) => Keyset::After(p.after),
            SyncPage::Changed { since, page } => Keyset::Changed {
                since: *since,
                after: page.after.map(|k| (k.0, k.1)),
            },
        }
    }

    pub fn fetch(&self) -> i64 {
        match self {
            SyncPage::Natural(p) => p.fetch(),
            SyncPage::Changed { page, .. } => page.fetch(),
        }
    }

    /// Trims the extra row and gives the next cursor, keyed by the order in use.
    pub fn finish<T>(
        &self,
        rows: Vec<T>,
        natural: impl Fn(&T) -> K,
        changed: impl Fn(&T) -> (DateTime<Utc>, Uuid),
    ) -> (Vec<T>, Option<String>) {
        match self {
            SyncPage::Natural(p) => p.finish(rows, natural),
            SyncPage::Changed { page, .. } => page.finish(rows, |r| {
                let (t, id) = changed(r);
                ChangedKey(t, id)
            }),
        }
    }
}

pub fn encode_cursor<K: CursorKey>(after: K) -> String {
    let mut bytes = vec![K::TAG];
    bytes.extend_from_slice(&after.to_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode_cursor<K: CursorKey>(s: &str) -> Option<K> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()?;
    match bytes.split_first() {
        Some((tag, rest)) if *tag == K::TAG => K::from_bytes(rest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_garbage() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor::<Uuid>(&encode_cursor(id)), Some(id));
        assert_eq!(decode_cursor::<i64>(&encode_cursor(42i64)), Some(42));
        assert_eq!(
            decode_cursor::<i64>(&encode_cursor(id)),
            None,
            "keys do not mix"
        );
        assert_eq!(decode_cursor::<Uuid>("not-a-cursor"), None);
        assert_eq!(decode_cursor::<Uuid>(""), None);
        assert!(PageRequest::parse(None, Some("zzz")).is_err());
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(201), None).is_err());
        assert_eq!(PageRequest::parse(Some(200), None).unwrap().limit, 200);
    }

    #[test]
    fn finish_trims_and_points_at_last_row() {
        let p = PageRequest::parse(Some(2), None).unwrap();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let (page, next) = p.finish(ids.clone(), |u| *u);
        assert_eq!(page, ids[..2]);
        assert_eq!(decode_cursor::<Uuid>(&next.unwrap()), Some(ids[1]));
        let (page, next) = p.finish(ids[..2].to_vec(), |u| *u);
        assert_eq!(page.len(), 2);
        assert!(next.is_none());
    }
}
