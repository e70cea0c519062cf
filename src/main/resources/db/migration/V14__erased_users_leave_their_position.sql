-- An erased user (a tombstone on user-events) leaves its id and the position of the tombstone, and nothing else of it:
-- a dead letter of that user from before the erasure is then an older version, which redrive refuses to send back
-- (it would bring the erased user back), unless asked explicitly. A rebuild carries these rows over: the tombstone
-- itself leaves the compacted topic after delete.retention.ms.
CREATE TABLE users_erased (
    user_id          bigint  PRIMARY KEY,
    source_partition integer NOT NULL,
    source_offset    bigint  NOT NULL
);
