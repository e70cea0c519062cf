-- Everything Readside publishes is decided in the transaction that applies its input (issue 21): the engine writes
-- a poll's outputs as one outbox row per topic (column records: the poll's records for that topic, in commit order,
-- encoded by OutboxRecords, at most 4 MiB a row), and the one relay per cluster publishes the rows in id order. A row
-- holds either one message (payload, message_key: commands and saga requests, as before) or a batch of records
-- (event_type 'records'; 'resent' for parked records an operator re-sent).
ALTER TABLE outbox ALTER COLUMN message_key DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN records bytea;
ALTER TABLE outbox ADD CONSTRAINT outbox_message_or_records CHECK ((payload IS NULL) <> (records IS NULL));

-- A window's revision: 1 when the row is made, +1 at every change. Published with the window's state, so that a
-- consumer keeps, per window, the state with the highest revision and drops an older one that arrives late.
ALTER TABLE revenue_windows ADD COLUMN revision bigint NOT NULL DEFAULT 1;

-- Records the broker refused for good (too large for the topic, not authorized, invalid): kept with their bytes and
-- the reason, so the relay goes on with the rest; an operator re-sends them once the topic is fixed
-- (POST /admin/parked-outputs/resend). superseded_at: a later record of the same topic and entity was published since
-- (re-sending this one would move it backwards, so it is not re-sent).
CREATE TABLE parked_outputs (
    id            bigserial   PRIMARY KEY,
    outbox_id     bigint      NOT NULL,
    record_index  integer     NOT NULL,    -- its place in the outbox row's records (-1: the whole row, unreadable)
    topic         text        NOT NULL,
    message_key   bytea,
    entity        bytea,        -- whose state the record carries (an order: its key; a window: category@start);
                                -- null for a command or an event, which no later record supersedes
    payload       bytea,
    reason        text        NOT NULL,
    parked_at     timestamptz NOT NULL DEFAULT now(),
    superseded_at timestamptz,
    resent_at     timestamptz
);
CREATE INDEX parked_outputs_waiting ON parked_outputs (topic, id) WHERE resent_at IS NULL;
-- a batch published again after a crash parks nothing twice
CREATE UNIQUE INDEX parked_outputs_once ON parked_outputs (outbox_id, record_index);
-- the relay marks superseded the waiting records of the entities it publishes
CREATE INDEX parked_outputs_supersedable ON parked_outputs (topic, entity)
    WHERE resent_at IS NULL AND superseded_at IS NULL AND entity IS NOT NULL;
