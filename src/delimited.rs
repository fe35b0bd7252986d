//! Delimited text files as they come out of CRMs and Excel, in China and elsewhere (the import of
//! issue 21 reads them): UTF-8 with or without a BOM, UTF-16 with a BOM, or GB18030 (GBK is its
//! subset) — from the BOM, the `charset=` of the content type, or by whether the bytes are UTF-8;
//! comma, semicolon or tab, sniffed from the header line; quoted fields with newlines. Read as a
//! stream: the file is decoded and split record by record, never held whole.

use std::io::Read;

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};

/// How a file's bytes are text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    Utf16Le,
    Utf16Be,
    Gb18030,
}

impl Charset {
    fn encoding(self) -> &'static Encoding {
        match self {
            Charset::Utf8 => UTF_8,
            Charset::Utf16Le => UTF_16LE,
            Charset::Utf16Be => UTF_16BE,
            Charset::Gb18030 => GB18030,
        }
    }

    /// Its name (`charset=` of a content type).
    pub fn label(self) -> &'static str {
        self.encoding().name()
    }

    /// The charset a content type's `charset=` names, if it is one of these.
    pub fn from_label(label: &str) -> Option<Charset> {
        let e = Encoding::for_label(label.trim().trim_matches('"').as_bytes())?;
        if e == UTF_8 {
            Some(Charset::Utf8)
        } else if e == UTF_16LE {
            Some(Charset::Utf16Le)
        } else if e == UTF_16BE {
            Some(Charset::Utf16Be)
        } else if e == GB18030 || e == encoding_rs::GBK {
            Some(Charset::Gb18030)
        } else {
            None
        }
    }
}

/// The charset of a file from its first bytes: a BOM wins, then what the sender declared, then
/// UTF-8 when the bytes are UTF-8 (a character cut at the end of `head` allowed), else GB18030.
pub fn detect(head: &[u8], declared: Option<Charset>) -> Charset {
    match Encoding::for_bom(head) {
        Some((e, _)) if e == UTF_8 => return Charset::Utf8,
        Some((e, _)) if e == UTF_16LE => return Charset::Utf16Le,
        Some((e, _)) if e == UTF_16BE => return Charset::Utf16Be,
        _ => {}
    }
    if let Some(c) = declared {
        return c;
    }
    match std::str::from_utf8(head) {
        Ok(_) => Charset::Utf8,
        // Only a character cut short at the very end: still UTF-8.
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => Charset::Utf8,
        Err(_) => Charset::Gb18030,
    }
}

/// The delimiter of a header line: the most frequent of comma, semicolon and tab outside
/// quotes (comma when none is there).
pub fn sniff_delimiter(header_line: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in header_line.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if c == *d {
                    *n += 1;
                }
            }
        }
    }
    counts
        .iter()
        .max_by_key(|(d, n)| (*n, *d == b','))
        .map_or(b',', |(d, _)| *d)
}

/// A file being read: its charset, delimiter, header names and then its records.
pub struct DelimitedReader<'a> {
    pub charset: Charset,
    pub delimiter: u8,
    pub headers: Vec<String>,
    records: csv::StringRecordsIntoIter<Box<dyn Read + 'a>>,
}

/// Why a file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DelimitedError {
    #[error("the file is empty")]
    Empty,
    #[error("the file cannot be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("record {record}: {message}")]
    Record { record: u64, message: String },
}

