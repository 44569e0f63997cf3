-- A schedule request of the run's own scripts that was refused (4xx) while this flow call ran: if
-- the call then exits 0 having scheduled nothing, the run fails with this refusal as its error
-- instead of completing with no stages.
ALTER TABLE flow_calls ADD COLUMN refusal JSONB;
