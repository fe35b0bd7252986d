//! The survey form as an Excel workbook (客户现状调查表): export, blank template and import.
//!
//! One sheet per section (named by the section code), bilingual headers, the account and the
//! survey date on top of every sheet. Import reads the same layout back and names the sheet,
//! row and column (A1 notation, e.g. `inventory!D5`) of every problem.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, NaiveDate, Utc};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde_json::{json, Map, Value};

use crate::domain::survey::{BudgetStatus, InventoryCategory, Level, ThirdPartyKind};
use crate::domain::validate::Violation;

/// The kind of a cell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    /// A whole number >= 0.
    Count,
    /// A year.
    Year,
    Number,
    /// An amount of money: kept as an exact decimal string (a text cell on export; a text or
    /// number cell on import).
    Money,
    Date,
    /// Comma-separated texts.
    List,
    Enum(&'static [&'static str]),
}

struct Field {
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    ty: Ty,
}

const fn f(key: &'static str, zh: &'static str, en: &'static str, ty: Ty) -> Field {
    Field { key, zh, en, ty }
}

// The workbook's lists are the domain's vocabularies, never copies of them.
const CATEGORIES: &[&str] = InventoryCategory::CODES;
const LEVELS: &[&str] = Level::CODES;
const THIRD_PARTY: &[&str] = ThirdPartyKind::CODES;
const BUDGET_STATUS: &[&str] = BudgetStatus::CODES;

