-- Each change that defers an aggregate file bumps its row's gen, so that the
-- aggregate event, which renders the files from a snapshot before it takes
-- the feed head's lock, can tell under the lock which rows a change touched
-- since (those stay pending for the next event) from those it covered.
ALTER TABLE aggregate_pending ADD COLUMN gen bigint NOT NULL DEFAULT 1;
