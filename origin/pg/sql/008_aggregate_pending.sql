-- Aggregate files (tag/T.json, user/U.json: lists that grow with the
-- catalog) that a release or a removal changed and whose publication the
-- origin deferred to its next `stats` event (--aggregate-delay). A path is
-- inserted in the transaction of the change, so a crash before the
-- aggregate event loses nothing: the next start publishes what is here, and
-- the aggregate event deletes the rows it covers in its own transaction.
CREATE TABLE aggregate_pending (
    path text PRIMARY KEY
);