impl<'a> DelimitedReader<'a> {
    /// Opens `source`, reading its first bytes to tell its charset and delimiter.
    pub fn open<R: Read + 'a>(
        mut source: R,
        declared: Option<Charset>,
    ) -> Result<Self, DelimitedError> {
        let mut head = vec![0u8; 64 * 1024];
        let mut filled = 0;
        while filled < head.len() {
            let n = source.read(&mut head[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        head.truncate(filled);
        if head.is_empty() {
            return Err(DelimitedError::Empty);
        }
        let charset = detect(&head, declared);
        let (text, _, _) = charset.encoding().decode(&head);
        let first_line = text.lines().next().unwrap_or_default();
        let delimiter = sniff_delimiter(first_line);
        let whole: Box<dyn Read + 'a> = Box::new(std::io::Cursor::new(head).chain(source));
        let decoded: Box<dyn Read + 'a> = Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(charset.encoding()))
                .bom_override(true)
                .build(whole),
        );
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(decoded);
        let headers = reader
            .headers()
            .map_err(|e| record_error(1, &e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        Ok(DelimitedReader {
            charset,
            delimiter,
            headers,
            records: reader.into_records(),
        })
    }
}

fn record_error(record: u64, e: &csv::Error) -> DelimitedError {
    DelimitedError::Record {
        record,
        message: e.to_string(),
    }
}

/// One record: its number among the data rows (the header is row 0) and its fields by header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub number: u64,
    pub fields: Vec<(String, String)>,
}

impl Row {
    /// The field under `header`, trimmed; `None` when absent or blank.
    pub fn get(&self, header: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(h, _)| h == header)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

impl Iterator for DelimitedReader<'_> {
    type Item = Result<Row, DelimitedError>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = self.records.next()?;
        let number = self.records.reader().position().record().saturating_sub(1);
        Some(match record {
            Ok(r) => Ok(Row {
                number,
                fields: self
                    .headers
                    .iter()
                    .cloned()
                    .zip(r.iter().map(str::to_string))
                    .collect(),
            }),
            Err(e) => Err(record_error(number, &e)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: Vec<u8>, declared: Option<Charset>) -> (Charset, u8, Vec<String>, Vec<Row>) {
        let r = DelimitedReader::open(std::io::Cursor::new(bytes), declared).unwrap();
        let (c, d, h) = (r.charset, r.delimiter, r.headers.clone());
        (c, d, h, r.map(Result::unwrap).collect())
    }

    #[test]
    fn utf8_with_a_bom_and_quoted_newlines() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend(
            "Id,Name,Description\n001,华东电力设计院,\"two\nlines, one field\"\n002,Acme,\n"
                .as_bytes(),
        );
        let (c, d, h, rows) = rows(bytes, None);
        assert_eq!((c, d), (Charset::Utf8, b','));
        assert_eq!(h, ["Id", "Name", "Description"]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get("Name"), Some("华东电力设计院"));
        assert_eq!(rows[0].get("Description"), Some("two\nlines, one field"));
        assert_eq!(rows[1].get("Description"), None);
        assert_eq!((rows[0].number, rows[1].number), (1, 2));
    }

    #[test]
    fn utf16_with_a_bom_and_tabs() {
        let text = "Record ID\tCompany name\n42\t纷享销客\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        let (c, d, _, rows) = rows(bytes, None);
        assert_eq!((c, d), (Charset::Utf16Le, b'\t'));
        assert_eq!(rows[0].get("Company name"), Some("纷享销客"));
    }

    #[test]
    fn gb18030_is_detected_or_declared_and_semicolons_sniffed() {
        let (bytes, _, _) = GB18030.encode("客户名称;城市\n华东电力设计院;上海\n");
        let (c, d, h, rows) = rows(bytes.to_vec(), None);
        assert_eq!((c, d), (Charset::Gb18030, b';'));
        assert_eq!(h, ["客户名称", "城市"]);
        assert_eq!(rows[0].get("城市"), Some("上海"));
        assert_eq!(Charset::from_label("GBK"), Some(Charset::Gb18030));
        assert_eq!(Charset::from_label("\"utf-8\""), Some(Charset::Utf8));
        assert_eq!(Charset::from_label("latin1"), None);
    }

    #[test]
    fn a_character_cut_at_the_end_of_the_head_is_still_utf8() {
        let s = "名称".as_bytes();
        assert_eq!(detect(&s[..4], None), Charset::Utf8);
        assert_eq!(detect(b"\xC4\xE3\xBA\xC3", None), Charset::Gb18030);
        assert_eq!(detect(b"plain", Some(Charset::Gb18030)), Charset::Gb18030);
    }

    #[test]
    fn delimiters_outside_quotes_count() {
        assert_eq!(sniff_delimiter("\"a;b;c\",d,e"), b',');
        assert_eq!(sniff_delimiter("a;b;c"), b';');
        assert_eq!(sniff_delimiter("single"), b',');
        assert!(matches!(
            DelimitedReader::open(std::io::Cursor::new(Vec::new()), None),
            Err(DelimitedError::Empty)
        ));
    }
}
