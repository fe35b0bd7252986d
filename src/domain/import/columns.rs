//! Which column of a source's file holds what. Column names are matched without regard to case,
//! spaces, underscores and hyphens (`Account Name`, `account_name`, `AccountName`), so Data
//! Loader's API names and report labels both read.

use super::{ImportResource, ImportSource};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The row's id in the source: its reference there.
    Id,
    /// buyerpath's own id (the `buyerpath` source).
    OwnId,
    /// More references, `system:id` separated by spaces (the `buyerpath` source).
    ExternalRefs,
    Name,
    FirstName,
    LastName,
    Industry,
    Website,
    /// A company's domain (`example.com`): its website.
    Domain,
    Region,
    State,
    City,
    SizeBand,
    Tags,
    Notes,
    Owner,
    /// The account's id in the source.
    AccountRef,
    Title,
    Department,
    MethodologyRole,
    Attitude,
    Relationship,
    Influence,
    KeyPerson,
    Email,
    Phone,
    Mobile,
    /// The manager's id in the source.
    ReportsToRef,
    Stage,
    Status,
    Amount,
    Currency,
    ExpectedStart,
    CloseDate,
    Description,
    Competitors,
    /// The contact's id in the source (Salesforce `WhoId`; HubSpot's associated contacts).
    WhoRef,
    /// The opportunity's or account's id in the source (Salesforce `WhatId`).
    WhatRef,
    OpportunityRef,
    Kind,
    Subject,
    /// When it happened: a date, or a date and time.
    OccurredAt,
    /// When it started, with a time (preferred over `OccurredAt`).
    StartAt,
    Duration,
    Outcome,
    Participants,
    KeyActions,
    Tools,
    Observations,
    Requirements,
    NextStep,
    OurAttendees,
}

use Field as F;

const SALESFORCE_ACCOUNTS: &[(&str, Field)] = &[
    ("id", F::Id),
    ("accountid", F::Id),
    ("name", F::Name),
    ("accountname", F::Name),
    ("industry", F::Industry),
    ("website", F::Website),
    ("billingstate", F::State),
    ("billingstateprovince", F::State),
    ("billingcity", F::City),
    ("description", F::Notes),
];

const SALESFORCE_CONTACTS: &[(&str, Field)] = &[
    ("id", F::Id),
    ("contactid", F::Id),
    ("accountid", F::AccountRef),
    ("firstname", F::FirstName),
    ("lastname", F::LastName),
    ("name", F::Name),
    ("title", F::Title),
    ("department", F::Department),
    ("email", F::Email),
    ("phone", F::Phone),
    ("mobilephone", F::Mobile),
    ("mobile", F::Mobile),
    ("reportstoid", F::ReportsToRef),
    ("description", F::Notes),
];

const SALESFORCE_OPPORTUNITIES: &[(&str, Field)] = &[
    ("id", F::Id),
    ("opportunityid", F::Id),
    ("accountid", F::AccountRef),
    ("name", F::Name),
    ("opportunityname", F::Name),
    ("stagename", F::Stage),
    ("stage", F::Stage),
    ("amount", F::Amount),
    ("currencyisocode", F::Currency),
    ("opportunitycurrency", F::Currency),
    ("closedate", F::CloseDate),
    ("description", F::Description),
];

const SALESFORCE_ACTIVITIES: &[(&str, Field)] = &[
    ("id", F::Id),
    ("activityid", F::Id),
    ("whoid", F::WhoRef),
    ("whatid", F::WhatRef),
    ("accountid", F::AccountRef),
    ("subject", F::Subject),
    ("activitydate", F::OccurredAt),
    ("date", F::OccurredAt),
    ("startdatetime", F::StartAt),
    ("durationinminutes", F::Duration),
    ("description", F::Notes),
    ("comments", F::Notes),
    ("tasksubtype", F::Kind),
    ("eventsubtype", F::Kind),
    ("type", F::Kind),
];

const HUBSPOT_COMPANIES: &[(&str, Field)] = &[
    ("recordid", F::Id),
    ("hsobjectid", F::Id),
    ("companyname", F::Name),
    ("name", F::Name),
    ("companydomainname", F::Domain),
    ("domain", F::Domain),
    ("website", F::Website),
    ("websiteurl", F::Website),
    ("city", F::City),
    ("stateregion", F::State),
    ("state", F::State),
    ("industry", F::Industry),
    ("description", F::Notes),
];

