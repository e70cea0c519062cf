-- Event-time watermark of each partition ("stream time": the latest event time applied from it). Windows close
-- against it, so a replay of old records decides lateness exactly as the first pass did.
ALTER TABLE projection_positions ADD COLUMN stream_time timestamptz;

-- Read model of topic orders (key = order id).
CREATE TABLE orders (
    order_id         text          PRIMARY KEY,
    user_id          bigint        NOT NULL,
    category         text          NOT NULL,
    total            numeric(14,2) NOT NULL,
    item_count       integer,                 -- null when the event has no items
    created_at       timestamptz   NOT NULL,  -- event time
    status           text          NOT NULL,
    processed_at     timestamptz   NOT NULL,
    -- the revenue this order has in revenue_windows now; null when it arrived past its window's grace
    window_category  text,
    window_start     timestamptz,
    window_amount    numeric(14,2),
    source_partition integer       NOT NULL,
    source_offset    bigint        NOT NULL
);
CREATE INDEX orders_by_user ON orders (user_id, order_id);
CREATE INDEX orders_by_status ON orders (status, order_id);

-- Revenue per category per tumbling event-time window; accumulated with additive upserts.
CREATE TABLE revenue_windows (
    category     text          NOT NULL,
    window_start timestamptz   NOT NULL,
    window_end   timestamptz   NOT NULL,
    revenue      numeric(16,2) NOT NULL,
    order_count  integer       NOT NULL,
    PRIMARY KEY (category, window_start)
);
CREATE INDEX revenue_windows_by_start ON revenue_windows (window_start);

-- The users read model's order figures, kept apart from users so that a user's erasure and their orders'
-- arrival (two topics, two partitions) never race for one row.
CREATE TABLE user_order_totals (
    user_id     bigint        PRIMARY KEY,
    order_count integer       NOT NULL,
    total_spent numeric(16,2) NOT NULL
);
