-- Settings the origin server records for operator commands run beside it,
-- e.g. the public URL that links in mail must use.
CREATE TABLE settings (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
