-- The origin's system of record (docs/architecture.md §4): accounts, releases and their
-- extensions and tags, the published tree, and the event log that streams it.

CREATE TABLE users (
    nickname      text PRIMARY KEY
                  CHECK (nickname ~ '^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$'),
    full_name     text NOT NULL DEFAULT '',
    email         text NOT NULL CHECK (email <> ''),
    uri           text,
    twitter       text,
    -- libsodium crypto_pwhash_str (Argon2id); NULL: no usable password yet.
    password_hash text,
    status        text NOT NULL DEFAULT 'new'
                  CHECK (status IN ('new', 'active', 'inactive', 'deleted')),
    is_admin      boolean NOT NULL DEFAULT false,
    why           text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- One row per release. Names and versions keep the author's spelling; their
-- lower-case forms identify a release and name its files.
CREATE TABLE distributions (
    name           text NOT NULL,
    version        text NOT NULL,
    abstract       text NOT NULL,
    description    text NOT NULL DEFAULT '',
    release_status text NOT NULL CHECK (release_status IN ('stable', 'testing', 'unstable')),
    creator        text NOT NULL REFERENCES users (nickname),
    sha1           text NOT NULL,
    sha256         text NOT NULL,
    meta           text NOT NULL,  -- the release META.json as published
    released_at    timestamptz NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX distributions_lower_key ON distributions (lower(name), lower(version));
CREATE INDEX distributions_released_at ON distributions (released_at);
CREATE INDEX distributions_creator ON distributions (creator);

CREATE TABLE distribution_tags (
    dist_name    text NOT NULL,
    dist_version text NOT NULL,
    tag          text NOT NULL,
    PRIMARY KEY (dist_name, dist_version, tag),
    FOREIGN KEY (dist_name, dist_version) REFERENCES distributions (name, version)
        ON DELETE CASCADE
);
CREATE INDEX distribution_tags_lower_tag ON distribution_tags (lower(tag));

-- Extension names are owned: the first uploader owns one, co-owners share it.
CREATE TABLE extensions (
    name       text PRIMARY KEY,  -- lower case
    owner      text NOT NULL REFERENCES users (nickname),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE coowners (
    extension text NOT NULL REFERENCES extensions (name),
    nickname  text NOT NULL REFERENCES users (nickname),
    PRIMARY KEY (extension, nickname)
);

CREATE TABLE distribution_extensions (
    extension    text NOT NULL REFERENCES extensions (name),
    ext_name     text NOT NULL,  -- as the author spelled it
    ext_version  text NOT NULL,
    dist_name    text NOT NULL,
    dist_version text NOT NULL,
    abstract     text NOT NULL DEFAULT '',
    docfile      text,
    PRIMARY KEY (extension, dist_name, dist_version),
    FOREIGN KEY (dist_name, dist_version) REFERENCES distributions (name, version)
        ON DELETE CASCADE
);
CREATE INDEX distribution_extensions_dist ON distribution_extensions (dist_name, dist_version);

-- Every file content once, keyed by its SHA-256; tree rows and events refer
-- to it. Archives do not compress: store them out of line, uncompressed.
CREATE TABLE blobs (
    sha256  bytea PRIMARY KEY CHECK (length(sha256) = 32),
    size    bigint NOT NULL,
    content bytea NOT NULL
);
ALTER TABLE blobs ALTER COLUMN content SET STORAGE EXTERNAL;

-- The published tree as of the newest event.
CREATE TABLE tree_files (
    path       text PRIMARY KEY,
    sha256     bytea NOT NULL REFERENCES blobs (sha256),
    size       bigint NOT NULL,
    media_type text NOT NULL,
    seq        bigint NOT NULL,
    updated_at timestamptz NOT NULL
);

-- The head of the log: one row, locked by every publishing transaction, so
-- seqs are gapless and in commit order (a SEQUENCE would be neither).
CREATE TABLE feed_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch     text NOT NULL,
    seq       bigint NOT NULL,
    hash      bytea NOT NULL
);
INSERT INTO feed_head (epoch, seq, hash)
VALUES (replace(gen_random_uuid()::text, '-', ''), 0, decode(repeat('00', 32), 'hex'));

-- The event log. `record` is the serialised pgxn.feed.v1.Event without file
-- contents (they are in blobs); `hash` is its chain hash.
CREATE TABLE events (
    seq     bigint PRIMARY KEY,
    epoch   text NOT NULL,
    time    timestamptz NOT NULL,
    kind    text NOT NULL,
    actor   text NOT NULL,
    dist    text,
    version text,
    hash    bytea NOT NULL,
    record  bytea NOT NULL
);

-- The mirror registry published as meta/mirrors.json.
CREATE TABLE mirrors (
    uri          text PRIMARY KEY,
    frequency    text NOT NULL,
    location     text NOT NULL,
    organization text NOT NULL,
    timezone     text NOT NULL,
    email        text NOT NULL,
    bandwidth    text NOT NULL,
    src          text NOT NULL,
    rsync        text,
    notes        text,
    created_by   text NOT NULL REFERENCES users (nickname),
    created_at   timestamptz NOT NULL DEFAULT now()
);
