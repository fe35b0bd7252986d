//! `/v1/playbook`: the tenant's purchase-stage methodology, its versions and authoring.

use actix_web::http::header;
use actix_web::{get, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::playbook::{self, localize, Lang, Localized, Playbook, StageInput};
use crate::error::ApiResult;
use crate::http::etag::with_computed_etag;
use crate::http::extract::JsonBody;
use crate::http::lang::{pick_lang, LangQuery};
use crate::http::pagination::Page;
use crate::service::playbook as svc;
use crate::service::{Precondition, Principal};
use crate::state::AppState;

/// A coded text in the asked language.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDto {
    #[schema(example = "S1.B03")]
    pub code: String,
    #[serde(flatten)]
    pub text: Localized,
}

/// A key action.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionDto {
    #[schema(example = "S1.A05")]
    pub code: String,
    #[serde(flatten)]
    pub text: Localized,
    /// Milestones this action advances.
    pub serves: Vec<String>,
    /// Named tools it uses (codes from `tools`).
    pub tools: Vec<String>,
}

/// A purchase stage.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageDto {
    #[schema(value_type = crate::domain::opportunity::StageCode)]
    pub code: String,
    pub order: u8,
    pub name: Localized,
    pub purchase_progress_percent: u8,
    /// True when the percentage is this product's default proposal, not the source's or the
    /// tenant's.
    pub progress_is_default: bool,
    /// True when the stage has content (stage 1 from the source; others once authored).
    pub authored: bool,
    pub customer_goals: Vec<ItemDto>,
    /// Observable buying signals.
    pub customer_behaviours: Vec<ItemDto>,
    pub sales_milestones: Vec<ItemDto>,
    pub key_actions: Vec<ActionDto>,
    pub notes: Vec<ItemDto>,
}

/// A contact role of the methodology.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactRoleDto {
    pub code: String,
    #[serde(flatten)]
    pub text: Localized,
    /// S1.A03 visit priority (1 = first), IT department roles only.
    pub visit_priority: Option<u8>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactRolesDto {
    pub it_department: Vec<ContactRoleDto>,
    pub other_departments: Vec<ContactRoleDto>,
}

/// The playbook in one language.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybookDto {
    /// 1 is the built-in methodology; every tenant change adds one.
    pub version: i32,
    /// The language asked for.
    pub lang: Lang,
    /// How many texts are served in the other language because the asked one is missing.
    pub fallback_count: usize,
    pub stages: Vec<StageDto>,
    /// Named sales tools (《》 in the source).
    pub tools: Vec<ItemDto>,
    pub contact_roles: ContactRolesDto,
    /// Sections of the customer current-state survey (客户现状调查表).
    pub survey_sections: Vec<ItemDto>,
}

/// A playbook version.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybookVersionDto {
    pub version: i32,
    /// The stage the change authored; null for the built-in version.
    #[schema(value_type = Option<crate::domain::opportunity::StageCode>)]
    pub stage_code: Option<String>,
    pub created_by: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybookVersionList {
    pub items: Vec<PlaybookVersionDto>,
    pub next_cursor: Option<String>,
}

/// Paging of the version list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionsQuery {
    /// The language of error texts: `zh` or `en` (overrides `Accept-Language`).
    pub lang: Option<crate::domain::playbook::Lang>,
    /// Sync: only versions made at or after this time (RFC 3339; versions never change, and the
    /// built-in version 1 is left out), in version order.
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(max_length = 200, pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

/// Renders a playbook in `lang`.
pub fn render(version: i32, p: &Playbook, lang: Lang) -> PlaybookDto {
    let mut r = Renderer { lang, fallbacks: 0 };
    let stages = p.stages.iter().map(|s| r.stage(s)).collect();
    let tools = p
        .tools
        .iter()
        .map(|t| r.item(&t.code, &t.zh, &t.en))
        .collect();
    let contact_roles = ContactRolesDto {
        it_department: r.roles(&p.contact_roles.it_department),
        other_departments: r.roles(&p.contact_roles.other_departments),
    };
    let survey_sections = p
        .survey_sections
        .iter()
        .map(|s| r.item(&s.code, &s.zh, &s.en))
        .collect();
    PlaybookDto {
        version,
        lang,
        fallback_count: r.fallbacks,
        stages,
        tools,
        contact_roles,
        survey_sections,
    }
}

/// Texts in one language, counting those that fell back to the other.
struct Renderer {
    lang: Lang,
    fallbacks: usize,
}

impl Renderer {
    fn text(&mut self, zh: &Option<String>, en: &Option<String>) -> Localized {
        let l = localize(zh, en, self.lang);
        if l.fallback {
            self.fallbacks += 1;
        }
        l
    }

    fn item(&mut self, code: &str, zh: &Option<String>, en: &Option<String>) -> ItemDto {
        ItemDto {
            code: code.to_string(),
            text: self.text(zh, en),
        }
    }

    fn items(&mut self, list: &[playbook::Item]) -> Vec<ItemDto> {
        list.iter()
            .map(|i| self.item(&i.code, &i.zh, &i.en))
            .collect()
    }

    fn stage(&mut self, s: &playbook::Stage) -> StageDto {
        StageDto {
            code: s.code.clone(),
            order: s.order,
            name: self.text(&s.name.zh, &s.name.en),
            purchase_progress_percent: s.purchase_progress_percent,
            progress_is_default: s.default,
            authored: s.is_authored(),
            customer_goals: self.items(&s.customer_goals),
            customer_behaviours: self.items(&s.customer_behaviours),
            sales_milestones: self.items(&s.sales_milestones),
            key_actions: s
                .key_actions
                .iter()
                .map(|a| ActionDto {
                    code: a.code.clone(),
                    text: self.text(&a.zh, &a.en),
                    serves: a.serves.clone(),
                    tools: a.tools.clone(),
                })
                .collect(),
            notes: self.items(&s.notes),
        }
    }

    fn roles(&mut self, list: &[playbook::ContactRoleDef]) -> Vec<ContactRoleDto> {
        list.iter()
            .map(|r| ContactRoleDto {
                code: r.code.clone(),
                text: self.text(&r.zh, &r.en),
                visit_priority: r.visit_priority,
            })
            .collect()
    }
}

/// One version in one language: the ETag names both (the zh and en bodies differ).
fn respond(version: i32, p: &Playbook, lang: Lang) -> ApiResult<HttpResponse> {
    let mut b = HttpResponse::Ok();
    b.insert_header((header::CONTENT_LANGUAGE, lang.as_str()))
        .insert_header((header::VARY, "Accept-Language"));
    with_computed_etag(b, version, &render(version, p, lang))
}

/// Get the current playbook.
///
/// Six stages; stage 1 in full from the source (goals, 14 buying signals, 10 % progress,
/// 4 milestones, 10 key actions, note S1.N1), stages 2-6 as the tenant authored them. Texts in
/// the language asked by `?lang` or `Accept-Language` (default zh); a missing translation falls
/// back to the other language and says so (`fallback`).
#[utoipa::path(
    tag = "playbook",
    params(LangQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The current playbook.", body = PlaybookDto,
               headers(("ETag" = String, description = "The playbook version, for If-Match on PUT"),
                       ("Content-Language" = String, description = "The asked language"))))
)]
#[get("")]
pub async fn get_playbook(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: web::Query<LangQuery>,
) -> ApiResult<HttpResponse> {
    let lang = pick_lang(query.lang, &req);
    let mut conn = state.conn().await?;
    let (version, p) = svc::current(&mut conn, &principal).await?;
    respond(version, &p, lang)
}

