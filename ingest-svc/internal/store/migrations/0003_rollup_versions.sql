-- A counter per seller, bumped by every rollup refresh: readers that keep
-- rollup-derived data in memory (the distinct-buyer index of package sales)
-- know from it whether what they hold is current.
CREATE TABLE rollup_versions (
  seller_id BIGINT UNSIGNED NOT NULL,
  version   BIGINT          NOT NULL,
  PRIMARY KEY (seller_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Money and units per seller, local day and account, summed from
-- sales_daily: totals, series and platform splits read a few rows per day
-- here instead of one per product option.
ALTER TABLE sales_daily_accounts
  ADD COLUMN gross                 BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN discount              BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN paid                  BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN units                 BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN cash_refunded         BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN cash_cancelled_units  BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN cash_returned_units   BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN cash_exchanged_units  BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN order_refunded        BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN order_cancelled_units BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN order_returned_units  BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN order_exchanged_units BIGINT NOT NULL DEFAULT 0;
