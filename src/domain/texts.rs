//! Every text of an error a person reads, in zh and en, in one place: the messages of
//! validation findings (`Code`), the titles of problems, and the details the error module
//! composes. Callers pass the facts (codes, names, numbers); the wording lives here.

use crate::domain::playbook::Lang;
use crate::domain::validate::{Code, CodeKind, Format, Misplaced, TokenFault};

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

fn format_name(f: Format) -> (&'static str, &'static str) {
    match f {
        Format::Email => ("电子邮件地址", "an e-mail address"),
        Format::Url => ("以 http:// 或 https:// 开头的网址", "an http:// or https:// URL"),
        Format::HttpsUrl => ("https 网址（含主机名，不含凭据和片段；仅在允许私有地址时可用 http）", "an https URL with a host and no credentials or fragment (http only where private addresses are allowed)"),
        Format::Phone => ("电话号码（数字、空格和 + - ( )，至少 3 位数字）", "a phone number (digits, spaces, + - ( ); at least 3 digits)"),
        Format::Uuid => ("UUID", "a UUID"),
        Format::DateTime => ("RFC 3339 时间（如 2026-01-31T09:00:00Z）", "an RFC 3339 time such as 2026-01-31T09:00:00Z"),
        Format::Date => ("日期（如 2026-01-31）", "a date such as 2026-01-31"),
        Format::Integer => ("整数", "a whole number"),
        Format::Number => ("数字", "a number"),
        Format::Boolean => ("true 或 false", "true or false"),
        Format::Amount => ("非负十进制金额字符串（如 \"980.50\"）或整数", "a non-negative decimal string such as \"980.50\" or a whole number"),
        Format::Currency => ("ISO 4217 货币代码（如 CNY、USD）", "an ISO 4217 currency code such as CNY or USD"),
        Format::Cursor => ("本接口返回的游标", "a cursor returned by this API"),
        Format::EntityTag => ("本接口返回的 ETag（如 \"3\"）", "an entity tag returned by this API, such as \"3\""),
        Format::IdempotencyKey => ("1-255 个可打印 ASCII 字符", "1-255 printable ASCII characters"),
        Format::BearerToken => ("Bearer 令牌（Authorization: Bearer <令牌>）", "a bearer token (Authorization: Bearer <token>)"),
        Format::Json => ("合法的 JSON", "well-formed JSON"),
        Format::Xlsx => ("可读取的 .xlsx 工作簿", "a readable .xlsx workbook"),
        Format::Multipart => ("合法的 multipart/form-data 正文", "a well-formed multipart/form-data body"),
        Format::Csv => ("可读取的 CSV 文件（逗号、分号或制表符分隔）", "a readable CSV file (comma, semicolon or tab separated)"),
        Format::ExternalSystem => ("系统名（小写字母开头，其后最多 31 个 a-z、0-9、_ 或 -，如 salesforce）", "a system name: a lowercase letter, then up to 31 of a-z, 0-9, _ and -, such as salesforce"),
        Format::ExternalRef => ("系统名:编号（如 salesforce:0015g00000AbCdE）", "system:id, such as salesforce:0015g00000AbCdE"),
        Format::EventTypePattern => ("事件类型或模式（如 account.* 或 *）", "an event type or a pattern such as account.* or *"),
        Format::Pattern => ("文档规定的格式", "the form the API document states"),
    }
}

fn kind_name(k: CodeKind) -> (&'static str, &'static str) {
    match k {
        CodeKind::Stage => ("阶段", "stage"),
        CodeKind::Goal => ("客户目标", "customer goal"),
        CodeKind::Milestone => ("里程碑", "milestone"),
        CodeKind::KeyAction => ("关键动作", "key action"),
        CodeKind::Tool => ("工具", "tool"),
        CodeKind::Signal => ("购买信号", "buying signal"),
        CodeKind::Note => ("注释", "note"),
        CodeKind::EventType => ("事件类型", "event type"),
    }
}

fn json_type_zh(t: &str) -> &str {
    match t {
        "string" => "字符串",
        "integer" => "整数",
        "number" => "数字",
        "boolean" => "布尔值",
        "object" => "对象",
        "array" => "数组",
        "null" => "null",
        other => other,
    }
}

fn list(items: &[String], sep: &str) -> String {
    items.join(sep)
}

