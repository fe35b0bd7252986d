-- New rows' references go into the index once a statement, not once a row: a chunk of an import
-- inserts 500 rows in one statement, and the row trigger's 500 inserts cost 22 us a row (a third
-- of the rows' own insert). Changes of a row's references stay with the row trigger (an
-- update's trigger cannot name its column and see transition tables at once).
CREATE FUNCTION buyerpath_index_new_external_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO external_refs (tenant_id, resource_type, system, external_id, resource_id)
    SELECT n.tenant_id, TG_ARGV[0], split_part(e, ':', 1), substr(e, strpos(e, ':') + 1), n.id
    FROM new_rows AS n CROSS JOIN LATERAL unnest(n.external_refs) AS e;
    RETURN NULL;
END
$$;

DROP TRIGGER accounts_external_refs_insert ON accounts;
CREATE TRIGGER accounts_external_refs_insert AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION buyerpath_index_new_external_refs('account');

DROP TRIGGER contacts_external_refs_insert ON contacts;
CREATE TRIGGER contacts_external_refs_insert AFTER INSERT ON contacts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION buyerpath_index_new_external_refs('contact');

DROP TRIGGER opportunities_external_refs_insert ON opportunities;
CREATE TRIGGER opportunities_external_refs_insert AFTER INSERT ON opportunities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION buyerpath_index_new_external_refs('opportunity');

DROP TRIGGER activities_external_refs_insert ON activities;
CREATE TRIGGER activities_external_refs_insert AFTER INSERT ON activities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION buyerpath_index_new_external_refs('activity');
