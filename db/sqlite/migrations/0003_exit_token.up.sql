-- The exit that completes a step writes its own random token on the row, so the statements sent
-- behind it in the same round trip (release the dependents, settle the stage) can ask "did this
-- report complete the step?" without waiting for the answer: a repeated report writes nothing, its
-- token matches no row, and a dependent's unmet count is never taken down twice.
ALTER TABLE steps ADD COLUMN exit_token TEXT;