/// The message of a finding.
pub fn violation(code: &Code) -> Text {
    match code {
        Code::Required => Text::new("必填，不能为空或删除", "is required and must not be blank or removed"),
        Code::TooLong { max } => Text::new(format!("最多 {max} 个字符"), format!("must be at most {max} characters")),
        Code::TooShort { min } => Text::new(format!("至少 {min} 个字符"), format!("must be at least {min} characters")),
        Code::TooMany { max } => Text::new(format!("最多 {max} 项"), format!("must have at most {max} items")),
        Code::TooFew { min } => Text::new(format!("至少 {min} 项"), format!("must have at least {min} items")),
        Code::TooLarge { max_bytes } => Text::new(format!("不能超过 {max_bytes} 字节"), format!("must not exceed {max_bytes} bytes")),
        Code::InvalidCharacters => Text::new("不能包含 NUL 或控制字符", "must not contain NUL or control characters"),
        Code::InvalidFormat(f) => {
            let (zh, en) = format_name(*f);
            Text::new(format!("应为{zh}"), format!("must be {en}"))
        }
        Code::InvalidType { expected } => {
            let zh: Vec<&str> = expected.split(", ").map(json_type_zh).collect();
            Text::new(format!("类型应为{}", zh.join("或")), format!("must be of type {expected}"))
        }
        Code::UnknownValue { allowed } => Text::new(
            format!("不是允许的值；可选：{}", list(allowed, "、")),
            format!("is not an allowed value; one of: {}", list(allowed, ", ")),
        ),
        Code::UnknownField => Text::new("不是此操作的字段或参数", "is not a member or parameter of this operation"),
        Code::OutOfRange { min, max } => match (min, max) {
            (Some(a), Some(b)) => Text::new(format!("应在 {a} 到 {b} 之间"), format!("must be from {a} to {b}")),
            (Some(a), None) => Text::new(format!("不能小于 {a}"), format!("must be at least {a}")),
            (None, Some(b)) => Text::new(format!("不能大于 {b}"), format!("must be at most {b}")),
            (None, None) => Text::new("超出允许范围", "is out of range"),
        },
        Code::TooPrecise { currency, max } => Text::new(
            format!("{currency} 最多 {max} 位小数"),
            format!("{currency} allows at most {max} decimal places"),
        ),
        Code::NotInAccount => Text::new("必须属于同一客户", "must belong to the same account"),
        Code::NotFound => Text::new("所指的资源不存在", "refers to a resource that does not exist"),
        Code::Archived => Text::new("所指的资源已归档", "refers to an archived resource"),
        Code::UnknownCode { code, kind } => {
            let (zh, en) = kind_name(*kind);
            Text::new(format!("{code} 不是方法论中的{zh}"), format!("{code} is not a {en} of the playbook"))
        }
        Code::NotAssessable(m) => {
            let Misplaced { code, stage, evidence, current } = m.as_ref();
            Text::new(
            format!("{code} 属于 {stage}；只评估证据阶段（{evidence}）或当前阶段（{current}）的里程碑"),
            format!("{code} belongs to {stage}; only milestones of the evidence stage ({evidence}) or the current stage ({current}) are assessed"),
            )
        }
        Code::ReadOnly => Text::new("内置内容（来自方法论原文），不能修改", "is built in (from the methodology's source) and cannot be changed"),
        Code::Duplicate => Text::new("重复列出", "is listed twice"),
        Code::PrivateAddress => Text::new("不能指向本机或私有、保留地址", "must not point at this machine or a private or reserved address"),
        Code::Cycle => Text::new("会形成汇报关系环路（包括汇报给自己）", "would create a reporting loop (or report to itself)"),
        Code::Requires { other } => Text::new(format!("须与 {other} 一同提供"), format!("goes together with {other}")),
        Code::NotBefore { other } => Text::new(format!("不能早于 {other}"), format!("must not be before {other}")),
        Code::NotBelow { other } => Text::new(format!("不能小于 {other}"), format!("must not be below {other}")),
        Code::NotAllowed => Text::new("在此处不允许", "is not allowed here"),
        Code::NotIncreasing { stage, percent, value } => Text::new(
            format!("须随阶段递增：{stage} 为 {percent}%，此处为 {value}%"),
            format!("must increase with stage order: {stage} has {percent} %, this would have {value} %"),
        ),
        Code::KeyReused => Text::new(
            "此键已用于另一请求（方法、路径或正文不同），请换一个新键",
            "was already used with a different request (method, path or body); use a new key",
        ),
        Code::InUse => Text::new("使用此键的第一个请求仍在处理", "belongs to a request that is still running"),
        Code::MissingColumn { column } => Text::new(format!("文件缺少 {column} 列"), format!("the file has no {column} column")),
        Code::Fixed => Text::new("创建后不能更改", "cannot change once the resource exists"),
        Code::Taken => Text::new("已被另一资源使用", "another resource holds it"),
        Code::Stale => Text::new("不是当前版本；请重新读取资源后再试", "is not the current version; read the resource again"),
        Code::InvalidToken(fault) => token_fault(*fault),
        Code::UnsupportedType { allowed } => Text::new(
            format!("不支持此内容类型；请使用：{}", list(allowed, "、")),
            format!("is not a content type this operation reads; send: {}", list(allowed, ", ")),
        ),
    }
}

