ALTER TABLE stage_assessments DROP COLUMN basis;
ALTER TABLE tenant_settings DROP COLUMN record_window_days, DROP COLUMN stale_contact_days;
DROP TABLE activities;
