-- What the seller did: visits, meetings, calls, e-mails, events, documents. Activities are the
-- record the stage engine can judge from (S1.N1: verified several times, from several angles).
CREATE TABLE activities (
    id                    uuid        PRIMARY KEY,
    tenant_id             uuid        NOT NULL,
    account_id            uuid        NOT NULL,
    opportunity_id        uuid,
    kind                  text        NOT NULL
        CHECK (kind IN ('visit', 'meeting', 'call', 'email', 'event', 'document', 'other')),
    occurred_at           timestamptz NOT NULL,
    duration_minutes      integer     CHECK (duration_minutes BETWEEN 0 AND 10080),
    subject               text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    notes                 text,
    participants          uuid[]      NOT NULL DEFAULT '{}',
    our_attendees         text[]      NOT NULL DEFAULT '{}',
    key_actions           text[]      NOT NULL DEFAULT '{}',
    tools                 text[]      NOT NULL DEFAULT '{}',
    -- Buying signals seen or heard, and what was heard about the requirements: a versioned
    -- storage document (src/db/documents/activity.rs).
    findings              jsonb       NOT NULL,
    outcome               text,
    next_step_text        text,
    next_step_due_at      timestamptz,
    survey_record_id      uuid,
    created_by            text        NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    archived_at           timestamptz,
    version               integer     NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id),
    FOREIGN KEY (tenant_id, opportunity_id) REFERENCES opportunities (tenant_id, id),
    FOREIGN KEY (tenant_id, survey_record_id) REFERENCES survey_records (tenant_id, id)
);

CREATE INDEX activities_account_idx ON activities (tenant_id, account_id, occurred_at DESC, id DESC);
CREATE INDEX activities_opportunity_idx ON activities (tenant_id, opportunity_id, occurred_at DESC, id DESC)
    WHERE opportunity_id IS NOT NULL;
CREATE INDEX activities_participants_idx ON activities USING gin (participants);

ALTER TABLE tenant_settings
    ADD COLUMN stale_contact_days integer NOT NULL DEFAULT 60 CHECK (stale_contact_days BETWEEN 1 AND 3650),
    ADD COLUMN record_window_days integer NOT NULL DEFAULT 180 CHECK (record_window_days BETWEEN 1 AND 3650);

-- Whether an assessment judged the seller's claims or the record of activities.
ALTER TABLE stage_assessments
    ADD COLUMN basis text NOT NULL DEFAULT 'claims' CHECK (basis IN ('claims', 'record'));
