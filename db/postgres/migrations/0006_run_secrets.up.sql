-- The values of the run's secret-looking step env (security/secret-names.ts), collected as stages are
-- scheduled, so that a log entry a script writes reads *** where one occurs, at the cost of reading
-- one row rather than every step's env.
ALTER TABLE runs ADD COLUMN secrets JSONB;
