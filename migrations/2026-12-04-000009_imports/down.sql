ALTER TABLE tenant_settings DROP COLUMN import_mappings;
DROP TABLE import_rows;
DROP TABLE import_jobs;