fn token_fault(f: TokenFault) -> Text {
    let (zh, en) = match f {
        TokenFault::Malformed => ("令牌格式有误", "the token is malformed"),
        TokenFault::TooLarge => ("令牌过大", "the token is too large"),
        TokenFault::Expired => ("令牌已过期", "the token has expired"),
        TokenFault::NotYetValid => ("令牌尚未生效", "the token is not valid yet"),
        TokenFault::Signature => ("令牌签名无效", "the token's signature is invalid"),
        TokenFault::Algorithm => ("不接受该令牌算法", "the token's algorithm is not accepted"),
        TokenFault::Issuer => ("不接受该令牌签发方", "the token's issuer is not accepted"),
        TokenFault::Audience => ("不接受该令牌受众", "the token's audience is not accepted"),
        TokenFault::UnknownKey => ("令牌由未知密钥（kid）签名", "the token is signed by an unknown key (kid)"),
        TokenFault::NoKeyId => ("令牌缺少密钥编号（kid）", "the token has no key id (kid)"),
        TokenFault::Critical => ("不支持关键头部参数（crit）", "critical header parameters (crit) are not supported"),
        TokenFault::Claims => ("令牌声明缺失或有误（sub 1-200 个字符、tenant 为非空 UUID、roles、exp）", "the token's claims are missing or malformed (sub 1-200 characters, tenant a non-nil UUID, roles, exp)"),
        TokenFault::Lifetime => ("令牌有效期过长", "the token's lifetime is too long"),
    };
    Text::new(zh, en)
}

/// The title of a problem, by its `code`.
pub fn title(code: &str) -> Text {
    let (zh, en) = match code {
        "unauthenticated" => ("需要认证", "Authentication required"),
        "forbidden" => ("无权操作", "Forbidden"),
        "not_found" => ("未找到", "Not found"),
        "method_not_allowed" => ("不支持此方法", "Method not allowed"),
        "bad_request" => ("请求格式有误", "Bad request"),
        "unsupported_media_type" => ("不支持的内容类型", "Unsupported media type"),
        "validation_failed" => ("校验未通过", "Validation failed"),
        "conflict" => ("冲突", "Conflict"),
        "external_ref_taken" => ("外部编号已被占用", "External reference taken"),
        "idempotency_key_in_use" => ("幂等键正在使用", "Idempotency key in use"),
        "precondition_failed" => ("前提条件不满足", "Precondition failed"),
        "payload_too_large" => ("请求正文过大", "Payload too large"),
        "rate_limited" => ("请求过多", "Too many requests"),
        "unavailable" => ("服务暂不可用", "Service unavailable"),
        _ => ("内部错误", "Internal server error"),
    };
    Text::new(zh, en)
}

/// The detail of a 400/413/415/422: which fields and parameters are wrong.
pub fn invalid_fields(fields: &[String]) -> Text {
    Text::new(
        format!("以下字段或参数有误：{}", fields.join("、")),
        format!("invalid fields or parameters: {}", fields.join(", ")),
    )
}

/// The detail of a 405.
pub fn method_not_allowed(allow: &[String]) -> Text {
    Text::new(
        format!("此资源支持：{}", allow.join("、")),
        format!("this resource supports: {}", allow.join(", ")),
    )
}

pub fn unavailable() -> Text {
    Text::new(
        "数据库暂时不可用，请稍后重试",
        "the database is temporarily unavailable; retry later",
    )
}

pub fn internal() -> Text {
    Text::new(
        "发生了意外错误；已按请求编号记录日志",
        "an unexpected error occurred; it has been logged with the request id",
    )
}

pub fn rate_limited(scope: &str, retry_after_secs: u64) -> Text {
    Text::new(
        format!(
            "超出{}请求速率限制；请在 {retry_after_secs} 秒后重试",
            if scope == "tenant" {
                "租户"
            } else {
                "用户"
            }
        ),
        format!("over the {scope}'s request rate; retry in {retry_after_secs} s"),
    )
}

