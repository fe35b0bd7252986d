ALTER TABLE stage_assessments
    ALTER COLUMN input SET COMPRESSION default,
    ALTER COLUMN judgement SET COMPRESSION default;
ALTER TABLE stage_assessments RESET (toast_tuple_target);

CREATE OR REPLACE FUNCTION buyerpath_event_horizon() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint
           + (SELECT xid_offset FROM event_clock WHERE id = 1)
$$;

CREATE OR REPLACE FUNCTION buyerpath_event_txid() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT pg_current_xact_id()::text::bigint + (SELECT xid_offset FROM event_clock WHERE id = 1)
$$;
