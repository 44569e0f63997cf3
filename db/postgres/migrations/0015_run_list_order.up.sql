-- GET /runs reads one page of 20 in the order asked for, straight from an index, however many runs
-- the table holds: each order is the sort column, then created_at for the two text columns, then
-- id, all in the same direction, and each has an index in exactly that order (scanned forwards for
-- asc, backwards for desc). The nullable times sort by an expression that puts runs not yet
-- started or finished last in both directions, one index per direction; db/queries/read-runs.ts
-- writes the same expressions, literally, so that the planner matches them.
DROP INDEX runs_created_at;
CREATE INDEX runs_created_at ON runs (created_at, id);
DROP INDEX runs_flow_name_created_at;
CREATE INDEX runs_flow_name_created_at ON runs (flow_name, created_at, id);
DROP INDEX runs_status_created_at;
CREATE INDEX runs_status_created_at ON runs (status, created_at, id);
CREATE INDEX runs_started_at_desc ON runs ((COALESCE(started_at, -1)), id);
CREATE INDEX runs_started_at_asc ON runs ((COALESCE(started_at, 9007199254740991)), id);
CREATE INDEX runs_completed_at_desc ON runs ((COALESCE(completed_at, -1)), id);
CREATE INDEX runs_completed_at_asc ON runs ((COALESCE(completed_at, 9007199254740991)), id);
