DROP INDEX external_refs_resource_idx;
CREATE INDEX external_refs_resource_idx ON external_refs (tenant_id, resource_type, resource_id);
