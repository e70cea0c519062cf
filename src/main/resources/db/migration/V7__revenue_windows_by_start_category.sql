-- GET /revenue pages through the windows of a range in (window_start, category) order, after a cursor: this index
-- gives that order, so a page reads its rows and stops (EXPLAIN in docs/benchmarks.md). GET /revenue/top reads the
-- windows of its range (at most readside.revenue.max-query-range) through it. No INCLUDE of revenue/order_count:
-- the projectors update those columns with every order, and an update that leaves every indexed column alone stays
-- a HOT update (no new index entries). It replaces revenue_windows_by_start, whose only column leads this one.
CREATE INDEX revenue_windows_by_start_category ON revenue_windows (window_start, category);
DROP INDEX revenue_windows_by_start;