/// List playbook versions.
///
/// Version 1 is the built-in methodology; each change made by an admin adds a version. Old
/// versions stay readable.
///
/// `cursor` must be a `next_cursor` this API returned (422 otherwise: the schema cannot tell a
/// cursor it issued).
///
/// With `updated_since`: the versions made at or after that time, in version order (versions
/// never change; the built-in version 1 has no time and is left out).
#[utoipa::path(
    tag = "playbook",
    params(VersionsQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "A page of versions, oldest first.", body = PlaybookVersionList))
)]
#[get("/versions")]
pub async fn list_playbook_versions(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<VersionsQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::<i64>::parse(query.limit, query.cursor.as_deref())?;
    let mut conn = state.conn().await?;
    let rows = svc::versions(
        &mut conn,
        &principal,
        page.after.unwrap_or(0),
        query.updated_since,
        page.fetch(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |v| i64::from(v.version));
    Ok(HttpResponse::Ok().json(PlaybookVersionList {
        items: rows
            .into_iter()
            .map(|v| PlaybookVersionDto {
                version: v.version,
                stage_code: v.stage_code,
                created_by: v.created_by,
                created_at: v.created_at,
            })
            .collect(),
        next_cursor,
    }))
}

/// Get one playbook version.
///
/// Version 1 is the built-in methodology; later ones are the tenant's. Texts in the language of
/// `?lang` or `Accept-Language`.
#[utoipa::path(
    tag = "playbook",
    params(("version" = i32, Path, description = "Playbook version (1 = built-in)"), LangQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "That version of the playbook.", body = PlaybookDto,
               headers(("Content-Language" = String, description = "The asked language"),
                       ("ETag" = String, description = "The version and language of this body"))))
)]
#[get("/versions/{version}")]
pub async fn get_playbook_version(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<i32>,
    query: web::Query<LangQuery>,
) -> ApiResult<HttpResponse> {
    let version = path.into_inner();
    let lang = pick_lang(query.lang, &req);
    let mut conn = state.conn().await?;
    let p = svc::version(&mut conn, &principal, version).await?;
    respond(version, &p, lang)
}

/// Author a stage (admins).
///
/// Sets the stage's goals, buying signals, milestones, key actions (with `serves` and `tools`),
/// notes and purchase-progress percentage; items without `code` are new and get the next code
/// (codes are never reused). Stage 1's built-in items cannot be edited or removed, only added
/// to. Every change creates a new playbook version. Send `If-Match` with the playbook ETag to
/// avoid overwriting a concurrent change.
///
/// Rules the schema cannot state (422): codes must be the stage's own, stage 1's built-in items
/// stay and its percentage is the source's, percentages increase with the stage order. A stale
/// `If-Match` is 412.
#[utoipa::path(
    tag = "playbook",
    params(("code" = crate::domain::opportunity::StageCode, Path, description = "Stage code, S1-S6"),
           ("If-Match" = Option<String>, Header, description = "ETag (version) of the playbook being changed"),
           LangQuery),
    request_body(content = StageInput, content_type = "application/json"),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The new playbook version.", body = PlaybookDto,
               headers(("ETag" = String, description = "The new playbook version"))))
)]
#[put("/stages/{code}")]
pub async fn put_playbook_stage(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    if_match: Precondition,
    path: web::Path<String>,
    query: web::Query<LangQuery>,
    body: JsonBody<StageInput>,
) -> ApiResult<HttpResponse> {
    let lang = pick_lang(query.lang, &req);
    let mut conn = state.conn().await?;
    let (version, p) =
        svc::author(&mut conn, &principal, &path.into_inner(), &if_match, body.0).await?;
    respond(version, &p, lang)
}
