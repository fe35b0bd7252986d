ALTER TABLE import_jobs ADD COLUMN file bytea;
UPDATE import_jobs j SET file = (
    SELECT string_agg(p.bytes, ''::bytea ORDER BY p.part) FROM import_file_parts p
    WHERE p.tenant_id = j.tenant_id AND p.job_id = j.id);
DROP TABLE import_file_parts;
