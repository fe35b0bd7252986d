//! An assessment as clients see it, stored or drafted.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db;
use crate::db::documents;
use crate::db::opportunities::Assessment;
use crate::domain::assessment::{AssessmentInput, Basis, Judgement};
use crate::domain::opportunity::StageCode;
use crate::domain::playbook::Lang;
use crate::error::ApiResult;
use crate::service::corrupt;

/// A recorded stage assessment: what the seller knew and the engine's judgement.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AssessmentDto)]
pub struct AssessmentView {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    /// The playbook version the judgement used.
    pub playbook_version: i32,
    /// The opportunity's stage when the assessment was made.
    pub opportunity_stage: StageCode,
    /// The language of the judgement's texts.
    pub lang: Lang,
    /// What the assessment rests on: the seller's claims, or the record of activities.
    pub basis: Basis,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The evidence as submitted.
    pub input: AssessmentInput,
    #[serde(flatten)]
    pub judgement: Judgement,
}

/// What the record supports now: a judgement without storing it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentDraft {
    pub opportunity_id: Uuid,
    pub playbook_version: i32,
    pub opportunity_stage: StageCode,
    pub lang: Lang,
    /// Always `record`.
    pub basis: Basis,
    /// The evidence built from the record.
    pub input: AssessmentInput,
    #[serde(flatten)]
    pub judgement: Judgement,
}

/// The view of a stored assessment.
pub(super) fn view(row: Assessment) -> ApiResult<AssessmentView> {
    let lang = Lang::parse(&row.lang).ok_or_else(|| {
        corrupt(
            "assessment language",
            row.id,
            format!("unknown value {:?}", row.lang),
        )
    })?;
    let basis = db::code("stage_assessments.basis of", row.id, &row.basis)?;
    let input = documents::assessment::read_input(row.input.clone(), row.id)?;
    let judgement = documents::assessment::read_judgement(row.judgement.clone(), row.id)?;
    view_of(&row, basis, lang, input, judgement)
}

/// The view of an assessment from its row and the documents it was stored from.
pub(super) fn view_of(
    row: &Assessment,
    basis: Basis,
    lang: Lang,
    input: AssessmentInput,
    judgement: Judgement,
) -> ApiResult<AssessmentView> {
    Ok(AssessmentView {
        id: row.id,
        opportunity_id: row.opportunity_id,
        playbook_version: row.playbook_version,
        opportunity_stage: db::code("stage_assessments.from_stage of", row.id, &row.from_stage)?,
        lang,
        basis,
        created_by: row.created_by.clone(),
        created_at: row.created_at,
        input,
        judgement,
    })
}
