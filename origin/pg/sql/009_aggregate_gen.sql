-- Each change that defers an aggregate file gives its row a new gen, so that
-- the aggregate event, which renders the files from a snapshot before it
-- takes the feed head's lock, can tell under the lock which rows a change
-- touched since (those stay pending for the next event) from those it
-- covered. From a sequence, not a counter per row: a row deleted (by an
-- aggregate event or `origin rebuild --fix`) and inserted again must not
-- come back with a gen a snapshot already saw.
CREATE SEQUENCE aggregate_pending_gen;
ALTER TABLE aggregate_pending
    ADD COLUMN gen bigint NOT NULL DEFAULT nextval('aggregate_pending_gen');
