//! The customer's org chart: contact vocabulary, the reporting tree, cycle detection and the
//! coverage summary that is the evidence for milestone S1.M1 (and the visit order of S1.A03).
//!
//! Pure code: no I/O.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::text_enum;

text_enum!(
    /// The department a contact works in.
    Department {
        It => "it",
        Procurement => "procurement",
        Finance => "finance",
        EquipmentOffice => "equipment_office",
        SeniorLeadership => "senior_leadership",
        Business => "business",
        Other => "other",
    }
);

text_enum!(
    /// The contact's role in the IT department as the methodology names it (S1.A03 visit order:
    /// head, deputy head, technical authority, general staff).
    MethodologyRole {
        ItHead => "it_head",
        ItDeputyHead => "it_deputy_head",
        TechnicalAuthority => "technical_authority",
        ItStaff => "it_staff",
    }
);

impl MethodologyRole {
    /// Visit priority of key action S1.A03 (1 = visit first).
    pub fn visit_priority(self) -> u8 {
        match self {
            MethodologyRole::ItHead => 1,
            MethodologyRole::ItDeputyHead => 2,
            MethodologyRole::TechnicalAuthority => 3,
            MethodologyRole::ItStaff => 4,
        }
    }
}

text_enum!(
    /// The contact's attitude towards us.
    Attitude {
        Supporter => "supporter",
        Neutral => "neutral",
        Opponent => "opponent",
        Unknown => "unknown",
    }
);

text_enum!(
    /// How far our relationship with the contact has come.
    Relationship {
        None => "none",
        Contacted => "contacted",
        Established => "established",
        Trusted => "trusted",
    }
);

impl Relationship {
    pub fn established_or_better(self) -> bool {
        matches!(self, Relationship::Established | Relationship::Trusted)
    }
}

text_enum!(
    /// The contact's influence on the purchase decision.
    Influence {
        High => "high",
        Medium => "medium",
        Low => "low",
    }
);

/// The facts about one contact that the org chart needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub department: Department,
    pub methodology_role: Option<MethodologyRole>,
    pub reports_to: Option<Uuid>,
    pub attitude: Attitude,
    pub relationship: Relationship,
    pub influence: Option<Influence>,
    pub key_person: bool,
    /// When the contact last took part in an activity (None: never).
    pub last_contacted_at: Option<DateTime<Utc>>,
}

/// "Now" and how many days without contact make a relationship stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recency {
    pub now: DateTime<Utc>,
    pub stale_days: i64,
}

/// Would pointing `child` at `new_parent` close a loop? `edges` maps every contact of the account
/// to its current manager.
pub fn would_create_cycle(
    edges: &HashMap<Uuid, Option<Uuid>>,
    child: Uuid,
    new_parent: Uuid,
) -> bool {
    let mut seen = HashSet::new();
    let mut cursor = Some(new_parent);
    while let Some(current) = cursor {
        if current == child {
            return true;
        }
        if !seen.insert(current) {
            // A pre-existing loop that does not involve `child`; stop walking.
            return false;
        }
        cursor = edges.get(&current).copied().flatten();
    }
    false
}

/// A node of the reporting tree.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrgNode {
    pub id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub department: Department,
    pub methodology_role: Option<MethodologyRole>,
    pub attitude: Attitude,
    pub relationship: Relationship,
    pub influence: Option<Influence>,
    pub key_person: bool,
    /// The contacts reporting to this one.
    #[schema(no_recursion)]
    pub reports: Vec<OrgNode>,
}

/// One entry of the S1.A03 visit order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VisitStep {
    pub priority: u8,
    pub methodology_role: MethodologyRole,
    /// The contact in that role (the first by name when several), or null when nobody is mapped.
    pub contact_id: Option<Uuid>,
    pub name: Option<String>,
    pub relationship: Option<Relationship>,
    /// True when the contact took part in an activity (a real visit, call, meeting, ...).
    pub reached: bool,
    pub last_contacted_at: Option<DateTime<Utc>>,
}