const HUBSPOT_CONTACTS: &[(&str, Field)] = &[
    ("recordid", F::Id),
    ("hsobjectid", F::Id),
    ("firstname", F::FirstName),
    ("lastname", F::LastName),
    ("email", F::Email),
    ("jobtitle", F::Title),
    ("phonenumber", F::Phone),
    ("phone", F::Phone),
    ("mobilephonenumber", F::Mobile),
    ("mobilephone", F::Mobile),
    ("associatedcompanyids", F::AccountRef),
    ("associatedcompanyid", F::AccountRef),
    ("associatedcompanyidsprimary", F::AccountRef),
];

const HUBSPOT_DEALS: &[(&str, Field)] = &[
    ("recordid", F::Id),
    ("hsobjectid", F::Id),
    ("dealname", F::Name),
    ("dealstage", F::Stage),
    ("amount", F::Amount),
    ("dealcurrencycode", F::Currency),
    ("currency", F::Currency),
    ("closedate", F::CloseDate),
    ("dealdescription", F::Description),
    ("description", F::Description),
    ("associatedcompanyids", F::AccountRef),
    ("associatedcompanyid", F::AccountRef),
    ("associatedcompanyidsprimary", F::AccountRef),
];

const HUBSPOT_ACTIVITIES: &[(&str, Field)] = &[
    ("recordid", F::Id),
    ("hsobjectid", F::Id),
    ("activitytype", F::Kind),
    ("engagementtype", F::Kind),
    ("type", F::Kind),
    ("activitydate", F::OccurredAt),
    ("hstimestamp", F::OccurredAt),
    ("createdate", F::OccurredAt),
    ("subject", F::Subject),
    ("title", F::Subject),
    ("calltitle", F::Subject),
    ("meetingname", F::Subject),
    ("body", F::Notes),
    ("notes", F::Notes),
    ("callnotes", F::Notes),
    ("meetingdescription", F::Notes),
    ("callduration", F::Duration),
    ("durationinminutes", F::Duration),
    ("associatedcontactids", F::WhoRef),
    ("associatedcompanyids", F::AccountRef),
    ("associateddealids", F::OpportunityRef),
];

const BUYERPATH_COMMON: &[(&str, Field)] = &[
    ("id", F::OwnId),
    ("externalrefs", F::ExternalRefs),
    ("accountid", F::AccountRef),
    ("notes", F::Notes),
    ("owner", F::Owner),
];

const BUYERPATH_ACCOUNTS: &[(&str, Field)] = &[
    ("name", F::Name),
    ("industry", F::Industry),
    ("region", F::Region),
    ("sizeband", F::SizeBand),
    ("website", F::Website),
    ("tags", F::Tags),
];

const BUYERPATH_CONTACTS: &[(&str, Field)] = &[
    ("name", F::Name),
    ("title", F::Title),
    ("department", F::Department),
    ("methodologyrole", F::MethodologyRole),
    ("reportsto", F::ReportsToRef),
    ("attitude", F::Attitude),
    ("relationship", F::Relationship),
    ("influence", F::Influence),
    ("keyperson", F::KeyPerson),
    ("phone", F::Phone),
    ("email", F::Email),
];

const BUYERPATH_OPPORTUNITIES: &[(&str, Field)] = &[
    ("name", F::Name),
    ("description", F::Description),
    ("estimatedamount", F::Amount),
    ("currency", F::Currency),
    ("expectedstart", F::ExpectedStart),
    ("deadline", F::CloseDate),
    ("status", F::Status),
    ("currentstage", F::Stage),
    ("competitors", F::Competitors),
];

const BUYERPATH_ACTIVITIES: &[(&str, Field)] = &[
    ("opportunityid", F::OpportunityRef),
    ("kind", F::Kind),
    ("occurredat", F::StartAt),
    ("durationminutes", F::Duration),
    ("subject", F::Subject),
    ("participants", F::Participants),
    ("ourattendees", F::OurAttendees),
    ("keyactions", F::KeyActions),
    ("tools", F::Tools),
    ("observations", F::Observations),
    ("requirements", F::Requirements),
    ("outcome", F::Outcome),
    ("nextstep", F::NextStep),
];

