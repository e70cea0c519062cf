-- A read model derived from orders whose fold or SQL fails for good on a change stops alone: the orders table and
-- the other read models go on, and the changes it missed wait for it here, in the transaction that wrote them
-- (its backlog, in commit order per order). Once fixed, it catches up from the backlog, exactly once, and joins the
-- others. A row in read_model_stops means: stopped (none: running).
CREATE TABLE read_model_stops (
    model          text PRIMARY KEY,
    stopped_at     timestamptz NOT NULL,
    reason         text NOT NULL,
    -- the change it stopped on (a partition and offset of topic orders)
    stopped_on     text NOT NULL,
    last_attempt   timestamptz,
    last_failure   text,
    attempts       integer NOT NULL DEFAULT 0
);

CREATE TABLE read_model_backlog (
    model     text NOT NULL,
    seq       bigint GENERATED ALWAYS AS IDENTITY,
    -- the change as the read model would have been handed it: kind (change, cancel), the versions before and after
    -- (whole events, items included, the record's bytes with after), the record's partition and offset, stream time
    change    jsonb NOT NULL,
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, seq)
);
