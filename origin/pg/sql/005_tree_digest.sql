-- The LtHash state of the published tree (feed/tree_digest.h), kept beside
-- the head so each event can carry the digest of the tree it leaves. NULL
-- until the first publication after this migration computes it from
-- tree_files.
ALTER TABLE feed_head ADD COLUMN tree_state bytea;
