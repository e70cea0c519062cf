-- The aggregates sum money the orders table holds as numeric(14,2): with 12 digits before the point per order,
-- numeric(16,2) overflowed at a user's (or a window's) 101st order of the largest total allowed, and whether
-- PostgreSQL refused that record depended on what else its batch held (a correction in the same poll could net it
-- back under), so a rebuild, which batches differently, could differ from the live tables. 1,000 digits (the most
-- PostgreSQL allows) cannot be reached by any number of orders; the scale stays 2. Raising the precision of a
-- numeric column with the same scale does not rewrite the table.
ALTER TABLE user_order_totals ALTER COLUMN total_spent TYPE numeric(1000,2);
ALTER TABLE revenue_windows ALTER COLUMN revenue TYPE numeric(1000,2);
