DROP TRIGGER runs_count_delete;
DROP TRIGGER runs_count_update;
DROP TRIGGER runs_count_insert;
DROP TABLE run_count_changes;
