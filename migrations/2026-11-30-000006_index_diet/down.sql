ALTER TABLE opportunities RESET (fillfactor);

DROP INDEX opportunities_pipeline_idx;
CREATE INDEX opportunities_pipeline_idx ON opportunities (tenant_id, current_stage, currency)
    INCLUDE (amount_minor, stage_entered_at, last_assessed_at, created_at, owner, account_id)
    WHERE status = 'open' AND archived_at IS NULL;

CREATE INDEX stage_assessments_opportunity_idx ON stage_assessments (tenant_id, opportunity_id, id DESC);
CREATE INDEX opportunities_tenant_id_idx ON opportunities (tenant_id, id);
CREATE INDEX contacts_account_idx ON contacts (tenant_id, account_id, id);
CREATE INDEX accounts_tenant_id_idx ON accounts (tenant_id, id);
