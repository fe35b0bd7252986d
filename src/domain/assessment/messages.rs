//! Every text the engine writes, in one catalogue keyed by message and language. The rules in
//! `steps` decide *what* to say; this file alone says *how*, in zh and en.

use super::model::ClaimStatus;
use crate::domain::playbook::Lang;

/// One message of the engine, with what it needs to be written.
#[derive(Debug, Clone, Copy)]
pub enum Msg<'a> {
    /// S1.M1 data check: no IT head or deputy head in the org chart.
    OrgNoItLeadership,
    /// S1.M1 data check: no key person is a supporter.
    OrgNoKeySupporter,
    /// S1.M1 data check passes.
    OrgConsistent,
    /// S1.M2 data check: the account has no survey.
    SurveyMissing,
    /// S1.M2 data check passes.
    SurveyComplete { percent: u8, threshold: u8 },
    /// S1.M2 data check: the latest survey is below the threshold.
    SurveyIncomplete {
        percent: u8,
        threshold: u8,
        missing: &'a [String],
    },
    /// A milestone claimed achieved that stored data contradicts.
    GapContradicted { code: &'a str, detail: &'a str },
    /// A milestone not achieved yet.
    GapNotAchieved { code: &'a str, status: ClaimStatus },
    /// A milestone with one source only (S1.N1).
    GapSingleSource { code: &'a str },
    /// A milestone no source supports.
    GapUnsupported { code: &'a str },
    /// The stage has no milestones to judge.
    NoMilestones { stage: &'a str },
    /// Added to the survey tool's recommendation: no survey yet.
    SurveyNotRecorded,
    /// Added to the survey tool's recommendation: what the survey lacks.
    SurveyLacks { missing: &'a [String] },
    /// The competitor, when the seller did not name it.
    SomeCompetitor,
    /// S1.A08 first: the requirements lean toward a competitor.
    WinBackRequirements { competitor: &'a str },
    /// S1.A08 and S1.A07 first: the requirements are unclear.
    GuideUnclearRequirements,
    /// Risk `seller_behind_customer`.
    SellerBehind {
        stage: &'a str,
        current: &'a str,
        open: &'a [&'a str],
    },
    /// Risk `competitor_leaning`.
    CompetitorLeaning { competitor: &'a str },
    /// Risk `no_supporter`.
    NoSupporter,
    /// Risk `no_senior_leadership_contact`.
    NoSeniorLeadership,
    /// Risk `unverified_key_information`.
    Unverified { codes: &'a [String] },
    /// Risk `stale_relationship`.
    StaleRelationship { names: &'a [String], days: i64 },
    /// Risk `single_threaded`.
    SingleThreaded { count: usize, name: &'a str },
    /// Added to S1.A03: who to visit next.
    NextVisit { name: &'a str },
    /// Added to S1.A03: the next role nobody is known in yet.
    RoleUnknown { role: &'a str },
    /// Added to S1.A03 (its note): departments beyond IT with nobody known yet.
    DepartmentsUnknown { names: &'a [String] },
    /// A signal's times and angles in the record, with who and which kinds.
    Seen {
        times: usize,
        angles: usize,
        who: &'a [String],
        kinds: &'a [&'a str],
    },
}

/// A list in running text: `a、b` in zh, `a, b` in en.
pub fn list<S: AsRef<str>>(lang: Lang, items: &[S]) -> String {
    let sep = match lang {
        Lang::Zh => "、",
        Lang::En => ", ",
    };
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<&str>>()
        .join(sep)
}

/// Several findings in one text (the same separator in both languages).
pub fn findings(items: &[String]) -> String {
    items.join("; ")
}

fn status(lang: Lang, s: ClaimStatus) -> &'static str {
    match (lang, s) {
        (Lang::Zh, ClaimStatus::Achieved) => "已达成",
        (Lang::Zh, ClaimStatus::InProgress) => "进行中",
        (Lang::Zh, ClaimStatus::NotStarted) => "未开始",
        (Lang::En, s) => s.as_str(),
    }
}

impl Msg<'_> {
    /// The message in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        use Lang::{En, Zh};
        match (*self, lang) {
            (Msg::OrgNoItLeadership, Zh) => "组织结构中没有信息部门主管或副主管".into(),
            (Msg::OrgNoItLeadership, En) => "no IT head or deputy head in the org chart".into(),
            (Msg::OrgNoKeySupporter, Zh) => "没有关键人物是支持者".into(),
            (Msg::OrgNoKeySupporter, En) => "no key person is a supporter".into(),
            (Msg::OrgConsistent, Zh) => "组织结构中有信息部门领导,且关键人物中有支持者".into(),
            (Msg::OrgConsistent, En) => {
                "the org chart knows the IT leadership and a key person supports us".into()
            }
            (Msg::SurveyMissing, Zh) => "该客户没有现状调查记录".into(),
            (Msg::SurveyMissing, En) => "the account has no current-state survey".into(),
            (Msg::SurveyComplete { percent, threshold }, Zh) => {
                format!("最新调查完整度 {percent}%(阈值 {threshold}%)")
            }
            (Msg::SurveyComplete { percent, threshold }, En) => {
                format!("latest survey is {percent}% complete (threshold {threshold}%)")
            }
            (
                Msg::SurveyIncomplete {
                    percent,
                    threshold,
                    missing,
                },
                Zh,
            ) => format!(
                "最新调查完整度仅 {percent}%(阈值 {threshold}%),缺少:{}",
                list(lang, missing)
            ),
            (
                Msg::SurveyIncomplete {
                    percent,
                    threshold,
                    missing,
                },
                En,
            ) => format!(
                "latest survey is only {percent}% complete (threshold {threshold}%); missing: {}",
                list(lang, missing)
            ),
            (Msg::GapContradicted { code, detail }, Zh) => {
                format!("{code}:声称已达成,但与已存数据矛盾({detail})")
            }
            (Msg::GapContradicted { code, detail }, En) => {
                format!("{code}: claimed achieved but contradicted by stored data ({detail})")
            }
            (Msg::GapNotAchieved { code, status: s }, Zh) => {
                format!("{code}:尚未达成({})", status(lang, s))
            }
            (Msg::GapNotAchieved { code, status: s }, En) => {
                format!("{code}: not achieved yet ({})", status(lang, s))
            }
            (Msg::GapSingleSource { code }, Zh) => {
                format!("{code}:只有单一来源,需多次、多角度验证(S1.N1)")
            }
            (Msg::GapSingleSource { code }, En) => {
                format!("{code}: only one source; verify several times from several angles (S1.N1)")
            }
            (Msg::GapUnsupported { code }, Zh) => format!("{code}:没有任何来源支持"),
            (Msg::GapUnsupported { code }, En) => format!("{code}: no source supports the claim"),
            (Msg::NoMilestones { stage }, Zh) => {
                format!("{stage} 在销售手册中没有里程碑,请先编写")
            }
            (Msg::NoMilestones { stage }, En) => {
                format!("{stage} has no milestones in the playbook; author them first")
            }
            (Msg::SurveyNotRecorded, Zh) => "尚无客户现状调查记录".into(),
            (Msg::SurveyNotRecorded, En) => "no current-state survey recorded yet".into(),
            (Msg::SurveyLacks { missing }, Zh) => format!("现状调查缺少:{}", list(lang, missing)),
            (Msg::SurveyLacks { missing }, En) => {
                format!("the survey lacks: {}", list(lang, missing))
            }
            (Msg::SomeCompetitor, Zh) => "某竞争对手".into(),
            (Msg::SomeCompetitor, En) => "a competitor".into(),
            (Msg::WinBackRequirements { competitor }, Zh) => format!(
                "客户需求偏向{competitor}:从业务等多角度帮客户分析风险,重新获得梳理需求的地位"
            ),
            (Msg::WinBackRequirements { competitor }, En) => format!(
                "requirements lean toward {competitor}: analyse risks from the business side to \
                 win back the role of re-shaping them"
            ),
            (Msg::GuideUnclearRequirements, Zh) => {
                "客户需求尚不明确:以我司对信息技术趋势的理解加以引导".into()
            }
            (Msg::GuideUnclearRequirements, En) => {
                "requirements are unclear: guide them toward a framework that favours us".into()
            }
            (
                Msg::SellerBehind {
                    stage,
                    current,
                    open,
                },
                Zh,
            ) => format!(
                "客户已处于 {stage},而 {current} 的里程碑仍未完成:{}",
                list(lang, open)
            ),
            (
                Msg::SellerBehind {
                    stage,
                    current,
                    open,
                },
                En,
            ) => format!(
                "the customer is in {stage} while milestones of {current} are still open: {}",
                list(lang, open)
            ),
            (Msg::CompetitorLeaning { competitor }, Zh) => format!("客户需求偏向{competitor}"),
            (Msg::CompetitorLeaning { competitor }, En) => {
                format!("requirements lean toward {competitor}")
            }
            (Msg::NoSupporter, Zh) => "客户联系人中还没有支持者".into(),
            (Msg::NoSupporter, En) => "no contact of the account is a supporter".into(),
            (Msg::NoSeniorLeadership, Zh) => "尚未与客户高层建立关系(S1.A10)".into(),
            (Msg::NoSeniorLeadership, En) => {
                "nobody in senior leadership with an established relationship (S1.A10)".into()
            }
            (Msg::Unverified { codes }, Zh) => format!(
                "以下信息尚未经多次、多角度验证(S1.N1):{}",
                list(lang, codes)
            ),
            (Msg::StaleRelationship { names, days }, Zh) => format!(
                "关键人物或信息部门领导超过 {days} 天未联系:{}",
                list(lang, names)
            ),
            (Msg::StaleRelationship { names, days }, En) => format!(
                "key persons or IT leaders not contacted for more than {days} days: {}",
                list(lang, names)
            ),
            (Msg::SingleThreaded { count, name }, Zh) => {
                format!("该项目的 {count} 次活动都只接触了同一位联系人:{name}")
            }
            (Msg::SingleThreaded { count, name }, En) => format!(
                "all {count} activities of the opportunity involve one single contact: {name}"
            ),
            (Msg::NextVisit { name }, Zh) => format!("下一位拜访对象:{name}"),
            (Msg::NextVisit { name }, En) => format!("next to visit: {name}"),
            (Msg::RoleUnknown { role }, Zh) => format!("尚不知道谁是{role}"),
            (Msg::RoleUnknown { role }, En) => format!("nobody known yet as {role}"),
            (
                Msg::Seen {
                    times,
                    angles,
                    who,
                    kinds,
                },
                Zh,
            ) => {
                let who = list(lang, who);
                let sep = if who.is_empty() { "" } else { " " };
                format!(
                    "{times} 次, {angles} 个角度: {who}{sep}({})",
                    list(lang, kinds)
                )
            }
            (
                Msg::Seen {
                    times,
                    angles,
                    who,
                    kinds,
                },
                En,
            ) => {
                let who = list(lang, who);
                let sep = if who.is_empty() { "" } else { " " };
                let t = if times == 1 { "time" } else { "times" };
                let a = if angles == 1 { "angle" } else { "angles" };
                format!(
                    "{times} {t}, {angles} {a}: {who}{sep}({})",
                    list(lang, kinds)
                )
            }
            (Msg::DepartmentsUnknown { names }, Zh) => {
                format!("还需结识{}的联系人", list(lang, names))
            }
            (Msg::DepartmentsUnknown { names }, En) => {
                format!("nobody known yet in {}", list(lang, names))
            }
            (Msg::Unverified { codes }, En) => format!(
                "not yet verified several times from several angles (S1.N1): {}",
                list(lang, codes)
            ),
        }
    }
}
