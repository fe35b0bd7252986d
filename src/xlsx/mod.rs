//! The survey form as an Excel workbook (客户现状调查表): export, blank template and import.
//!
//! One sheet per section (named by the section code), bilingual headers, the account and the
//! survey date on top of every sheet. Import reads the same layout back and names the sheet,
//! row and column (A1 notation, e.g. `inventory!D5`) of every problem.

//!
//! - this module: the form's layout (sheets, fields, cell kinds), shared by both directions;
//! - `export`: writing a record (or a blank template);
//! - `import`: reading a workbook back, every problem located by cell.

use crate::domain::survey::{BudgetStatus, InventoryCategory, Level, ThirdPartyKind};

mod export;
mod import;

#[cfg(test)]
mod tests;

pub use export::{export, Banner};
pub use import::{cell_ref, import, locate, locate_overview};

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

/// The bilingual label of a field, as written in the header and read back.
fn label(fd: &Field) -> String {
    format!("{} {}", fd.zh, fd.en)
}
