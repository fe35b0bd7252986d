DROP TABLE stage_history;
DROP TABLE stage_assessments;
DROP TABLE opportunities;
DROP TABLE playbook_versions;
