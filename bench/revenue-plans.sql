-- The query plans of GET /revenue and GET /revenue/top on 100,000 revenue windows (20 categories x 5,000 one-minute
-- windows, about 3.5 days; 2% empty: an order moved out of them). Run against an empty database:
--   psql -h <host> -p <port> -U postgres -f bench/revenue-plans.sql
-- The table as V2 creates it, the index as V7 creates it; the statements as RevenueRepository runs them (prepared).
DROP TABLE IF EXISTS revenue_windows;
CREATE TABLE revenue_windows (
    category     text          NOT NULL,
    window_start timestamptz   NOT NULL,
    window_end   timestamptz   NOT NULL,
    revenue      numeric(16,2) NOT NULL,
    order_count  integer       NOT NULL,
    PRIMARY KEY (category, window_start)
);
INSERT INTO revenue_windows
SELECT 'category-' || lpad(c::text, 2, '0'), w, w + interval '1 minute',
       CASE WHEN random() < 0.02 THEN 0 ELSE round((random() * 500)::numeric, 2) END,
       CASE WHEN random() < 0.02 THEN 0 ELSE 1 + (random() * 20)::int END
  FROM generate_series(1, 20) c,
       generate_series(timestamptz '2026-11-01T00:00:00Z', timestamptz '2026-11-01T00:00:00Z' + interval '4999 minutes',
                       interval '1 minute') w;
\echo V7
CREATE INDEX revenue_windows_by_start_category ON revenue_windows (window_start, category);
VACUUM ANALYZE revenue_windows;
-- warm, as a serving database is: every page of the table and the index in shared buffers
SELECT count(*) FROM revenue_windows WHERE window_start >= '2026-11-01' AND category > '';
SELECT count(*) AS windows, pg_size_pretty(pg_relation_size('revenue_windows')) AS heap,
       pg_size_pretty(pg_relation_size('revenue_windows_by_start_category')) AS index FROM revenue_windows;

PREPARE top(timestamptz, timestamptz, int) AS
SELECT category, sum(revenue) AS revenue, sum(order_count) AS order_count
  FROM revenue_windows
 WHERE window_start >= $1 AND window_start < $2
 GROUP BY category
HAVING sum(order_count) > 0
 ORDER BY revenue DESC, category
 LIMIT $3;
PREPARE windows(timestamptz, timestamptz, timestamptz, text, int) AS
SELECT category, window_start, window_end, revenue, order_count
  FROM revenue_windows
 WHERE window_start >= $1 AND window_start < $2
   AND (window_start, category) > ($3, $4)
   AND order_count > 0
 ORDER BY window_start, category
 LIMIT $5;
PREPARE windows_of_category(timestamptz, timestamptz, timestamptz, text, int, text) AS
SELECT category, window_start, window_end, revenue, order_count
  FROM revenue_windows
 WHERE category = $6 AND window_start >= $1 AND window_start < $2
   AND (window_start, category) > ($3, $4)
   AND order_count > 0
 ORDER BY window_start, category
 LIMIT $5;

\echo '/revenue/top, one hour (1,200 windows)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
EXECUTE top('2026-11-02T10:00:00Z', '2026-11-02T11:00:00Z', 10);
\echo '/revenue/top, one day (28,800 windows)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
EXECUTE top('2026-11-02T00:00:00Z', '2026-11-03T00:00:00Z', 10);
\echo '/revenue/top, 31 days (the longest range: every one of the 100,000 windows)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
EXECUTE top('2026-11-01T00:00:00Z', '2026-12-02T00:00:00Z', 10);
\echo '/revenue, 31 days, every category, the first page of 501 (500 and one to know a next page exists)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
EXECUTE windows('2026-11-01T00:00:00Z', '2026-12-02T00:00:00Z', '2026-11-01T00:00:00Z', '', 501);
\echo '/revenue, 31 days, every category, a page in the middle (after=2026-11-03T12:00:00Z/category-07)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
EXECUTE windows('2026-11-01T00:00:00Z', '2026-12-02T00:00:00Z', '2026-11-03T12:00:00Z', 'category-07', 501);
\echo '/revenue?category=category-07, 31 days, a page in the middle'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
EXECUTE windows_of_category('2026-11-01T00:00:00Z', '2026-12-02T00:00:00Z', '2026-11-03T12:00:00Z', '', 501,
                            'category-07');
\echo 'before V7 (only revenue_windows_by_start (window_start)): a page in the middle; /revenue/top, 31 days; one day'
DROP INDEX revenue_windows_by_start_category;
CREATE INDEX revenue_windows_by_start ON revenue_windows (window_start);
ANALYZE revenue_windows;
DEALLOCATE ALL;
PREPARE windows(timestamptz, timestamptz, timestamptz, text, int) AS
SELECT category, window_start, window_end, revenue, order_count
  FROM revenue_windows
 WHERE window_start >= $1 AND window_start < $2
   AND (window_start, category) > ($3, $4)
   AND order_count > 0
 ORDER BY window_start, category
 LIMIT $5;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
EXECUTE windows('2026-11-01T00:00:00Z', '2026-12-02T00:00:00Z', '2026-11-03T12:00:00Z', 'category-07', 501);
PREPARE top(timestamptz, timestamptz, int) AS
SELECT category, sum(revenue) AS revenue, sum(order_count) AS order_count
  FROM revenue_windows
 WHERE window_start >= $1 AND window_start < $2
 GROUP BY category
HAVING sum(order_count) > 0
 ORDER BY revenue DESC, category
 LIMIT $3;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
EXECUTE top('2026-11-01T00:00:00Z', '2026-12-02T00:00:00Z', 10);
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
EXECUTE top('2026-11-02T00:00:00Z', '2026-11-03T00:00:00Z', 10);
DROP TABLE revenue_windows;
