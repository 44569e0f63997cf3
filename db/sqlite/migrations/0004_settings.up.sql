-- Values the whole installation shares, written once. `run_token_key` signs the MAXQ_TOKEN each
-- flow and step process gets: every API and tick process reads it from here, so a token made by
-- one worker is checked by any API without a configured secret or a lookup per request.
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
