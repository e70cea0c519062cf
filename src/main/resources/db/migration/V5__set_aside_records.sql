-- Records set aside whose full copy could not go to <topic>.dlq (too large for the producer or the topic, or the
-- broker refused the dead letter for good): their bytes are kept here, written in the transaction that claims the
-- record's position, so that the partition moves on and nothing is lost. dead_letter says what did reach the
-- dead-letter topic: 'stub' (a stub naming the record) or 'none'.
CREATE TABLE set_aside_records (
    topic            text        NOT NULL,
    kafka_partition  integer     NOT NULL,
    kafka_offset     bigint      NOT NULL,
    consumer_group   text        NOT NULL,
    reason           text        NOT NULL,
    cause            text        NOT NULL,
    dead_letter      text        NOT NULL CHECK (dead_letter IN ('stub', 'none')),
    delivery_error   text        NOT NULL,
    record_key       bytea,
    record_value     bytea,
    header_keys      bytea[]     NOT NULL,
    header_values    bytea[]     NOT NULL,
    record_timestamp bigint      NOT NULL,      -- the record's Kafka timestamp, epoch milliseconds
    set_aside_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, kafka_partition, kafka_offset, consumer_group)
);