enum Layout {
    /// One item per row.
    Table(&'static [Field]),
    /// One field per row: label in column A, value in column B.
    Record(&'static [Field]),
}

struct Sheet {
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    layout: Layout,
}

const SHEETS: &[Sheet] = &[
    Sheet {
        code: "topology",
        zh: "信息化整体拓扑",
        en: "Overall IT topology",
        layout: Layout::Record(&[
            f("summary", "概述", "Summary", Ty::Text),
            f("sites", "站点数", "Sites", Ty::Count),
            f(
                "network_layers",
                "网络层次(逗号分隔)",
                "Network layers (comma-separated)",
                Ty::List,
            ),
            f("diagram_ref", "拓扑图", "Diagram reference", Ty::Text),
        ]),
    },
    Sheet {
        code: "inventory",
        zh: "设备、软件、系统的品牌、数量、型号",
        en: "Equipment, software and systems: brand, quantity, model",
        layout: Layout::Table(&[
            f("category", "类别", "Category", Ty::Enum(CATEGORIES)),
            f("brand", "品牌", "Brand", Ty::Text),
            f("model", "型号", "Model", Ty::Text),
            f("quantity", "数量", "Quantity", Ty::Count),
            f("deployed_year", "部署年份", "Deployed year", Ty::Year),
            f("end_of_support", "停止支持日期", "End of support", Ty::Date),
            f("notes", "备注", "Notes", Ty::Text),
        ]),
    },
    Sheet {
        code: "applications",
        zh: "应用类型",
        en: "Application types",
        layout: Layout::Table(&[
            f("name", "名称", "Name", Ty::Text),
            f("type", "类型", "Type", Ty::Text),
            f("users", "用户数", "Users", Ty::Count),
            f("criticality", "重要程度", "Criticality", Ty::Enum(LEVELS)),
        ]),
    },
    Sheet {
        code: "business_platforms",
        zh: "业务平台",
        en: "Business platforms",
        layout: Layout::Table(&[
            f("name", "名称", "Name", Ty::Text),
            f("vendor", "厂商", "Vendor", Ty::Text),
            f("notes", "备注", "Notes", Ty::Text),
        ]),
    },
    Sheet {
        code: "daily_traffic",
        zh: "日常流量",
        en: "Daily traffic",
        layout: Layout::Record(&[
            f(
                "average_mbps",
                "平均流量(Mbps)",
                "Average (Mbps)",
                Ty::Number,
            ),
            f("peak_mbps", "峰值流量(Mbps)", "Peak (Mbps)", Ty::Number),
            f("peak_hours", "高峰时段", "Peak hours", Ty::Text),
            f("notes", "备注", "Notes", Ty::Text),
        ]),
    },
    Sheet {
        code: "security_measures",
        zh: "安全管理措施",
        en: "Security management measures",
        layout: Layout::Table(&[
            f("area", "领域", "Area", Ty::Text),
            f("measure", "措施", "Measure", Ty::Text),
            f("product", "产品", "Product", Ty::Text),
        ]),
    },
    Sheet {
        code: "problems",
        zh: "问题和主要困扰",
        en: "Problems and main pain points",
        layout: Layout::Table(&[
            f("description", "描述", "Description", Ty::Text),
            f("impact", "影响", "Impact", Ty::Text),
            f("severity", "严重程度", "Severity", Ty::Enum(LEVELS)),
        ]),
    },
    Sheet {
        code: "requirements_goals",
        zh: "大致需求和目标",
        en: "Rough requirements and goals",
        layout: Layout::Table(&[
            f("description", "描述", "Description", Ty::Text),
            f("priority", "优先级", "Priority", Ty::Enum(LEVELS)),
        ]),
    },
    Sheet {
        code: "third_parties",
        zh: "第三方机构",
        en: "Third parties involved",
        layout: Layout::Table(&[
            f("kind", "类型", "Kind", Ty::Enum(THIRD_PARTY)),
            f("name", "名称", "Name", Ty::Text),
            f("role", "作用", "Role", Ty::Text),
        ]),
    },
    Sheet {
        code: "budget",
        zh: "大致预算与资金上限",
        en: "Rough budget and funding ceiling",
        layout: Layout::Record(&[
            f("estimate", "预算估计", "Estimate", Ty::Money),
            f("ceiling", "资金上限", "Ceiling", Ty::Money),
            f("currency", "币种", "Currency", Ty::Text),
            f("status", "状态", "Status", Ty::Enum(BUDGET_STATUS)),
        ]),
    },
    Sheet {
        code: "timeline",
        zh: "开始时间与最晚截止日期",
        en: "Start date and latest deadline",
        layout: Layout::Record(&[
            f("earliest_start", "最早开始", "Earliest start", Ty::Date),
            f("deadline", "最晚截止", "Deadline", Ty::Date),
            f("basis", "判断依据", "Basis", Ty::Text),
        ]),
    },
];

const OVERVIEW: &str = "overview";
const OVERVIEW_FIELDS: &[Field] = &[
    f("surveyed_at", "调查时间", "Surveyed at", Ty::Text),
    f("surveyor", "调查人", "Surveyor", Ty::Text),
    f(
        "respondents",
        "受访联系人ID(逗号分隔)",
        "Respondent contact ids (comma-separated)",
        Ty::List,
    ),
    f("opportunity_id", "项目ID", "Opportunity id", Ty::Text),
];

/// Row indexes (0-based): the banner, the section title, the header; data below.
const BANNER_ROW: u32 = 0;
const TITLE_ROW: u32 = 1;
const HEADER_ROW: u32 = 2;
const FIRST_DATA_ROW: u32 = 3;
const MAX_ROWS: u32 = 20_000;

/// What goes on top of every sheet.
pub struct Banner {
    pub account_name: String,
    pub surveyed_at: Option<DateTime<Utc>>,
}

/// The record content to export (the JSON of the survey input: `surveyed_at`, `surveyor`,
/// `respondents`, `opportunity_id`, `sections`).
pub fn export(banner: &Banner, record: &Value) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(13);
    let head = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_text_wrap();
    let date_text = banner
        .surveyed_at
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();

    let top = |ws: &mut Worksheet, zh: &str, en: &str| -> Result<(), XlsxError> {
        ws.write_string_with_format(BANNER_ROW, 0, "客户 Account", &bold)?;
        ws.write_string(BANNER_ROW, 1, &banner.account_name)?;
        ws.write_string_with_format(BANNER_ROW, 2, "调查日期 Surveyed", &bold)?;
        ws.write_string(BANNER_ROW, 3, &date_text)?;
        ws.write_string_with_format(TITLE_ROW, 0, format!("{zh} {en}"), &title)?;
        ws.set_column_width(0, 28)?;
        for c in 1..8 {
            ws.set_column_width(c, 22)?;
        }
        Ok(())
    };

    // Overview.
    let ws = wb.add_worksheet();
    ws.set_name(OVERVIEW)?;
    top(ws, "调查概况", "Survey overview")?;
    ws.write_string_with_format(HEADER_ROW, 0, "字段 Field", &head)?;
    ws.write_string_with_format(HEADER_ROW, 1, "值 Value", &head)?;
    for (i, fd) in OVERVIEW_FIELDS.iter().enumerate() {
        let row = FIRST_DATA_ROW + i as u32;
        ws.write_string_with_format(row, 0, label(fd), &bold)?;
        write_value(ws, row, 1, fd.ty, record.get(fd.key))?;
    }

    let sections = record.get("sections").cloned().unwrap_or(Value::Null);
    for sheet in SHEETS {
        let ws = wb.add_worksheet();
        ws.set_name(sheet.code)?;
        top(ws, sheet.zh, sheet.en)?;
        let data = sections.get(sheet.code);
        match &sheet.layout {
            Layout::Table(fields) => {
                for (c, fd) in fields.iter().enumerate() {
                    ws.write_string_with_format(HEADER_ROW, c as u16, label(fd), &head)?;
                }
                for (r, item) in data
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    for (c, fd) in fields.iter().enumerate() {
                        write_value(
                            ws,
                            FIRST_DATA_ROW + r as u32,
                            c as u16,
                            fd.ty,
                            item.get(fd.key),
                        )?;
                    }
                }
            }
            Layout::Record(fields) => {
                ws.write_string_with_format(HEADER_ROW, 0, "字段 Field", &head)?;
                ws.write_string_with_format(HEADER_ROW, 1, "值 Value", &head)?;
                for (i, fd) in fields.iter().enumerate() {
                    let row = FIRST_DATA_ROW + i as u32;
                    ws.write_string_with_format(row, 0, label(fd), &bold)?;
                    write_value(ws, row, 1, fd.ty, data.and_then(|d| d.get(fd.key)))?;
                }
            }
        }
    }
    wb.save_to_buffer()
}