/// The columns a source's file of `resource` may have.
fn table(source: ImportSource, resource: ImportResource) -> Vec<&'static [(&'static str, Field)]> {
    use ImportResource as R;
    match (source, resource) {
        (ImportSource::Salesforce, R::Accounts) => vec![SALESFORCE_ACCOUNTS],
        (ImportSource::Salesforce, R::Contacts) => vec![SALESFORCE_CONTACTS],
        (ImportSource::Salesforce, R::Opportunities) => vec![SALESFORCE_OPPORTUNITIES],
        (ImportSource::Salesforce, R::Activities) => vec![SALESFORCE_ACTIVITIES],
        (ImportSource::Hubspot, R::Accounts) => vec![HUBSPOT_COMPANIES],
        (ImportSource::Hubspot, R::Contacts) => vec![HUBSPOT_CONTACTS],
        (ImportSource::Hubspot, R::Opportunities) => vec![HUBSPOT_DEALS],
        (ImportSource::Hubspot, R::Activities) => vec![HUBSPOT_ACTIVITIES],
        (ImportSource::Buyerpath, R::Accounts) => vec![BUYERPATH_COMMON, BUYERPATH_ACCOUNTS],
        (ImportSource::Buyerpath, R::Contacts) => vec![BUYERPATH_COMMON, BUYERPATH_CONTACTS],
        (ImportSource::Buyerpath, R::Opportunities) => {
            vec![BUYERPATH_COMMON, BUYERPATH_OPPORTUNITIES]
        }
        (ImportSource::Buyerpath, R::Activities) => vec![BUYERPATH_COMMON, BUYERPATH_ACTIVITIES],
    }
}

/// A column name as matched: lowercase letters and digits only (`Account Name` → `accountname`).
pub fn normalize(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What each column of a file holds, and the columns without a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `(header, field)` of the columns read, in the file's order; the first of two columns
    /// holding the same field wins.
    pub columns: Vec<(String, Field)>,
    /// Headers no field is read from.
    pub ignored: Vec<String>,
}

impl Layout {
    /// The layout of a file with `headers`.
    pub fn of(source: ImportSource, resource: ImportResource, headers: &[String]) -> Layout {
        let tables = table(source, resource);
        let mut columns: Vec<(String, Field)> = Vec::new();
        let mut ignored = Vec::new();
        for h in headers {
            let key = normalize(h);
            let field = tables
                .iter()
                .flat_map(|t| t.iter())
                .find(|(name, _)| *name == key)
                .map(|(_, f)| *f);
            match field {
                Some(f) if !columns.iter().any(|(_, g)| *g == f) => columns.push((h.clone(), f)),
                _ => ignored.push(h.clone()),
            }
        }
        Layout { columns, ignored }
    }

    /// The header of the column holding `field`, if the file has one.
    pub fn header(&self, field: Field) -> Option<&str> {
        self.columns
            .iter()
            .find(|(_, f)| *f == field)
            .map(|(h, _)| h.as_str())
    }

    /// Whether the file has a column for `field`.
    pub fn has(&self, field: Field) -> bool {
        self.header(field).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn api_names_and_report_labels_both_read() {
        let api = Layout::of(
            ImportSource::Salesforce,
            ImportResource::Accounts,
            &headers(&["Id", "Name", "BillingCity", "Phone", "OwnerId"]),
        );
        assert_eq!(api.header(Field::Name), Some("Name"));
        assert_eq!(api.header(Field::City), Some("BillingCity"));
        assert_eq!(api.ignored, ["Phone", "OwnerId"]);
        let report = Layout::of(
            ImportSource::Salesforce,
            ImportResource::Accounts,
            &headers(&["Account ID", "Account Name", "Billing City"]),
        );
        assert_eq!(report.header(Field::Id), Some("Account ID"));
        assert_eq!(report.header(Field::Name), Some("Account Name"));
        assert!(report.ignored.is_empty());
    }

    #[test]
    fn hubspot_labels_and_internal_names_read_and_a_second_column_is_ignored() {
        let l = Layout::of(
            ImportSource::Hubspot,
            ImportResource::Accounts,
            &headers(&["Record ID", "Company name", "name", "Company Domain Name"]),
        );
        assert_eq!(l.header(Field::Id), Some("Record ID"));
        assert_eq!(l.header(Field::Name), Some("Company name"));
        assert_eq!(l.header(Field::Domain), Some("Company Domain Name"));
        assert_eq!(l.ignored, ["name"]);
        assert_eq!(normalize("hs_object_id"), "hsobjectid");
    }
}
