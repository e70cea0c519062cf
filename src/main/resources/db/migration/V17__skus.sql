-- The skus read model (package io.readside.skus): units sold, revenue and orders per SKU from the orders' items,
-- and units and revenue per SKU and minute of the orders' event time, for rankings over a time range.
CREATE TABLE sku_totals (
    sku      text    PRIMARY KEY,
    units    bigint  NOT NULL,
    revenue  numeric NOT NULL,
    orders   integer NOT NULL
);

CREATE TABLE sku_minutes (
    minute   timestamptz NOT NULL,
    sku      text        NOT NULL,
    units    bigint      NOT NULL,
    revenue  numeric     NOT NULL,
    -- a range of minutes is read in key order
    PRIMARY KEY (minute, sku)
);
