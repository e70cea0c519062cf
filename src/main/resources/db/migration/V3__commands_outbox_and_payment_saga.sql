-- Transactional outbox: events and commands written in the same transaction as the change that caused them, then
-- published by OutboxRelay in id order (so in order per key), acks=all. A row is published at least once; it keeps
-- where it landed (the consistency token of a command resolves to that position) until the retention deletes it.
CREATE TABLE outbox (
    id              bigserial   PRIMARY KEY,
    topic           text        NOT NULL,
    message_key     text        NOT NULL,  -- the aggregate (order id)
    event_type      text        NOT NULL,
    payload         text        NOT NULL,  -- JSON, published byte for byte
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    kafka_partition integer,
    kafka_offset    bigint
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Wakes the relay at commit (NOTIFY is delivered when the inserting transaction commits); it also polls, so a
-- missed notification only delays a row by the poll interval.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('readside_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- A retried command with the same Idempotency-Key answers with the first result.
CREATE TABLE idempotency_keys (
    idempotency_key text        PRIMARY KEY,
    request_hash    text        NOT NULL,  -- SHA-256 of the command and its body: a key reused for another request is refused
    order_id        text        NOT NULL,
    outbox_id       bigint      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- The payment saga's state lives on the order. payment_requested_at is null for orders projected before the saga
-- existed (they were never asked for a payment, so they never time out).
ALTER TABLE orders ADD COLUMN payment_requested_at timestamptz;
ALTER TABLE orders ADD COLUMN status_changed_at timestamptz;
ALTER TABLE orders ADD COLUMN cancel_event_id text;  -- the cancel applied: its redelivered copy changes nothing
CREATE INDEX orders_awaiting_payment ON orders (payment_requested_at) WHERE status = 'PENDING';

-- Saga events that did not fit the order's status (a duplicate result, a payment after a cancel, ...): kept for
-- a person to look at; the status itself never moves on them.
CREATE TABLE saga_anomalies (
    id               bigserial   PRIMARY KEY,
    order_id         text        NOT NULL,
    event            text        NOT NULL,
    order_status     text,                   -- null: no such order
    action           text        NOT NULL,   -- 'none' or 'refund_requested'
    detail           text        NOT NULL,
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saga_anomalies_by_order ON saga_anomalies (order_id);
