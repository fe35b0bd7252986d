-- CSV import jobs (issue 21): a file of one resource from a CRM of record, run by the worker row
-- by row. The file is kept with the job until it ends, so a job interrupted by a restart or a
-- crash resumes where it stopped (rows are written by reference: none twice).
CREATE TABLE import_jobs (
    id              uuid        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    resource        text        NOT NULL
        CHECK (resource IN ('accounts', 'contacts', 'opportunities', 'activities')),
    source          text        NOT NULL CHECK (source IN ('salesforce', 'hubspot', 'buyerpath')),
    dry_run         boolean     NOT NULL,
    status          text        NOT NULL
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    -- The file as uploaded, and its charset when the upload declared one; cleared at the end.
    file            bytea,
    charset         text,
    -- Currency of amounts when the file has no currency column.
    currency        text        NOT NULL,
    total_rows      integer,
    processed_rows  integer     NOT NULL DEFAULT 0,
    created         integer     NOT NULL DEFAULT 0,
    updated         integer     NOT NULL DEFAULT 0,
    unchanged       integer     NOT NULL DEFAULT 0,
    failed_rows     integer     NOT NULL DEFAULT 0,
    ignored_columns text[]      NOT NULL DEFAULT '{}',
    unmapped_values text[]      NOT NULL DEFAULT '{}',
    error           text,
    cancel_requested boolean    NOT NULL DEFAULT false,
    -- Who runs it: the rows are written as this user, with these roles.
    created_by      text        NOT NULL,
    roles           text[]      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer     NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, id)
);

-- A tenant runs one job at a time.
CREATE UNIQUE INDEX import_jobs_one_active_idx ON import_jobs (tenant_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX import_jobs_tenant_idx ON import_jobs (tenant_id, id);
CREATE INDEX import_jobs_pending_idx ON import_jobs (created_at) WHERE status IN ('queued', 'running');

-- What became of each row of a job's file: the row report.
CREATE TABLE import_rows (
    tenant_id   uuid    NOT NULL,
    job_id      uuid    NOT NULL,
    row_number  integer NOT NULL,
    status      text    NOT NULL CHECK (status IN ('created', 'updated', 'unchanged', 'error')),
    resource_id uuid,
    external_id text,
    errors      text,
    PRIMARY KEY (tenant_id, job_id, row_number),
    FOREIGN KEY (tenant_id, job_id) REFERENCES import_jobs (tenant_id, id) ON DELETE CASCADE
);

-- How a tenant's CRM values map to buyerpath's: `{"stages": {"salesforce": {"Qualification":
-- "S1"}}, "activity_kinds": {"salesforce": {"Meeting": "visit"}}}` (src/db/documents/mappings.rs).
ALTER TABLE tenant_settings ADD COLUMN import_mappings jsonb NOT NULL DEFAULT '{}';