/// A key person or IT leader not contacted within the tenant's `stale_contact_days`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StaleContact {
    pub id: Uuid,
    pub name: String,
    /// Null when never contacted.
    pub last_contacted_at: Option<DateTime<Utc>>,
}

/// A contact reference in the coverage summary.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ContactRef {
    pub id: Uuid,
    pub name: String,
}

/// What the org chart covers: the evidence for milestone S1.M1.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Coverage {
    pub contact_count: usize,
    pub departments_mapped: Vec<Department>,
    /// Departments the methodology names (IT, procurement, finance, equipment office, senior
    /// leadership) with nobody mapped yet.
    pub departments_missing: Vec<Department>,
    pub roles_mapped: Vec<MethodologyRole>,
    pub roles_missing: Vec<MethodologyRole>,
    pub supporters: Vec<ContactRef>,
    pub opponents: Vec<ContactRef>,
    pub key_persons: Vec<ContactRef>,
    /// An IT head or deputy head is known.
    pub it_leadership_known: bool,
    /// At least one key person is a supporter.
    pub key_person_supporter: bool,
    /// Somebody in senior leadership with an established (or trusted) relationship (cf. S1.A10).
    pub senior_leadership_reached: bool,
    /// The S1.A03 visit order: IT head, deputy head, technical authority, general staff.
    pub visit_order: Vec<VisitStep>,
    /// The first step of the visit order whose contact is not reached yet, if any.
    pub next_visit: Option<VisitStep>,
    /// Key persons and IT leaders (head, deputy head) not contacted within the tenant's
    /// `stale_contact_days`.
    pub stale_contacts: Vec<StaleContact>,
}

/// Departments the methodology asks the seller to reach (S1.A03, S1.A10).
pub const RELEVANT_DEPARTMENTS: [Department; 5] = [
    Department::It,
    Department::Procurement,
    Department::Finance,
    Department::EquipmentOffice,
    Department::SeniorLeadership,
];

fn by_name(a: &Person, b: &Person) -> std::cmp::Ordering {
    a.name.cmp(&b.name).then(a.id.cmp(&b.id))
}

/// Builds the reporting forest. Contacts whose manager is unknown (or archived) are roots; a
/// pre-existing loop (impossible through the API) is broken by treating its members as roots.
pub fn build_tree(people: &[Person]) -> Vec<OrgNode> {
    let ids: HashSet<Uuid> = people.iter().map(|p| p.id).collect();
    let mut children: HashMap<Uuid, Vec<&Person>> = HashMap::new();
    let mut roots: Vec<&Person> = Vec::new();
    let edges: HashMap<Uuid, Option<Uuid>> = people.iter().map(|p| (p.id, p.reports_to)).collect();
    for p in people {
        match p.reports_to {
            Some(m) if ids.contains(&m) && !would_create_cycle(&edges, p.id, m) => {
                children.entry(m).or_default().push(p)
            }
            Some(m) if ids.contains(&m) => roots.push(p),
            _ => roots.push(p),
        }
    }
    // Members of a loop reach no root; make each of them a root so nobody disappears.
    let mut placed = HashSet::new();
    fn mark(id: Uuid, children: &HashMap<Uuid, Vec<&Person>>, placed: &mut HashSet<Uuid>) {
        if placed.insert(id) {
            for c in children.get(&id).into_iter().flatten() {
                mark(c.id, children, placed);
            }
        }
    }
    for r in &roots {
        mark(r.id, &children, &mut placed);
    }
    for p in people {
        if !placed.contains(&p.id) {
            roots.push(p);
            mark(p.id, &children, &mut placed);
        }
    }
    roots.sort_by(|a, b| by_name(a, b));
    let mut visited = HashSet::new();
    roots
        .into_iter()
        .filter_map(|r| node(r, &children, &mut visited))
        .collect()
}

