-- Each slot of a flow.json schedule that a tick decided, keyed by (flow, schedule index, slot time):
-- the run it started, or none when it was skipped (overlap) or is only the schedule's first
-- sighting. The tick inserts the row with ON CONFLICT DO NOTHING in the transaction that creates
-- the run, so however many ticks race, one wins each slot. The newest slot_at of a schedule is
-- where the next tick resumes. run_id has no foreign key: deleting old runs keeps their slots.
CREATE TABLE schedule_slots (
  flow_name TEXT NOT NULL,
  schedule_index INTEGER NOT NULL,
  slot_at BIGINT NOT NULL,
  outcome TEXT NOT NULL,
  run_id TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (flow_name, schedule_index, slot_at)
);
