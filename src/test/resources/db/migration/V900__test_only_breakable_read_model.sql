-- Only in the tests: the table of BreakableReadModel, a read model derived from orders that fails on purpose.
CREATE TABLE breakable_totals (
    order_id text PRIMARY KEY,
    total    numeric NOT NULL,
    changes  integer NOT NULL,
    cancels  integer NOT NULL
);
