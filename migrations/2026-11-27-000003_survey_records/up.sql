-- Tenant settings (managed by tenant admins).
CREATE TABLE tenant_settings (
    tenant_id                         uuid        PRIMARY KEY,
    survey_completeness_threshold     integer     NOT NULL DEFAULT 80
        CHECK (survey_completeness_threshold BETWEEN 0 AND 100),
    updated_by                        text        NOT NULL,
    updated_at                        timestamptz NOT NULL DEFAULT now(),
    version                           integer     NOT NULL DEFAULT 1
);

-- Customer current-state survey records (客户现状调查表). Records are history: a new survey is
-- a new record.
CREATE TABLE survey_records (
    id                    uuid        PRIMARY KEY,
    tenant_id             uuid        NOT NULL,
    account_id            uuid        NOT NULL,
    opportunity_id        uuid,
    surveyed_at           timestamptz NOT NULL,
    surveyor              text        NOT NULL CHECK (length(surveyor) BETWEEN 1 AND 200),
    respondents           uuid[]      NOT NULL DEFAULT '{}',
    sections              jsonb       NOT NULL,
    completeness_percent  integer     NOT NULL CHECK (completeness_percent BETWEEN 0 AND 100),
    created_by            text        NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    archived_at           timestamptz,
    version               integer     NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id),
    FOREIGN KEY (tenant_id, opportunity_id) REFERENCES opportunities (tenant_id, id)
);

CREATE INDEX survey_records_account_idx ON survey_records (tenant_id, account_id, surveyed_at DESC, id DESC);

-- The inventory of every record, one row per item, so the installed base can be searched
-- across accounts. `is_latest` marks the items of each account's latest active record.
CREATE TABLE survey_inventory_items (
    id              bigserial   PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    survey_id       uuid        NOT NULL,
    account_id      uuid        NOT NULL,
    position        integer     NOT NULL,
    category        text        NOT NULL,
    brand           text        NOT NULL,
    model           text,
    quantity        integer     NOT NULL CHECK (quantity >= 0),
    deployed_year   integer,
    end_of_support  date,
    notes           text,
    is_latest       boolean     NOT NULL DEFAULT false,
    FOREIGN KEY (tenant_id, survey_id) REFERENCES survey_records (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX survey_inventory_survey_idx ON survey_inventory_items (tenant_id, survey_id);
CREATE INDEX survey_inventory_account_idx ON survey_inventory_items (tenant_id, account_id);
CREATE INDEX survey_inventory_latest_idx ON survey_inventory_items (tenant_id, id) WHERE is_latest;
CREATE INDEX survey_inventory_brand_idx ON survey_inventory_items (tenant_id, lower(brand), id) WHERE is_latest;
CREATE INDEX survey_inventory_model_idx ON survey_inventory_items (tenant_id, lower(model), id) WHERE is_latest;
CREATE INDEX survey_inventory_category_idx ON survey_inventory_items (tenant_id, category, id) WHERE is_latest;
CREATE INDEX survey_inventory_eos_idx ON survey_inventory_items (tenant_id, end_of_support) WHERE is_latest;
CREATE INDEX survey_inventory_year_idx ON survey_inventory_items (tenant_id, deployed_year) WHERE is_latest;
