-- An import's file is kept in parts of up to 1 MiB, written by the upload one by one and read
-- by the worker a few ahead of its reader: no database message carries the whole file. (A
-- connection's buffers grow to the largest message it carried and keep that size: a 21 MiB file
-- in one bytea left 21 MiB and more on the upload's connection and again on the worker's.)
CREATE TABLE import_file_parts (
    tenant_id uuid    NOT NULL,
    job_id    uuid    NOT NULL,
    part      integer NOT NULL CHECK (part >= 0),
    bytes     bytea   NOT NULL,
    PRIMARY KEY (tenant_id, job_id, part),
    FOREIGN KEY (tenant_id, job_id) REFERENCES import_jobs (tenant_id, id) ON DELETE CASCADE
);

INSERT INTO import_file_parts (tenant_id, job_id, part, bytes)
SELECT tenant_id, id, 0, file FROM import_jobs WHERE file IS NOT NULL;

ALTER TABLE import_jobs DROP COLUMN file;
