DROP TRIGGER runs_count_delete ON runs;
DROP TRIGGER runs_count_update ON runs;
DROP TRIGGER runs_count_insert ON runs;
DROP FUNCTION maxq_count_run_change();
DROP TABLE run_count_changes;
