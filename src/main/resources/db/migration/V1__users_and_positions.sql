-- Where each projection has got to in each partition it reads: the offset of the next record to apply.
-- It is written in the same transaction as the projection change, so a redelivered record is recognised
-- (its offset is below next_offset) and changes nothing.
CREATE TABLE projection_positions (
    consumer_group  text        NOT NULL,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    next_offset     bigint      NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, kafka_partition)
);

-- Read model of topic user-events (key = user id).
CREATE TABLE users (
    user_id          bigint      PRIMARY KEY,
    email            text        NOT NULL,
    -- null when the signup is no longer in the (compacted) topic and a later event created the row
    signed_up_at     timestamptz,
    -- event time of the last applied event
    updated_at       timestamptz NOT NULL,
    -- the record the row was last written from
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL
);
