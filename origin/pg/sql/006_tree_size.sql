-- How many files the published tree holds and their total size, kept beside
-- the head so each event can state them (a snapshot of it is then refused
-- past them). NULL until the first publication after this migration counts
-- them from tree_files.
ALTER TABLE feed_head ADD COLUMN tree_files bigint, ADD COLUMN tree_bytes bigint;
