-- Retention and `maxq prune` delete the oldest finished runs first, a batch at a time: this index
-- holds finished runs only, in completed_at order, so a sweep with nothing old enough to delete
-- reads one index entry, not every finished run (runs_status_created_at orders by created_at).
CREATE INDEX runs_finished_completed_at ON runs (completed_at) WHERE status IN ('completed', 'failed');
