-- References of other systems (the CRM of record: Salesforce, HubSpot, …) on accounts, contacts,
-- opportunities and activities (issue 21). A resource keeps its references in its own row
-- (`external_refs`, elements `<system>:<id>`, in the order given), so every read of it has them
-- without another query; `external_refs` is the index over all of them: who holds a reference,
-- unique per tenant, resource type, system and id. The trigger below keeps the index in step
-- with the rows, whatever statement writes them: a reference another resource holds is a
-- unique violation of `external_refs_pkey` (409 `external_ref_taken`).
CREATE TABLE external_refs (
    tenant_id     uuid NOT NULL,
    resource_type text NOT NULL
        CHECK (resource_type IN ('account', 'contact', 'opportunity', 'activity')),
    system        text NOT NULL CHECK (system ~ '^[a-z][a-z0-9_-]{0,31}$'),
    external_id   text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 255),
    resource_id   uuid NOT NULL,
    PRIMARY KEY (tenant_id, resource_type, system, external_id)
);

CREATE INDEX external_refs_resource_idx ON external_refs (tenant_id, resource_type, resource_id);

CREATE FUNCTION buyerpath_sync_external_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM external_refs r
        WHERE r.tenant_id = OLD.tenant_id AND r.resource_type = TG_ARGV[0]
          AND r.resource_id = OLD.id
          AND NOT (r.system || ':' || r.external_id = ANY (NEW.external_refs));
    END IF;
    INSERT INTO external_refs (tenant_id, resource_type, system, external_id, resource_id)
    SELECT NEW.tenant_id, TG_ARGV[0], split_part(e, ':', 1), substr(e, strpos(e, ':') + 1), NEW.id
    FROM unnest(NEW.external_refs) AS e
    WHERE TG_OP = 'INSERT' OR NOT (e = ANY (OLD.external_refs));
    RETURN NULL;
END
$$;

ALTER TABLE accounts ADD COLUMN external_refs text[] NOT NULL DEFAULT '{}'
    CONSTRAINT accounts_external_refs_check CHECK (cardinality(external_refs) <= 20);
ALTER TABLE contacts ADD COLUMN external_refs text[] NOT NULL DEFAULT '{}'
    CONSTRAINT contacts_external_refs_check CHECK (cardinality(external_refs) <= 20);
ALTER TABLE opportunities ADD COLUMN external_refs text[] NOT NULL DEFAULT '{}'
    CONSTRAINT opportunities_external_refs_check CHECK (cardinality(external_refs) <= 20);
ALTER TABLE activities ADD COLUMN external_refs text[] NOT NULL DEFAULT '{}'
    CONSTRAINT activities_external_refs_check CHECK (cardinality(external_refs) <= 20);

CREATE TRIGGER accounts_external_refs_insert AFTER INSERT ON accounts FOR EACH ROW
    WHEN (cardinality(NEW.external_refs) > 0) EXECUTE FUNCTION buyerpath_sync_external_refs('account');
CREATE TRIGGER accounts_external_refs_update AFTER UPDATE OF external_refs ON accounts FOR EACH ROW
    WHEN (OLD.external_refs IS DISTINCT FROM NEW.external_refs)
    EXECUTE FUNCTION buyerpath_sync_external_refs('account');
CREATE TRIGGER contacts_external_refs_insert AFTER INSERT ON contacts FOR EACH ROW
    WHEN (cardinality(NEW.external_refs) > 0) EXECUTE FUNCTION buyerpath_sync_external_refs('contact');
CREATE TRIGGER contacts_external_refs_update AFTER UPDATE OF external_refs ON contacts FOR EACH ROW
    WHEN (OLD.external_refs IS DISTINCT FROM NEW.external_refs)
    EXECUTE FUNCTION buyerpath_sync_external_refs('contact');
CREATE TRIGGER opportunities_external_refs_insert AFTER INSERT ON opportunities FOR EACH ROW
    WHEN (cardinality(NEW.external_refs) > 0) EXECUTE FUNCTION buyerpath_sync_external_refs('opportunity');
CREATE TRIGGER opportunities_external_refs_update AFTER UPDATE OF external_refs ON opportunities FOR EACH ROW
    WHEN (OLD.external_refs IS DISTINCT FROM NEW.external_refs)
    EXECUTE FUNCTION buyerpath_sync_external_refs('opportunity');
CREATE TRIGGER activities_external_refs_insert AFTER INSERT ON activities FOR EACH ROW
    WHEN (cardinality(NEW.external_refs) > 0) EXECUTE FUNCTION buyerpath_sync_external_refs('activity');
CREATE TRIGGER activities_external_refs_update AFTER UPDATE OF external_refs ON activities FOR EACH ROW
    WHEN (OLD.external_refs IS DISTINCT FROM NEW.external_refs)
    EXECUTE FUNCTION buyerpath_sync_external_refs('activity');
