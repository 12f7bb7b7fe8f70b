-- Webhooks (origin/webhooks): an account's subscriptions to the event log,
-- delivered as signed HTTP POSTs. The secret is kept as issued: the origin
-- needs it to sign every delivery. cursor_seq is the last seq the hook is
-- done with (delivered, or skipped by its filters), so deliveries resume
-- there after a restart; failing_since marks the first failure of the
-- current run of failures, for --webhook-disable-after.
CREATE TABLE webhooks (
    id            bigserial PRIMARY KEY,
    owner         text NOT NULL REFERENCES users (nickname) ON DELETE CASCADE,
    url           text NOT NULL,
    secret        text NOT NULL,
    kinds         text[] NOT NULL DEFAULT '{}',
    dists         text[] NOT NULL DEFAULT '{}',
    users         text[] NOT NULL DEFAULT '{}',
    tags          text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    cursor_seq    bigint NOT NULL,
    enabled       boolean NOT NULL DEFAULT true,
    disabled_at   timestamptz,
    failures      integer NOT NULL DEFAULT 0,
    failing_since timestamptz
);
CREATE INDEX webhooks_owner ON webhooks (owner);

-- The newest attempts of each hook (older ones are pruned), for the owner's
-- GET /account/webhooks.
CREATE TABLE webhook_deliveries (
    id          bigserial PRIMARY KEY,
    webhook_id  bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    message_id  text NOT NULL,
    seq         bigint NOT NULL,  -- 0 for a test ping
    type        text NOT NULL,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    status      integer,          -- the HTTP status; NULL when none came
    latency_us  bigint NOT NULL,
    error       text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
