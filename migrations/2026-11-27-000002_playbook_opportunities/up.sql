-- Tenant playbook versions: each row is the tenant's complete authored overlay on top of the
-- built-in methodology (version 1, implicit). Rows are never updated.
CREATE TABLE playbook_versions (
    tenant_id   uuid        NOT NULL,
    version     integer     NOT NULL CHECK (version >= 2),
    overlay     jsonb       NOT NULL,
    stage_code  text        NOT NULL,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, version)
);

-- Purchase projects.
CREATE TABLE opportunities (
    id                    uuid        PRIMARY KEY,
    tenant_id             uuid        NOT NULL,
    account_id            uuid        NOT NULL,
    name                  text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    description           text        CHECK (description IS NULL OR length(description) <= 10000),
    -- Minor units (cents) to keep money exact.
    amount_minor          bigint      CHECK (amount_minor IS NULL OR amount_minor >= 0),
    currency              text        CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$'),
    expected_start        date,
    deadline              date,
    status                text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost', 'abandoned')),
    current_stage         text        NOT NULL DEFAULT 'S1' CHECK (current_stage ~ '^S[1-6]$'),
    stage_entered_at      timestamptz NOT NULL DEFAULT now(),
    competitors           jsonb       NOT NULL DEFAULT '[]',
    owner                 text        NOT NULL,
    created_by            text        NOT NULL,
    last_assessed_at      timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    archived_at           timestamptz,
    version               integer     NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id),
    CHECK (deadline IS NULL OR expected_start IS NULL OR deadline >= expected_start),
    CHECK ((amount_minor IS NULL) = (currency IS NULL))
);

CREATE INDEX opportunities_tenant_id_idx ON opportunities (tenant_id, id);
CREATE INDEX opportunities_account_idx ON opportunities (tenant_id, account_id, id);
CREATE INDEX opportunities_owner_idx ON opportunities (tenant_id, owner, id);
-- The pipeline aggregates open, active opportunities per stage.
CREATE INDEX opportunities_pipeline_idx ON opportunities (tenant_id, current_stage, currency)
    INCLUDE (amount_minor, stage_entered_at, last_assessed_at, created_at, owner, account_id)
    WHERE status = 'open' AND archived_at IS NULL;

CREATE TABLE stage_assessments (
    id               uuid        PRIMARY KEY,
    tenant_id        uuid        NOT NULL,
    opportunity_id   uuid        NOT NULL,
    playbook_version integer     NOT NULL,
    from_stage       text        NOT NULL,
    evidence_stage   text        NOT NULL,
    lang             text        NOT NULL CHECK (lang IN ('zh', 'en')),
    input            jsonb       NOT NULL,
    judgement        jsonb       NOT NULL,
    applied          boolean     NOT NULL DEFAULT false,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, opportunity_id, id),
    FOREIGN KEY (tenant_id, opportunity_id) REFERENCES opportunities (tenant_id, id)
);

CREATE INDEX stage_assessments_opportunity_idx ON stage_assessments (tenant_id, opportunity_id, id DESC);

CREATE TABLE stage_history (
    id              uuid        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    opportunity_id  uuid        NOT NULL,
    from_stage      text        NOT NULL,
    to_stage        text        NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT now(),
    changed_by      text        NOT NULL,
    reason          text        CHECK (reason IS NULL OR length(reason) <= 2000),
    assessment_id   uuid,
    FOREIGN KEY (tenant_id, opportunity_id) REFERENCES opportunities (tenant_id, id),
    FOREIGN KEY (tenant_id, opportunity_id, assessment_id)
        REFERENCES stage_assessments (tenant_id, opportunity_id, id)
);

CREATE INDEX stage_history_opportunity_idx ON stage_history (tenant_id, opportunity_id, changed_at);
