//! A job's file as its reader reads it: the parts stored with the job (`db::imports`), fetched
//! a few ahead of the reader, so the worker holds a few MiB of the file at a time whatever its
//! size. The reader is synchronous; the job's loop tops the buffer up between rows.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::db::imports::{self as q, PART_BYTES};
use crate::domain::ids::TenantId;
use crate::error::ApiResult;

/// How much of the file is kept read ahead of the reader: more than any row is long.
const AHEAD: usize = 4 * PART_BYTES;

#[derive(Default)]
struct Buffered {
    parts: VecDeque<Vec<u8>>,
    /// Where the reader is in the first part.
    offset: usize,
    /// Bytes not read yet.
    len: usize,
    /// The last part is in.
    end: bool,
}

/// The parts fetched so far (the job's side).
pub(super) struct FileParts {
    tenant: TenantId,
    job: Uuid,
    next: i32,
    shared: Arc<Mutex<Buffered>>,
}

/// The reader's side.
pub(super) struct PartsReader(Arc<Mutex<Buffered>>);

impl FileParts {
    pub fn new(tenant: TenantId, job: Uuid) -> (FileParts, PartsReader) {
        let shared = Arc::new(Mutex::new(Buffered::default()));
        let reader = PartsReader(Arc::clone(&shared));
        let parts = FileParts {
            tenant,
            job,
            next: 0,
            shared,
        };
        (parts, reader)
    }

    /// Fetches parts until `AHEAD` bytes wait for the reader, or the last part is in. Whether
    /// the file is there at all (it is not once the job has ended).
    pub async fn top_up(&mut self, conn: &mut AsyncPgConnection) -> ApiResult<bool> {
        loop {
            let (len, end) = {
                let b = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
                (b.len, b.end)
            };
            if end || len >= AHEAD {
                return Ok(self.next > 0);
            }
            let part = q::file_part(conn, self.tenant, self.job, self.next).await?;
            let mut b = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            match part {
                Some(bytes) => {
                    b.len += bytes.len();
                    b.parts.push_back(bytes);
                    self.next += 1;
                }
                None => b.end = true,
            }
        }
    }
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut b = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let offset = b.offset;
            let Some(first) = b.parts.front() else {
                if b.end {
                    return Ok(0);
                }
                return Err(std::io::Error::other(format!(
                    "a row longer than {} MiB",
                    AHEAD / PART_BYTES
                )));
            };
            if offset >= first.len() {
                b.parts.pop_front();
                b.offset = 0;
                continue;
            }
            let n = buf.len().min(first.len() - offset);
            buf[..n].copy_from_slice(&first[offset..offset + n]);
            b.offset += n;
            b.len -= n;
            return Ok(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_reads_the_parts_in_order_and_ends_after_the_last() {
        let (parts, mut reader) = FileParts::new(TenantId::new(Uuid::nil()), Uuid::nil());
        {
            let mut b = parts.shared.lock().unwrap();
            b.parts.push_back(b"ab".to_vec());
            b.parts.push_back(Vec::new());
            b.parts.push_back(b"cde".to_vec());
            b.len = 5;
        }
        let mut out = [0u8; 4];
        assert_eq!(reader.read(&mut out).unwrap(), 2);
        assert_eq!(&out[..2], b"ab");
        assert_eq!(reader.read(&mut out).unwrap(), 3);
        assert_eq!(&out[..3], b"cde");
        // Nothing waits and the last part is not in: a row longer than the read-ahead.
        assert!(reader.read(&mut out).is_err());
        parts.shared.lock().unwrap().end = true;
        assert_eq!(reader.read(&mut out).unwrap(), 0);
    }
}