pub fn key_in_use() -> Text {
    Text::new(
        "使用此 Idempotency-Key 的第一个请求仍在处理；请稍后重试",
        "the first request with this Idempotency-Key is still running; retry in a second",
    )
}

pub fn stale(current: Option<i32>) -> Text {
    match current {
        Some(v) => Text::new(
            format!("资源已被修改，当前版本为 {v}；请重新读取后用其 ETag 作为 If-Match"),
            format!("the resource has changed; its current version is {v}: read it again and send its ETag as If-Match"),
        ),
        None => Text::new("资源已被修改；请重新读取", "the resource has changed; read it again"),
    }
}

/// A resource (by its kind's name) that is not there, or not the caller's tenant's.
pub fn not_found(what: Noun) -> Text {
    let (zh, en) = what.names();
    Text::new(format!("{zh}不存在"), format!("{en} not found"))
}

/// The 404 of a path that names no resource.
pub fn no_resource(path: &str) -> Text {
    Text::new(
        format!("{path} 处没有资源"),
        format!("no resource at {path}"),
    )
}

/// A write refused because `what` is archived.
pub fn archived(what: Noun) -> Text {
    let (zh, en) = what.names();
    Text::new(
        format!("{zh}已归档；请先恢复"),
        format!("the {en} is archived; restore it first"),
    )
}

/// The kinds of things errors speak of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noun {
    Account,
    Contact,
    Opportunity,
    Activity,
    SurveyRecord,
    Assessment,
    WebhookEndpoint,
    WebhookDelivery,
    PlaybookVersion,
    Stage,
    Event,
    ImportJob,
    Resource,
}

impl Noun {
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Noun::Account => ("客户", "account"),
            Noun::Contact => ("联系人", "contact"),
            Noun::Opportunity => ("商机", "opportunity"),
            Noun::Activity => ("活动", "activity"),
            Noun::ImportJob => ("导入任务", "import job"),
            Noun::SurveyRecord => ("调研记录", "survey record"),
            Noun::Assessment => ("评估", "assessment"),
            Noun::WebhookEndpoint => ("Webhook 端点", "webhook endpoint"),
            Noun::WebhookDelivery => ("Webhook 投递", "webhook delivery"),
            Noun::PlaybookVersion => ("方法论版本", "playbook version"),
            Noun::Stage => ("阶段", "stage"),
            Noun::Event => ("事件", "event"),
            Noun::Resource => ("资源", "resource"),
        }
    }
}

/// Why a caller is refused (403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Viewers (and tokens without a writing role) only read.
    ReadOnly,
    /// A rep changes only the accounts (and what is under them) that the rep owns.
    NotOwner,
    /// Only managers and admins name someone else as owner.
    OtherOwner,
    /// Only admins author the playbook.
    Playbook,
    /// Only admins change the tenant's settings.
    Settings,
    /// Only admins manage webhook endpoints.
    Webhooks,
    /// Only managers and admins import.
    Imports,
    /// A role the service does not know, as the token names it.
    UnknownRole(String),
    /// The token grants no role.
    NoRole,
}

pub fn forbidden(r: &Refusal) -> Text {
    match r {
        Refusal::ReadOnly => Text::new("你的角色只能读取", "your roles allow reading only"),
        Refusal::NotOwner => Text::new(
            "销售代表只能修改自己负责的客户",
            "reps may change only the accounts they own",
        ),
        Refusal::OtherOwner => Text::new(
            "只有经理和管理员可以将负责人设为他人",
            "only managers and admins may name another owner",
        ),
        Refusal::Playbook => Text::new(
            "只有租户管理员可以编写方法论",
            "only tenant admins author the playbook",
        ),
        Refusal::Settings => Text::new(
            "只有租户管理员可以修改设置",
            "only tenant admins change settings",
        ),
        Refusal::Webhooks => Text::new(
            "只有租户管理员可以管理 Webhook 端点",
            "only tenant admins manage webhook endpoints",
        ),
        Refusal::Imports => Text::new(
            "只有经理和管理员可以导入",
            "only managers and admins may import",
        ),
        Refusal::UnknownRole(role) => Text::new(
            format!("令牌中的角色 '{role}' 未知；应为 viewer、rep、manager 或 admin"),
            format!("unknown role '{role}' in token; expected viewer, rep, manager or admin"),
        ),
        Refusal::NoRole => Text::new("令牌未授予任何角色", "the token grants no role"),
    }
}

/// A write refused because a webhook endpoint is disabled.
pub fn endpoint_disabled() -> Text {
    Text::new(
        "该 Webhook 端点已停用；请先启用",
        "the webhook endpoint is disabled; enable it first",
    )
}

