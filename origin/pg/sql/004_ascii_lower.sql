-- Names are compared and turned into paths case-insensitively for ASCII
-- letters only, the way pgxnd builds tree paths. Plain lower() follows the
-- database's locale (under C.UTF-8 it folds É to é), which would let two
-- releases share a name in the database but not in the tree.
CREATE FUNCTION pgxn_lower(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower($1 COLLATE "C") $$;

DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (pgxn_lower(email));
DROP INDEX distributions_lower_key;
CREATE UNIQUE INDEX distributions_lower_key
    ON distributions (pgxn_lower(name), pgxn_lower(version));
DROP INDEX distribution_tags_lower_tag;
CREATE INDEX distribution_tags_lower_tag ON distribution_tags (pgxn_lower(tag));
