DROP TABLE survey_inventory_items;
DROP TABLE survey_records;
DROP TABLE tenant_settings;