/// An authoring write that lost a race with another.
pub fn playbook_changed() -> Text {
    Text::new(
        "方法论已被同时修改；请重新加载后重试",
        "the playbook changed concurrently; reload and retry",
    )
}

/// The record refers to playbook codes the current playbook no longer has.
pub fn stale_codes(codes: &[String]) -> Text {
    Text::new(
        format!("记录中含有当前方法论已不存在的代码：{}", codes.join("、")),
        format!(
            "the record holds codes the current playbook no longer has: {}",
            codes.join(", ")
        ),
    )
}

/// A generic conflict: a unique value already taken.
/// The detail of a 409 `external_ref_taken`: `key` (`system:id`) is held by `holder` (a path),
/// or by a resource being written at the same time.
pub fn external_ref_taken(key: &str, holder: Option<&str>) -> Text {
    match holder {
        Some(h) => Text::new(
            format!("外部编号 {key} 已属于 {h}"),
            format!("the reference {key} is held by {h}"),
        ),
        None => Text::new(
            format!("外部编号 {key} 已被另一资源占用"),
            format!("the reference {key} is held by another resource"),
        ),
    }
}

/// The detail of a 409 when a tenant's import is already queued or running.
pub fn import_running() -> Text {
    Text::new(
        "已有导入任务在排队或运行；请等待其结束或取消它",
        "an import job is already queued or running; wait for it to end or cancel it",
    )
}

pub fn duplicate_values() -> Text {
    Text::new(
        "已存在具有这些值的资源",
        "a resource with these values already exists",
    )
}

/// What an event type means, for `GET /v1/event-types` and the document's `webhooks`.
pub fn event_type(t: crate::domain::event::EventType) -> Text {
    use crate::domain::event::{Lifecycle, Resource, Shape};
    match t.shape() {
        Shape::Lifecycle(r, l) => {
            let (zh_r, en_r) = match r {
                Resource::Account => ("客户", "An account"),
                Resource::Contact => ("联系人", "A contact"),
                Resource::Opportunity => ("商机", "An opportunity"),
                Resource::SurveyRecord => ("调研记录", "A survey record"),
                Resource::Activity => ("活动", "An activity"),
            };
            let (zh_l, en_l) = match l {
                Lifecycle::Created => ("已创建", "was created"),
                Lifecycle::Updated => ("已修改；changed_fields 列出改动的字段，previous 为其原值", "was changed; changed_fields names the fields, previous holds their former values"),
                Lifecycle::Archived => ("已归档", "was archived"),
                Lifecycle::Restored => ("已恢复", "was restored"),
            };
            Text::new(
                format!("{zh_r}{zh_l}；object 为此时 GET 返回的资源"),
                format!("{en_r} {en_l}; object is the resource as GET returns it then"),
            )
        }
        Shape::StageChanged => Text::new(
            "商机的购买阶段改变（previous_stage → current_stage）",
            "An opportunity moved from previous_stage to current_stage",
        ),
        Shape::AssessmentCreated => Text::new(
            "完成了一次阶段评估（applied 表示是否据此推进了阶段）",
            "A stage assessment was made (applied: whether it moved the stage)",
        ),
        Shape::PlaybookUpdated => Text::new(
            "租户编写了方法论的一个阶段，产生新版本",
            "The tenant authored a stage of the playbook: a new version",
        ),
        Shape::WebhookTest => Text::new(
            "由 POST /v1/webhook-endpoints/{id}/test 发送的测试事件，不进入事件日志",
            "A test sent by POST /v1/webhook-endpoints/{id}/test; never in the event log",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_both_languages() {
        let samples = [
            Code::Required,
            Code::TooLong { max: 3 },
            Code::InvalidFormat(Format::Email),
            Code::InvalidType {
                expected: "string, null".into(),
            },
            Code::UnknownValue {
                allowed: vec!["a".into(), "b".into()],
            },
            Code::range(1, 9),
            Code::UnknownCode {
                code: "S9".into(),
                kind: CodeKind::Stage,
            },
        ];
        for c in samples {
            let t = violation(&c);
            assert!(!t.zh.is_empty() && !t.en.is_empty());
            assert_ne!(t.zh, t.en, "{c:?}");
            assert!(Code::ALL.contains(&c.as_str()));
        }
        assert_eq!(
            violation(&Code::InvalidType {
                expected: "string, null".into()
            })
            .zh,
            "类型应为字符串或null"
        );
    }
}
