-- The read models derived from orders that have tables, and whether each is filled: a model found here for the first
-- time while orders already holds rows is new, and fills itself once every instance runs a version that writes it
-- (readside.read-models.backfill-after): from the orders table's latest versions when the model says it can, else from
-- the retained log (a rebuild of it alone). The models that existed before this migration are filled.
CREATE TABLE read_models (
    model          text PRIMARY KEY,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    filled_at      timestamptz,
    -- how: there before, nothing to fill, or the rebuild that filled it; or why the last fill failed
    filled_how     text,
    last_failure   text,
    last_attempt   timestamptz,
    -- tries so far (the next waits twice as long as the one before, up to 64 times readside.read-models.catch-up-every)
    attempts       integer NOT NULL DEFAULT 0,
    -- the rebuild this fill started (its started_at), for a model filled from the log
    fill_started_at timestamptz
);

INSERT INTO read_models (model, filled_at, filled_how)
VALUES ('revenue', now(), 'there before V18'), ('user-order-totals', now(), 'there before V18');
