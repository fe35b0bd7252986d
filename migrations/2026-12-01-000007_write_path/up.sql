-- Less work for PostgreSQL on every write (measured with bench/run.sh; docs/benchmarks.md).

-- An event's position is the default of `events.txid`. As a SQL function with a sub-select it
-- could not be inlined, so PostgreSQL parsed and planned its body again for every event
-- inserted (7 % of the database's time for a stage assessment); PL/pgSQL keeps the plan for
-- the session. Same results.
CREATE OR REPLACE FUNCTION buyerpath_event_txid() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN pg_current_xact_id()::text::bigint + (SELECT xid_offset FROM event_clock WHERE id = 1);
END
$$;

CREATE OR REPLACE FUNCTION buyerpath_event_horizon() RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN pg_snapshot_xmin(pg_current_snapshot())::text::bigint
           + (SELECT xid_offset FROM event_clock WHERE id = 1);
END
$$;

-- A judgement of a fully authored stage is about 6.5 KB of JSON. pglz compressed it to 3.7 KB,
-- still over the 2 KB at which a row's values move out of line, so every such assessment also
-- wrote a TOAST row and its index entry. lz4 compresses several times faster, and rows up to
-- 4 KB stay on their page. New values only; lz4 where this PostgreSQL was built with it.
ALTER TABLE stage_assessments SET (toast_tuple_target = 4096);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE stage_assessments
            ALTER COLUMN input SET COMPRESSION lz4,
            ALTER COLUMN judgement SET COMPRESSION lz4;
    END IF;
END
$$;