fn label(fd: &Field) -> String {
    format!("{} {}", fd.zh, fd.en)
}

fn write_value(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    ty: Ty,
    v: Option<&Value>,
) -> Result<(), XlsxError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    match (ty, v) {
        (Ty::List, Value::Array(items)) => {
            let joined: Vec<String> = items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect();
            ws.write_string(row, col, joined.join(", "))?;
        }
        (_, Value::Number(n)) => {
            ws.write_number(row, col, n.as_f64().unwrap_or_default())?;
        }
        (_, Value::String(s)) => {
            ws.write_string(row, col, s)?;
        }
        (_, other) => {
            ws.write_string(row, col, other.to_string())?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Import

fn col_letter(c: u32) -> String {
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

fn problem(sheet: &str, row: u32, col: u32, fd: Option<&Field>, msg: &str) -> Violation {
    let what = fd.map(|f| format!(" ({})", f.key)).unwrap_or_default();
    Violation::new(
        cell_ref(sheet, row, col),
        format!(
            "sheet {sheet}, row {}, column {}{what}: {msg}",
            row + 1,
            col_letter(col)
        ),
    )
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
fn parse_cell(d: &Data, fd: &Field) -> Result<Option<Value>, String> {
    if let Data::Error(e) = d {
        return Err(format!("the cell holds an error ({e:?})"));
    }
    let Some(text) = cell_text(d) else {
        return Ok(None);
    };
    let number = || -> Result<f64, String> {
        match d {
            Data::Float(x) => Ok(*x),
            Data::Int(i) => Ok(*i as f64),
            _ => text
                .replace(',', "")
                .parse::<f64>()
                .map_err(|_| format!("{text:?} is not a number")),
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
                return Err(format!("{text:?} is not a whole number"));
            }
            if fd.ty == Ty::Count && x < 0.0 {
                return Err(format!("{text:?} must not be negative"));
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
                return Err(format!("{text:?} is not an amount such as 1200000.50"));
            }
            Value::String(t)
        }
        Ty::Date => {
            let date = match d {
                Data::DateTime(dt) => excel_serial_date(dt.as_f64())
                    .ok_or_else(|| format!("{text:?} is not a date"))?,
                Data::Float(x) => {
                    excel_serial_date(*x).ok_or_else(|| format!("{text:?} is not a date"))?
                }
                _ => NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .or_else(|_| NaiveDate::parse_from_str(&text, "%Y/%m/%d"))
                    .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD)"))?,
            };
            Value::String(date.format("%Y-%m-%d").to_string())
        }
        Ty::Enum(allowed) => {
            let code = text.to_lowercase();
            if !allowed.contains(&code.as_str()) {
                return Err(format!("{text:?} is not one of {}", allowed.join(", ")));
            }
            Value::String(code)
        }
    }))
}

