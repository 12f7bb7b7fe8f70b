-- Account life cycle: password reset tokens and the mail the origin sends.

-- Only a SHA-256 of each token is kept, so a copy of the database cannot be
-- used to take over accounts.
CREATE TABLE password_tokens (
    token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    nickname     text NOT NULL REFERENCES users (nickname),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX password_tokens_nickname ON password_tokens (nickname);

-- Every message, whether or not a mail command delivered it, so a small
-- instance works without a mail server (`pgxnd mail list`).
CREATE TABLE mails (
    id         bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    recipient  text NOT NULL,
    subject    text NOT NULL,
    body       text NOT NULL,
    sent_at    timestamptz,
    error      text
);
