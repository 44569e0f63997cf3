-- Issue 17. Why a flow call ended other than by its own exit: `run_ended` (it was still running
-- MAXQ_ABORT_GRACE_MS after its run completed and was terminated), `lease_expired` (its supervisor
-- died after its run had ended), `worker_stopped`, or the reason its run failed (`aborted`…).
-- Set on a running call, it also tells the call's exit report that the call was told to stop.
ALTER TABLE flow_calls ADD COLUMN termination_reason TEXT;