fn excel_serial_date(x: f64) -> Option<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_signed(chrono::Duration::days(x.floor() as i64))
}

/// Reads a workbook in the form's layout into the JSON of a survey input. Every problem names
/// its sheet, row and column.
pub fn import(bytes: &[u8]) -> Result<Value, Vec<Violation>> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|e| {
        vec![Violation::new(
            "workbook",
            format!("not a readable .xlsx workbook: {e}"),
        )]
    })?;
    let names = wb.sheet_names();
    let mut errors = Vec::new();
    let mut expected: Vec<&str> = vec![OVERVIEW];
    expected.extend(SHEETS.iter().map(|s| s.code));
    for name in &expected {
        if !names.iter().any(|n| n == name) {
            errors.push(Violation::new(
                format!("{name}!A1"),
                format!("sheet {name} is missing; use the template from /v1/survey-records/template.xlsx"),
            ));
        }
    }
    for n in &names {
        if !expected.contains(&n.as_str()) {
            errors.push(Violation::new(
                format!("{n}!A1"),
                format!("sheet {n} is not part of the survey form"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut record = Map::new();
    let mut sections = Map::new();

    // Overview and record-shaped sheets: label in A, value in B.
    let read_record = |wb: &mut Xlsx<Cursor<Vec<u8>>>,
                       sheet: &str,
                       fields: &[Field],
                       errors: &mut Vec<Violation>|
     -> Map<String, Value> {
        let mut out = Map::new();
        let range = match wb.worksheet_range(sheet) {
            Ok(r) => r,
            Err(e) => {
                errors.push(Violation::new(
                    format!("{sheet}!A1"),
                    format!("sheet {sheet} cannot be read: {e}"),
                ));
                return out;
            }
        };
        for (i, fd) in fields.iter().enumerate() {
            let row = FIRST_DATA_ROW + i as u32;
            let got = range
                .get_value((row, 0))
                .and_then(cell_text)
                .unwrap_or_default();
            if got != label(fd) {
                errors.push(problem(
                    sheet,
                    row,
                    0,
                    Some(fd),
                    &format!("expected the label {:?}", label(fd)),
                ));
                continue;
            }
            if let Some(d) = range.get_value((row, 1)) {
                match parse_cell(d, fd) {
                    Ok(Some(v)) => {
                        out.insert(fd.key.to_string(), v);
                    }
                    Ok(None) => {}
                    Err(msg) => errors.push(problem(sheet, row, 1, Some(fd), &msg)),
                }
            }
        }
        out
    };

    let overview = read_record(&mut wb, OVERVIEW, OVERVIEW_FIELDS, &mut errors);
    for (k, v) in overview {
        record.insert(k, v);
    }

    for sheet in SHEETS {
        match &sheet.layout {
            Layout::Record(fields) => {
                let obj = read_record(&mut wb, sheet.code, fields, &mut errors);
                if !obj.is_empty() {
                    sections.insert(sheet.code.to_string(), Value::Object(obj));
                }
            }
            Layout::Table(fields) => {
                let range = match wb.worksheet_range(sheet.code) {
                    Ok(r) => r,
                    Err(e) => {
                        errors.push(Violation::new(
                            format!("{}!A1", sheet.code),
                            format!("sheet cannot be read: {e}"),
                        ));
                        continue;
                    }
                };
                let mut header_ok = true;
                for (c, fd) in fields.iter().enumerate() {
                    let got = range
                        .get_value((HEADER_ROW, c as u32))
                        .and_then(cell_text)
                        .unwrap_or_default();
                    if got != label(fd) {
                        errors.push(problem(
                            sheet.code,
                            HEADER_ROW,
                            c as u32,
                            Some(fd),
                            &format!("expected the header {:?}", label(fd)),
                        ));
                        header_ok = false;
                    }
                }
                if !header_ok {
                    continue;
                }
                let last = range.end().map_or(0, |(r, _)| r);
                if last >= FIRST_DATA_ROW + MAX_ROWS {
                    errors.push(problem(
                        sheet.code,
                        last,
                        0,
                        None,
                        &format!("at most {MAX_ROWS} rows"),
                    ));
                    continue;
                }
                let mut items = Vec::new();
                for row in FIRST_DATA_ROW..=last.max(FIRST_DATA_ROW) {
                    let mut obj = Map::new();
                    let mut bad: Vec<&str> = Vec::new();
                    for (c, fd) in fields.iter().enumerate() {
                        if let Some(d) = range.get_value((row, c as u32)) {
                            match parse_cell(d, fd) {
                                Ok(Some(v)) => {
                                    obj.insert(fd.key.to_string(), v);
                                }
                                Ok(None) => {}
                                Err(msg) => {
                                    bad.push(fd.key);
                                    errors.push(problem(sheet.code, row, c as u32, Some(fd), &msg));
                                }
                            }
                        }
                    }
                    if obj.is_empty() && bad.is_empty() {
                        continue; // blank row
                    }
                    // Required columns of the item.
                    for (c, fd) in fields.iter().enumerate() {
                        let required = matches!(
                            (sheet.code, fd.key),
                            ("inventory", "category" | "brand" | "quantity")
                                | (
                                    "applications" | "business_platforms" | "third_parties",
                                    "name"
                                )
                                | ("third_parties", "kind")
                                | ("security_measures", "area" | "measure")
                                | ("problems" | "requirements_goals", "description")
                        );
                        if required && !obj.contains_key(fd.key) && !bad.contains(&fd.key) {
                            errors.push(problem(
                                sheet.code,
                                row,
                                c as u32,
                                Some(fd),
                                "is required",
                            ));
                        }
                    }
                    items.push(Value::Object(obj));
                }
                if !items.is_empty() {
                    sections.insert(sheet.code.to_string(), Value::Array(items));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    record.insert("sections".to_string(), Value::Object(sections));
    Ok(Value::Object(record))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        json!({
            "surveyed_at": "2026-11-20T09:30:00Z",
            "surveyor": "rita",
            "respondents": ["0190f0a0-0000-7000-8000-000000000001"],
            "opportunity_id": null,
            "sections": {
                "topology": {"summary": "三层架构", "sites": 3, "network_layers": ["core", "access"], "diagram_ref": null},
                "inventory": [
                    {"category": "network", "brand": "Huawei", "model": "S12700", "quantity": 2, "deployed_year": 2016, "end_of_support": "2025-12-31", "notes": null},
                    {"category": "server", "brand": "Inspur", "model": null, "quantity": 0, "deployed_year": null, "end_of_support": null, "notes": "待确认"}
                ],
                "daily_traffic": {"average_mbps": 300.5, "peak_mbps": 950.0, "peak_hours": "09:00-11:00", "notes": null},
                "budget": {"estimate": "1000000.00", "ceiling": "1200000.25", "currency": "CNY", "status": "estimated"},
                "timeline": {"earliest_start": "2027-03-01", "deadline": "2027-09-30", "basis": null}
            }
        })
    }

    #[test]
    fn export_then_import_round_trips() {
        let banner = Banner {
            account_name: "华东电力设计院".into(),
            surveyed_at: None,
        };
        let bytes = export(&banner, &sample()).unwrap();
        let back = import(&bytes).unwrap();
        assert_eq!(back["surveyed_at"], "2026-11-20T09:30:00Z");
        assert_eq!(
            back["respondents"],
            json!(["0190f0a0-0000-7000-8000-000000000001"])
        );
        let s = &back["sections"];
        assert_eq!(s["topology"]["network_layers"], json!(["core", "access"]));
        assert_eq!(s["inventory"][0]["quantity"], 2);
        assert_eq!(s["inventory"][0]["end_of_support"], "2025-12-31");
        assert_eq!(s["inventory"][1]["quantity"], 0);
        assert_eq!(s["inventory"][1]["notes"], "待确认");
        assert_eq!(s["daily_traffic"]["average_mbps"], 300.5);
        assert_eq!(s["budget"]["estimate"], "1000000.00", "money stays exact");
        assert_eq!(s["budget"]["ceiling"], "1200000.25");
        assert!(s.get("applications").is_none());
    }

    /// Every value of every vocabulary the form uses survives export and import.
    #[test]
    fn every_enum_value_round_trips() {
        use crate::domain::survey::Sections;
        let banner = Banner {
            account_name: "x".into(),
            surveyed_at: None,
        };
        for status in BudgetStatus::CODES {
            let sections = json!({
                "inventory": InventoryCategory::CODES.iter()
                    .map(|c| json!({"category": c, "brand": "b", "quantity": 1}))
                    .collect::<Vec<_>>(),
                "applications": Level::CODES.iter()
                    .map(|l| json!({"name": format!("app {l}"), "criticality": l}))
                    .collect::<Vec<_>>(),
                "problems": Level::CODES.iter()
                    .map(|l| json!({"description": format!("p {l}"), "severity": l}))
                    .collect::<Vec<_>>(),
                "requirements_goals": Level::CODES.iter()
                    .map(|l| json!({"description": format!("r {l}"), "priority": l}))
                    .collect::<Vec<_>>(),
                "third_parties": ThirdPartyKind::CODES.iter()
                    .map(|k| json!({"kind": k, "name": format!("t {k}")}))
                    .collect::<Vec<_>>(),
                "budget": {"status": status, "currency": "CNY", "estimate": "10.50"},
            });
            let typed: Sections = serde_json::from_value(sections.clone()).unwrap();
            let record = json!({"surveyed_at": "2026-11-20T09:30:00Z", "sections": sections});
            let back = import(&export(&banner, &record).unwrap()).unwrap();
            let back: Sections = serde_json::from_value(back["sections"].clone()).unwrap();
            assert_eq!(back, typed, "budget status {status}");
        }
    }

    #[test]
    fn garbage_is_rejected() {
        let e = import(b"not a zip").unwrap_err();
        assert_eq!(e[0].path, "workbook");
    }

    #[test]
    fn cell_references() {
        assert_eq!(cell_ref("inventory", 4, 3), "inventory!D5");
        assert_eq!(col_letter(25), "Z");
        assert_eq!(col_letter(26), "AA");
        assert_eq!(
            locate("sections.inventory[2].brand").as_deref(),
            Some("inventory!B6")
        );
        assert_eq!(
            locate("sections.budget.currency").as_deref(),
            Some("budget!B6")
        );
        assert_eq!(
            locate("sections.timeline.deadline").as_deref(),
            Some("timeline!B5")
        );
        assert_eq!(
            locate_overview("respondents[0]").as_deref(),
            Some("overview!B6")
        );
    }
}