fn node(
    p: &Person,
    children: &HashMap<Uuid, Vec<&Person>>,
    visited: &mut HashSet<Uuid>,
) -> Option<OrgNode> {
    if !visited.insert(p.id) {
        return None;
    }
    let mut kids: Vec<&Person> = children.get(&p.id).cloned().unwrap_or_default();
    kids.sort_by(|a, b| by_name(a, b));
    Some(OrgNode {
        id: p.id,
        name: p.name.clone(),
        title: p.title.clone(),
        department: p.department,
        methodology_role: p.methodology_role,
        attitude: p.attitude,
        relationship: p.relationship,
        influence: p.influence,
        key_person: p.key_person,
        reports: kids
            .into_iter()
            .filter_map(|k| node(k, children, visited))
            .collect(),
    })
}

fn refs<'a>(people: impl Iterator<Item = &'a Person>) -> Vec<ContactRef> {
    let mut v: Vec<&Person> = people.collect();
    v.sort_by(|a, b| by_name(a, b));
    v.into_iter()
        .map(|p| ContactRef {
            id: p.id,
            name: p.name.clone(),
        })
        .collect()
}

/// Summarises what the org chart covers.
pub fn coverage(people: &[Person]) -> Coverage {
    coverage_with(people, None)
}

/// Is `p` one whose relationship must stay fresh: a key person or an IT leader?
fn must_stay_in_touch(p: &Person) -> bool {
    p.key_person
        || matches!(
            p.methodology_role,
            Some(MethodologyRole::ItHead | MethodologyRole::ItDeputyHead)
        )
}

/// `coverage`, with the contacts gone stale as of `recency` (none without it).
pub fn coverage_with(people: &[Person], recency: Option<Recency>) -> Coverage {
    let departments: HashSet<Department> = people.iter().map(|p| p.department).collect();
    let roles: HashSet<MethodologyRole> =
        people.iter().filter_map(|p| p.methodology_role).collect();
    let mut departments_mapped: Vec<Department> = departments.iter().copied().collect();
    departments_mapped.sort();
    let departments_missing = RELEVANT_DEPARTMENTS
        .iter()
        .copied()
        .filter(|d| !departments.contains(d))
        .collect();
    let mut roles_mapped: Vec<MethodologyRole> = roles.iter().copied().collect();
    roles_mapped.sort();
    let roles_missing = MethodologyRole::ALL
        .iter()
        .copied()
        .filter(|r| !roles.contains(r))
        .collect();

    let visit_order: Vec<VisitStep> = MethodologyRole::ALL
        .iter()
        .map(|&role| visit_step(people, role))
        .collect();
    let next_visit = visit_order.iter().find(|s| !s.reached).cloned();

    Coverage {
        contact_count: people.len(),
        departments_mapped,
        departments_missing,
        roles_mapped,
        roles_missing,
        supporters: refs(people.iter().filter(|p| p.attitude == Attitude::Supporter)),
        opponents: refs(people.iter().filter(|p| p.attitude == Attitude::Opponent)),
        key_persons: refs(people.iter().filter(|p| p.key_person)),
        it_leadership_known: roles.contains(&MethodologyRole::ItHead)
            || roles.contains(&MethodologyRole::ItDeputyHead),
        key_person_supporter: people
            .iter()
            .any(|p| p.key_person && p.attitude == Attitude::Supporter),
        senior_leadership_reached: people.iter().any(|p| {
            p.department == Department::SeniorLeadership && p.relationship.established_or_better()
        }),
        visit_order,
        next_visit,
        stale_contacts: recency.map_or_else(Vec::new, |r| stale_contacts(people, r)),
    }
}

/// The step of the visit order (S1.A03) for `role`: a holder we already reached if any (so
/// the step shows the contact we have), else the first by name, else nobody yet.
fn visit_step(people: &[Person], role: MethodologyRole) -> VisitStep {
    let mut holders: Vec<&Person> = people
        .iter()
        .filter(|p| p.methodology_role == Some(role))
        .collect();
    holders.sort_by(|a, b| by_name(a, b));
    let chosen = holders
        .iter()
        .find(|p| p.last_contacted_at.is_some())
        .or(holders.first())
        .copied();
    VisitStep {
        priority: role.visit_priority(),
        methodology_role: role,
        contact_id: chosen.map(|p| p.id),
        name: chosen.map(|p| p.name.clone()),
        relationship: chosen.map(|p| p.relationship),
        reached: chosen.is_some_and(|p| p.last_contacted_at.is_some()),
        last_contacted_at: chosen.and_then(|p| p.last_contacted_at),
    }
}

