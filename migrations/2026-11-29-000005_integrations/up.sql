-- Integrations: the event log (a transactional outbox), webhook endpoints and their deliveries,
-- idempotency keys, and indexes for `updated_since` sync.

-- Every committed change appends its events in the same transaction. Readers see an event only
-- once every transaction that started before its own has ended (txid < the snapshot's xmin),
-- so the order (txid, seq) never gains an entry behind a position already read.
--
-- Transaction ids belong to a cluster: a database restored into another cluster may hold
-- events with higher ids than the new cluster hands out. Positions therefore add an offset
-- (event_clock), which the service raises at start when stored events are ahead of the
-- cluster, so new events still sort after every restored one and old cursors stay valid.
CREATE TABLE event_clock (
    id          smallint PRIMARY KEY CHECK (id = 1),
    xid_offset  bigint   NOT NULL
);
INSERT INTO event_clock (id, xid_offset) VALUES (1, 0);

-- The position of this transaction's events.
CREATE FUNCTION buyerpath_event_txid() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT pg_current_xact_id()::text::bigint + (SELECT xid_offset FROM event_clock WHERE id = 1)
$$;

-- Events below this position are settled: no running transaction can still add one there.
CREATE FUNCTION buyerpath_event_horizon() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint
           + (SELECT xid_offset FROM event_clock WHERE id = 1)
$$;

CREATE TABLE events (
    seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid         bigint      NOT NULL DEFAULT buyerpath_event_txid(),
    id           uuid        NOT NULL UNIQUE,
    tenant_id    uuid        NOT NULL,
    event_type   text        NOT NULL CHECK (event_type ~ '^[a-z_]+\.[a-z_]+$'),
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    -- The event's `data`: a versioned storage document (src/db/documents/event.rs).
    data         jsonb       NOT NULL
);
CREATE INDEX events_tenant_position_idx ON events (tenant_id, txid, seq);
CREATE INDEX events_position_idx ON events (txid, seq);
CREATE INDEX events_occurred_idx ON events (occurred_at);

-- How far the webhook dispatcher has read the log (one row; locked by the replica dispatching).
CREATE TABLE event_dispatch (
    id    smallint PRIMARY KEY CHECK (id = 1),
    txid  bigint   NOT NULL,
    seq   bigint   NOT NULL
);
INSERT INTO event_dispatch (id, txid, seq) VALUES (1, 0, 0);

CREATE TABLE webhook_endpoints (
    id                          uuid        PRIMARY KEY,
    tenant_id                   uuid        NOT NULL,
    url                         text        NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description                 text,
    event_types                 text[]      NOT NULL,
    enabled                     boolean     NOT NULL DEFAULT true,
    disabled_reason             text,
    failing_since               timestamptz,
    secret                      text        NOT NULL,
    previous_secret             text,
    previous_secret_expires_at  timestamptz,
    created_by                  text        NOT NULL,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    version                     integer     NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
    id               uuid        PRIMARY KEY,
    tenant_id        uuid        NOT NULL,
    endpoint_id      uuid        NOT NULL,
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    -- The exact bytes sent (and signed) on every attempt.
    body             text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    claimed_until    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (tenant_id, endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (updated_at) WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
    id               uuid        PRIMARY KEY,
    tenant_id        uuid        NOT NULL,
    delivery_id      uuid        NOT NULL,
    attempted_at     timestamptz NOT NULL,
    response_status  integer,
    duration_ms      integer     NOT NULL,
    -- The first 1 KiB of the response body.
    response_body    text,
    error            text,
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (tenant_id, delivery_id, attempted_at);

-- The first response to a POST with an Idempotency-Key, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    tenant_id        uuid        NOT NULL,
    principal        text        NOT NULL,
    key              text        NOT NULL,
    request_hash     text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- While the first request runs: until when it holds the key.
    locked_until     timestamptz,
    response_status  integer,
    content_type     text,
    location         text,
    etag             text,
    response_body    bytea,
    PRIMARY KEY (tenant_id, principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- `updated_since` sync: (updated_at, id) order per tenant.
CREATE INDEX accounts_updated_idx ON accounts (tenant_id, updated_at, id);
CREATE INDEX contacts_updated_idx ON contacts (tenant_id, account_id, updated_at, id);
CREATE INDEX opportunities_updated_idx ON opportunities (tenant_id, updated_at, id);
CREATE INDEX survey_records_updated_idx ON survey_records (tenant_id, account_id, updated_at, id);
CREATE INDEX activities_updated_idx ON activities (tenant_id, account_id, updated_at, id);
