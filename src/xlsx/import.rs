//! Reading the survey form back; every problem names its sheet, row and column.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use super::*;
use crate::domain::validate::Violation;
use crate::domain::validate::{Code, Format};

pub(super) fn col_letter(c: u32) -> String {
    let mut n = c + 1;
    let mut s = String::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.insert(0, (b'A' + r as u8) as char);
        n = (n - 1) / 26;
    }
    s
}

/// `sheet!B7` for 0-based row and column.
pub fn cell_ref(sheet: &str, row: u32, col: u32) -> String {
    format!("{sheet}!{}{}", col_letter(col), row + 1)
}

fn problem(sheet: &str, row: u32, col: u32, code: Code) -> Violation {
    Violation::new(cell_ref(sheet, row, col), code)
}

fn cell_text(d: &Data) -> Option<String> {
    let s = match d {
        Data::Empty => return None,
        Data::String(s) => s.trim().to_string(),
        Data::Float(x) => {
            if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", *x as i64)
            } else {
                x.to_string()
            }
        }
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(dt) => dt.to_string(),
        Data::Error(e) => format!("#{e:?}"),
    };
    (!s.is_empty()).then_some(s)
}

/// Parses one cell; `Ok(None)` for an empty cell.
fn parse_cell(d: &Data, fd: &Field) -> Result<Option<Value>, Code> {
    if let Data::Error(_) = d {
        return Err(Code::InvalidFormat(Format::Pattern));
    }
    let Some(text) = cell_text(d) else {
        return Ok(None);
    };
    let number = || -> Result<f64, Code> {
        match d {
            Data::Float(x) => Ok(*x),
            Data::Int(i) => Ok(*i as f64),
            _ => text
                .replace(',', "")
                .parse::<f64>()
                .map_err(|_| Code::InvalidFormat(Format::Number)),
        }
    };
    Ok(Some(match fd.ty {
        Ty::Text => Value::String(text),
        Ty::List => Value::Array(
            text.split([',', ',', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
        Ty::Count | Ty::Year => {
            let x = number()?;
            if x.fract() != 0.0 || !x.is_finite() {
                return Err(Code::InvalidFormat(Format::Integer));
            }
            if fd.ty == Ty::Count && x < 0.0 {
                return Err(Code::OutOfRange {
                    min: Some(0),
                    max: None,
                });
            }
            json!(x as i64)
        }
        Ty::Number => json!(number()?),
        Ty::Money => {
            let t = match d {
                Data::Float(x) => format!("{x}"),
                _ => text.replace([',', ' '], ""),
            };
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return Err(Code::InvalidFormat(Format::Amount));
            }
            Value::String(t)
        }
        Ty::Date => {
            let not_a_date = Code::InvalidFormat(Format::Date);
            let date = match d {
                Data::DateTime(dt) => excel_serial_date(dt.as_f64()).ok_or(not_a_date)?,
                Data::Float(x) => excel_serial_date(*x).ok_or(not_a_date)?,
                _ => NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .or_else(|_| NaiveDate::parse_from_str(&text, "%Y/%m/%d"))
                    .map_err(|_| not_a_date)?,
            };
            Value::String(date.format("%Y-%m-%d").to_string())
        }
        Ty::Enum(allowed) => {
            let code = text.to_lowercase();
            if !allowed.contains(&code.as_str()) {
                let allowed = allowed.iter().map(|a| a.to_string()).collect();
                return Err(Code::UnknownValue { allowed });
            }
            Value::String(code)
        }
    }))
}

fn excel_serial_date(x: f64) -> Option<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_signed(chrono::Duration::days(x.floor() as i64))
}

type Book = Xlsx<Cursor<Vec<u8>>>;
type Sheet = calamine::Range<calamine::Data>;

/// Reads a workbook in the form's layout into the JSON of a survey input. Every problem names
/// its sheet, row and column.
pub fn import(bytes: &[u8]) -> Result<Value, Vec<Violation>> {
    let mut wb: Book = Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|e| {
        log::debug!("not a readable .xlsx workbook: {e}");
        vec![Violation::new("", Code::InvalidFormat(Format::Xlsx))]
    })?;
    check_sheets(&wb.sheet_names())?;
    let mut errors = Vec::new();
    let mut record = read_record(&mut wb, OVERVIEW, OVERVIEW_FIELDS, &mut errors);
    let mut sections = Map::new();
    for sheet in SHEETS {
        let value = match &sheet.layout {
            Layout::Record(fields) => {
                let obj = read_record(&mut wb, sheet.code, fields, &mut errors);
                (!obj.is_empty()).then_some(Value::Object(obj))
            }
            Layout::Table(fields) => {
                let items = read_table(&mut wb, sheet.code, fields, &mut errors);
                (!items.is_empty()).then_some(Value::Array(items))
            }
        };
        if let Some(v) = value {
            sections.insert(sheet.code.to_string(), v);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    record.insert("sections".to_string(), Value::Object(sections));
    Ok(Value::Object(record))
}

/// The workbook has the form's sheets and no others.
fn check_sheets(names: &[String]) -> Result<(), Vec<Violation>> {
    let mut errors = Vec::new();
    let mut expected: Vec<&str> = vec![OVERVIEW];
    expected.extend(SHEETS.iter().map(|s| s.code));
    for name in &expected {
        if !names.iter().any(|n| n == name) {
            errors.push(Violation::new(format!("{name}!A1"), Code::Required));
        }
    }
    for n in names {
        if !expected.contains(&n.as_str()) {
            errors.push(Violation::new(format!("{n}!A1"), Code::UnknownField));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The sheet's cells; a sheet that cannot be read is a problem at its A1.
fn range_of(wb: &mut Book, sheet: &str, errors: &mut Vec<Violation>, what: &str) -> Option<Sheet> {
    match wb.worksheet_range(sheet) {
        Ok(r) => Some(r),
        Err(e) => {
            log::debug!("{what} {sheet} cannot be read: {e}");
            errors.push(Violation::new(
                format!("{sheet}!A1"),
                Code::InvalidFormat(Format::Xlsx),
            ));
            None
        }
    }
}

/// The overview and record-shaped sheets: label in A, value in B.
fn read_record(
    wb: &mut Book,
    sheet: &str,
    fields: &[Field],
    errors: &mut Vec<Violation>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(range) = range_of(wb, sheet, errors, &format!("sheet {sheet}")) else {
        return out;
    };
    for (i, fd) in fields.iter().enumerate() {
        let row = FIRST_DATA_ROW + i as u32;
        let got = range
            .get_value((row, 0))
            .and_then(cell_text)
            .unwrap_or_default();
        if got != label(fd) {
            let allowed = vec![label(fd)];
            errors.push(problem(sheet, row, 0, Code::UnknownValue { allowed }));
            continue;
        }
        if let Some(d) = range.get_value((row, 1)) {
            match parse_cell(d, fd) {
                Ok(Some(v)) => {
                    out.insert(fd.key.to_string(), v);
                }
                Ok(None) => {}
                Err(code) => errors.push(problem(sheet, row, 1, code)),
            }
        }
    }
    out
}

/// A table sheet: headers in `HEADER_ROW`, one item a row from `FIRST_DATA_ROW`; blank rows
/// are skipped.
fn read_table(
    wb: &mut Book,
    sheet: &str,
    fields: &[Field],
    errors: &mut Vec<Violation>,
) -> Vec<Value> {
    let Some(range) = range_of(wb, sheet, errors, "sheet") else {
        return Vec::new();
    };
    if !headers_match(&range, sheet, fields, errors) {
        return Vec::new();
    }
    let last = range.end().map_or(0, |(r, _)| r);
    if last >= FIRST_DATA_ROW + MAX_ROWS {
        let max = u64::from(MAX_ROWS);
        errors.push(problem(sheet, last, 0, Code::TooMany { max }));
        return Vec::new();
    }
    (FIRST_DATA_ROW..=last.max(FIRST_DATA_ROW))
        .filter_map(|row| read_row(&range, sheet, row, fields, errors))
        .collect()
}

fn headers_match(
    range: &Sheet,
    sheet: &str,
    fields: &[Field],
    errors: &mut Vec<Violation>,
) -> bool {
    let mut ok = true;
    for (c, fd) in fields.iter().enumerate() {
        let got = range
            .get_value((HEADER_ROW, c as u32))
            .and_then(cell_text)
            .unwrap_or_default();
        if got != label(fd) {
            let allowed = vec![label(fd)];
            errors.push(problem(
                sheet,
                HEADER_ROW,
                c as u32,
                Code::UnknownValue { allowed },
            ));
            ok = false;
        }
    }
    ok
}

/// One item of a table sheet; `None` for a blank row.
fn read_row(
    range: &Sheet,
    sheet: &str,
    row: u32,
    fields: &[Field],
    errors: &mut Vec<Violation>,
) -> Option<Value> {
    let mut obj = Map::new();
    let mut bad: Vec<&str> = Vec::new();
    for (c, fd) in fields.iter().enumerate() {
        if let Some(d) = range.get_value((row, c as u32)) {
            match parse_cell(d, fd) {
                Ok(Some(v)) => {
                    obj.insert(fd.key.to_string(), v);
                }
                Ok(None) => {}
                Err(code) => {
                    bad.push(fd.key);
                    errors.push(problem(sheet, row, c as u32, code));
                }
            }
        }
    }
    if obj.is_empty() && bad.is_empty() {
        return None;
    }
    for (c, fd) in fields.iter().enumerate() {
        if required(sheet, fd.key) && !obj.contains_key(fd.key) && !bad.contains(&fd.key) {
            errors.push(problem(sheet, row, c as u32, Code::Required));
        }
    }
    Some(Value::Object(obj))
}

/// The columns an item of the sheet cannot do without.
fn required(sheet: &str, key: &str) -> bool {
    matches!(
        (sheet, key),
        ("inventory", "category" | "brand" | "quantity")
            | (
                "applications" | "business_platforms" | "third_parties",
                "name"
            )
            | ("third_parties", "kind")
            | ("security_measures", "area" | "measure")
            | ("problems" | "requirements_goals", "description")
    )
}

/// Maps a validation error of the imported record (`sections.inventory[2].brand`) back to the
/// cell it came from.
pub fn locate(field: &str) -> Option<String> {
    let rest = field.strip_prefix("sections.")?;
    let (section, tail) = match rest.split_once(['[', '.']) {
        Some((s, _)) => (s, &rest[s.len()..]),
        None => (rest, ""),
    };
    let sheet = SHEETS.iter().find(|s| s.code == section)?;
    match &sheet.layout {
        Layout::Table(fields) => {
            let idx_end = tail.find(']')?;
            let idx: u32 = tail.get(1..idx_end)?.parse().ok()?;
            let key = tail.get(idx_end + 1..)?.trim_start_matches('.');
            let key = key.split(['.', '[']).next().unwrap_or_default();
            let col = fields.iter().position(|f| f.key == key).unwrap_or(0) as u32;
            Some(cell_ref(sheet.code, FIRST_DATA_ROW + idx, col))
        }
        Layout::Record(fields) => {
            let key = tail.trim_start_matches('.');
            let key = key.split(['.', '[']).next().unwrap_or_default();
            let row = fields.iter().position(|f| f.key == key).unwrap_or(0) as u32;
            Some(cell_ref(sheet.code, FIRST_DATA_ROW + row, 1))
        }
    }
}

/// Maps an overview field (`surveyed_at`, `respondents[1]`) to its cell.
pub fn locate_overview(field: &str) -> Option<String> {
    let key = field.split(['.', '[']).next()?;
    let row = OVERVIEW_FIELDS.iter().position(|f| f.key == key)? as u32;
    Some(cell_ref(OVERVIEW, FIRST_DATA_ROW + row, 1))
}
