DROP TRIGGER accounts_external_refs_insert ON accounts;
CREATE TRIGGER accounts_external_refs_insert AFTER INSERT ON accounts FOR EACH ROW
    WHEN (cardinality(NEW.external_refs) > 0) EXECUTE FUNCTION buyerpath_sync_external_refs('account');
DROP TRIGGER contacts_external_refs_insert ON contacts;
CREATE TRIGGER contacts_external_refs_insert AFTER INSERT ON contacts FOR EACH ROW
    WHEN (cardinality(NEW.external_refs) > 0) EXECUTE FUNCTION buyerpath_sync_external_refs('contact');
DROP TRIGGER opportunities_external_refs_insert ON opportunities;
CREATE TRIGGER opportunities_external_refs_insert AFTER INSERT ON opportunities FOR EACH ROW
    WHEN (cardinality(NEW.external_refs) > 0) EXECUTE FUNCTION buyerpath_sync_external_refs('opportunity');
DROP TRIGGER activities_external_refs_insert ON activities;
CREATE TRIGGER activities_external_refs_insert AFTER INSERT ON activities FOR EACH ROW
    WHEN (cardinality(NEW.external_refs) > 0) EXECUTE FUNCTION buyerpath_sync_external_refs('activity');
DROP FUNCTION buyerpath_index_new_external_refs();
