-- Customer accounts and their org chart (contacts). Every row carries its tenant; every
-- cross-table reference includes the tenant so a row can never point at another tenant's parent.

CREATE TABLE accounts (
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    name        text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    industry    text        CHECK (industry IS NULL OR length(industry) <= 100),
    region      text        CHECK (region IS NULL OR length(region) <= 100),
    size_band   text        CHECK (size_band IS NULL OR size_band IN ('micro', 'small', 'medium', 'large', 'enterprise')),
    website     text        CHECK (website IS NULL OR length(website) <= 500),
    tags        text[]      NOT NULL DEFAULT '{}',
    notes       text        CHECK (notes IS NULL OR length(notes) <= 10000),
    owner       text        NOT NULL,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz,
    version     integer     NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, id)
);

-- Keyset pagination runs over (tenant_id, id); ids are time-ordered UUIDv7.
CREATE INDEX accounts_tenant_id_idx ON accounts (tenant_id, id);
CREATE INDEX accounts_tenant_owner_idx ON accounts (tenant_id, owner, id);
CREATE INDEX accounts_tenant_industry_idx ON accounts (tenant_id, industry, id);
CREATE INDEX accounts_tags_idx ON accounts USING gin (tags);

CREATE TABLE contacts (
    id               uuid        PRIMARY KEY,
    tenant_id        uuid        NOT NULL,
    account_id       uuid        NOT NULL,
    name             text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    title            text        CHECK (title IS NULL OR length(title) <= 200),
    department       text        NOT NULL DEFAULT 'other' CHECK (department IN
                         ('it', 'procurement', 'finance', 'equipment_office', 'senior_leadership', 'business', 'other')),
    methodology_role text        CHECK (methodology_role IS NULL OR methodology_role IN
                         ('it_head', 'it_deputy_head', 'technical_authority', 'it_staff')),
    reports_to       uuid,
    attitude         text        NOT NULL DEFAULT 'unknown' CHECK (attitude IN ('supporter', 'neutral', 'opponent', 'unknown')),
    relationship     text        NOT NULL DEFAULT 'none' CHECK (relationship IN ('none', 'contacted', 'established', 'trusted')),
    influence        text        CHECK (influence IS NULL OR influence IN ('high', 'medium', 'low')),
    key_person       boolean     NOT NULL DEFAULT false,
    phone            text        CHECK (phone IS NULL OR length(phone) <= 50),
    email            text        CHECK (email IS NULL OR length(email) <= 320),
    notes            text        CHECK (notes IS NULL OR length(notes) <= 10000),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    archived_at      timestamptz,
    version          integer     NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, account_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id, reports_to) REFERENCES contacts (tenant_id, account_id, id),
    CHECK (reports_to IS NULL OR reports_to <> id)
);

CREATE INDEX contacts_account_idx ON contacts (tenant_id, account_id, id);
