-- The latest rebuild of each read model, so that every instance answers GET /admin/rebuilds/{readModel}, also after
-- a restart. The instance that runs it writes it at each state change and about once a second
-- (io.readside.projection.replay.RebuildStatuses). runner_pid is the PostgreSQL session that holds the one-rebuild
-- advisory lock for the run: a run still in a running state whose session no longer holds that lock was abandoned
-- (its instance stopped), and readers report it so. run_id keeps a late write of an older run off a newer one.
CREATE TABLE rebuild_status (
    read_model            text        PRIMARY KEY,
    run_id                uuid        NOT NULL,
    topic                 text        NOT NULL,
    state                 text        NOT NULL,
    instance              text        NOT NULL,
    runner_pid            integer     NOT NULL,
    started_at            timestamptz NOT NULL,
    finished_at           timestamptz,
    updated_at            timestamptz NOT NULL,
    replayed_records      bigint      NOT NULL,
    invalid_records       bigint      NOT NULL,
    remaining_records     bigint      NOT NULL,
    live_offsets          jsonb       NOT NULL,   -- partition -> next offset, as the status answers them
    rebuilt_offsets       jsonb       NOT NULL,
    switch_millis         bigint,
    error                 text,
    rows_before_log_start bigint      NOT NULL,
    log_start_offsets     jsonb       NOT NULL
);
