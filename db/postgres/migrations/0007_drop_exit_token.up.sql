-- A step's success is now one statement on PostgreSQL (writable CTEs: the release of its dependents
-- and its stage's settle run only when its own update matched) and plain statements one after the
-- other on SQLite (db/queries/record-step-exit.ts). Nothing asks the row which report completed it.
ALTER TABLE steps DROP COLUMN exit_token;