/// Key people and IT leaders not contacted within the record's stale window, by name.
fn stale_contacts(people: &[Person], r: Recency) -> Vec<StaleContact> {
    let mut stale: Vec<&Person> = people
        .iter()
        .filter(|p| must_stay_in_touch(p))
        .filter(|p| {
            p.last_contacted_at
                .is_none_or(|at| (r.now - at).num_days() > r.stale_days)
        })
        .collect();
    stale.sort_by(|a, b| by_name(a, b));
    stale
        .into_iter()
        .map(|p| StaleContact {
            id: p.id,
            name: p.name.clone(),
            last_contacted_at: p.last_contacted_at,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn person(n: u128, name: &str, reports_to: Option<u128>) -> Person {
        Person {
            id: id(n),
            name: name.to_string(),
            title: None,
            department: Department::It,
            methodology_role: None,
            reports_to: reports_to.map(id),
            attitude: Attitude::Unknown,
            relationship: Relationship::None,
            influence: None,
            key_person: false,
            last_contacted_at: None,
        }
    }

    #[test]
    fn text_enums_round_trip() {
        for d in Department::ALL {
            assert_eq!(Department::parse(d.as_str()), Some(*d));
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
        for r in MethodologyRole::ALL {
            assert_eq!(MethodologyRole::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Attitude::parse("fan"), None);
        assert_eq!(Relationship::parse("trusted"), Some(Relationship::Trusted));
        assert_eq!(Influence::parse("high"), Some(Influence::High));
    }

    #[test]
    fn cycle_detection() {
        // 1 <- 2 <- 3 (3 reports to 2, 2 reports to 1)
        let edges: HashMap<Uuid, Option<Uuid>> =
            [(id(1), None), (id(2), Some(id(1))), (id(3), Some(id(2)))].into();
        assert!(
            would_create_cycle(&edges, id(1), id(3)),
            "1 -> 3 closes a loop"
        );
        assert!(would_create_cycle(&edges, id(1), id(1)), "self loop");
        assert!(!would_create_cycle(&edges, id(3), id(1)), "3 -> 1 is fine");
        assert!(
            !would_create_cycle(&edges, id(4), id(3)),
            "new contact under 3"
        );
        // A pre-existing loop elsewhere does not hang the walk.
        let looped: HashMap<Uuid, Option<Uuid>> =
            [(id(5), Some(id(6))), (id(6), Some(id(5)))].into();
        assert!(!would_create_cycle(&looped, id(1), id(5)));
    }

    #[test]
    fn tree_nests_reports_and_sorts_by_name() {
        let people = vec![
            person(1, "Zhang", None),
            person(2, "Li", Some(1)),
            person(3, "Wang", Some(1)),
            person(4, "Chen", Some(2)),
            person(5, "Orphan", Some(99)), // manager archived or unknown
        ];
        let tree = build_tree(&people);
        let names: Vec<&str> = tree.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["Orphan", "Zhang"]);
        let zhang = &tree[1];
        let kids: Vec<&str> = zhang.reports.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(kids, ["Li", "Wang"]);
        assert_eq!(zhang.reports[0].reports[0].name, "Chen");
    }

    #[test]
    fn tree_survives_a_stored_loop() {
        let people = vec![person(1, "A", Some(2)), person(2, "B", Some(1))];
        let tree = build_tree(&people);
        let count = |nodes: &[OrgNode]| -> usize {
            fn c(n: &OrgNode) -> usize {
                1 + n.reports.iter().map(c).sum::<usize>()
            }
            nodes.iter().map(c).sum()
        };
        assert_eq!(count(&tree), 2, "every contact appears exactly once");
    }

    #[test]
    fn empty_chart_covers_nothing() {
        let c = coverage(&[]);
        assert_eq!(c.contact_count, 0);
        assert!(!c.it_leadership_known);
        assert!(!c.key_person_supporter);
        assert!(!c.senior_leadership_reached);
        assert_eq!(c.departments_missing.len(), 5);
        assert_eq!(c.roles_missing.len(), 4);
        assert_eq!(c.visit_order.len(), 4);
        assert_eq!(
            c.next_visit.as_ref().unwrap().methodology_role,
            MethodologyRole::ItHead
        );
        assert!(c
            .visit_order
            .iter()
            .all(|s| s.contact_id.is_none() && !s.reached));
    }

    #[test]
    fn coverage_summarises_roles_supporters_and_leadership() {
        let mut head = person(1, "Head", None);
        head.methodology_role = Some(MethodologyRole::ItHead);
        head.relationship = Relationship::Established;
        head.last_contacted_at = chrono::DateTime::from_timestamp(1_795_000_000, 0);
        let mut deputy = person(2, "Deputy", Some(1));
        deputy.methodology_role = Some(MethodologyRole::ItDeputyHead);
        deputy.attitude = Attitude::Supporter;
        deputy.key_person = true;
        let mut boss = person(3, "Boss", None);
        boss.department = Department::SeniorLeadership;
        boss.relationship = Relationship::Contacted;
        let mut buyer = person(4, "Buyer", None);
        buyer.department = Department::Procurement;
        buyer.attitude = Attitude::Opponent;
        let c = coverage(&[head, deputy, boss.clone(), buyer]);
        assert!(c.it_leadership_known);
        assert!(c.key_person_supporter);
        assert!(!c.senior_leadership_reached, "contacted is not established");
        assert_eq!(c.supporters.len(), 1);
        assert_eq!(c.opponents[0].name, "Buyer");
        assert_eq!(
            c.departments_missing,
            vec![Department::Finance, Department::EquipmentOffice]
        );
        assert_eq!(
            c.roles_missing,
            vec![
                MethodologyRole::TechnicalAuthority,
                MethodologyRole::ItStaff
            ]
        );
        // Visit order: the head was visited, the deputy is next.
        assert!(c.visit_order[0].reached);
        assert_eq!(c.visit_order[1].name.as_deref(), Some("Deputy"));
        assert_eq!(c.next_visit.as_ref().unwrap().priority, 2);
        assert!(c.stale_contacts.is_empty(), "staleness needs a recency");

        boss.relationship = Relationship::Trusted;
        assert!(coverage(&[boss]).senior_leadership_reached);
    }

    #[test]
    fn reached_means_visited_and_key_people_go_stale() {
        let at = |days_ago: i64| Some(Utc::now() - chrono::Duration::days(days_ago));
        let mut head = person(1, "Head", None);
        head.methodology_role = Some(MethodologyRole::ItHead);
        head.relationship = Relationship::Trusted;
        let mut deputy = person(2, "Deputy", None);
        deputy.methodology_role = Some(MethodologyRole::ItDeputyHead);
        deputy.last_contacted_at = at(10);
        let mut key = person(3, "Key", None);
        key.key_person = true;
        key.last_contacted_at = at(90);
        let mut staff = person(4, "Staff", None);
        staff.last_contacted_at = at(400);
        let recency = Recency {
            now: Utc::now(),
            stale_days: 60,
        };
        let c = coverage_with(&[head, deputy, key, staff], Some(recency));
        assert!(
            !c.visit_order[0].reached,
            "a trusted relationship is not a visit"
        );
        assert!(c.visit_order[1].reached);
        assert_eq!(c.next_visit.as_ref().unwrap().name.as_deref(), Some("Head"));
        let stale: Vec<&str> = c.stale_contacts.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            stale,
            ["Head", "Key"],
            "never and 90 days ago; staff are not key"
        );
    }

    #[test]
    fn supporter_who_is_not_key_does_not_count_for_key_person_supporter() {
        let mut p = person(1, "A", None);
        p.attitude = Attitude::Supporter;
        let mut k = person(2, "B", None);
        k.key_person = true;
        let c = coverage(&[p, k]);
        assert!(!c.key_person_supporter);
        assert_eq!(c.key_persons.len(), 1);
    }
}
