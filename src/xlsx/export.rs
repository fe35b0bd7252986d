//! Writing the survey form.

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde_json::Value;

use super::*;

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
