-- The job queue grows into a scheduler's queue, and sales get daily rollups.

-- sync_runs become jobs:
--   * platform is copied from the account so claims can honour per-platform
--     caps without a join;
--   * due_at is when the job may next be claimed: queued_at for a new job,
--     next_attempt_at for one waiting to retry, lease_until for a running one
--     (an expired lease makes it claimable again), NULL once final. One
--     index (platform, due_at) then serves every claim;
--   * slot names the schedule slot a scheduled job belongs to, e.g.
--     'daily@2026-11-21T08:00+09:00'; the unique key makes enqueueing
--     idempotent, so every replica may run the cron;
--   * max_attempts is fixed when the job is queued; after it the job is dead.
ALTER TABLE sync_runs
  ADD COLUMN platform     VARCHAR(16)  NOT NULL DEFAULT '',
  ADD COLUMN due_at       DATETIME(6)  NULL,
  ADD COLUMN slot         VARCHAR(64)  NULL,
  ADD COLUMN max_attempts INT          NOT NULL DEFAULT 5,
  ADD UNIQUE KEY uq_sync_runs_slot (seller_id, account_id, slot),
  ADD KEY ix_sync_runs_due (platform, due_at);

UPDATE sync_runs r JOIN platform_accounts a ON a.seller_id = r.seller_id AND a.account_id = r.account_id
SET r.platform = a.platform;
UPDATE sync_runs SET due_at = queued_at WHERE state = 'QUEUED';
UPDATE sync_runs SET due_at = lease_until WHERE state = 'RUNNING';

-- Per-platform concurrency caps across replicas: a run holds one slot row of
-- its platform while it executes; a replica claims a run only together with
-- a free slot (or one whose holder's lease expired), so at most `cap` runs of
-- a platform execute at once, whatever the number of replicas.
CREATE TABLE platform_run_slots (
  platform    VARCHAR(16)     NOT NULL,
  slot        INT             NOT NULL,
  seller_id   BIGINT UNSIGNED NOT NULL DEFAULT 0,
  run_id      BIGINT UNSIGNED NOT NULL DEFAULT 0,
  lease_until DATETIME(6)     NULL,
  PRIMARY KEY (platform, slot)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Set when an alert went out for the account's current incident (a dead run
-- or credentials that need the seller); cleared by the next success. Setting
-- it is a compare-and-set, so one replica posts once per incident.
ALTER TABLE platform_accounts
  ADD COLUMN alerted_at DATETIME(6) NULL;

-- Daily sales per seller, local day, account (hence platform), product and
-- option. The sale columns count lines on their payment day; the cash_*
-- columns count completed claims on their completion day; the order_*
-- columns count the same claims on their line's payment day. Both views
-- come from the same rows, recomputed per day (see rollup_dirty).
CREATE TABLE sales_daily (
  seller_id             BIGINT UNSIGNED NOT NULL,
  local_date            DATE            NOT NULL,
  account_id            BIGINT UNSIGNED NOT NULL,
  product_source_id     VARCHAR(191)    NOT NULL,
  option_source_id      VARCHAR(191)    NOT NULL,
  currency              CHAR(3)         NOT NULL,
  platform              VARCHAR(16)     NOT NULL,
  product_name          VARCHAR(500)    NOT NULL,
  option_name           VARCHAR(500)    NOT NULL,
  gross                 BIGINT          NOT NULL,
  discount              BIGINT          NOT NULL,
  paid                  BIGINT          NOT NULL,
  units                 BIGINT          NOT NULL,
  cash_refunded         BIGINT          NOT NULL,
  cash_cancelled_units  BIGINT          NOT NULL,
  cash_returned_units   BIGINT          NOT NULL,
  cash_exchanged_units  BIGINT          NOT NULL,
  order_refunded        BIGINT          NOT NULL,
  order_cancelled_units BIGINT          NOT NULL,
  order_returned_units  BIGINT          NOT NULL,
  order_exchanged_units BIGINT          NOT NULL,
  -- Distinct orders of the option, and of the whole product, paid that day
  -- (an order paid once counts on one day, so these add up over days).
  orders                BIGINT          NOT NULL DEFAULT 0,
  product_orders        BIGINT          NOT NULL DEFAULT 0,
  PRIMARY KEY (seller_id, local_date, account_id, product_source_id, option_source_id, currency)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Distinct orders and buyers per seller, local day and account: counts that
-- do not add up across products, so they have their own rollup. Orders are
-- paid once, so daily order counts add up over days; buyers do not (see
-- buyer_days).
CREATE TABLE sales_daily_accounts (
  seller_id  BIGINT UNSIGNED NOT NULL,
  local_date DATE            NOT NULL,
  account_id BIGINT UNSIGNED NOT NULL,
  currency   CHAR(3)         NOT NULL,
  platform   VARCHAR(16)     NOT NULL,
  orders     BIGINT          NOT NULL,
  buyers     BIGINT          NOT NULL,
  PRIMARY KEY (seller_id, local_date, account_id, currency)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Each buyer's purchase days per account: distinct buyers of a period are
-- counted here, a table far smaller than the lines.
CREATE TABLE buyer_days (
  seller_id  BIGINT UNSIGNED NOT NULL,
  local_date DATE            NOT NULL,
  account_id BIGINT UNSIGNED NOT NULL,
  buyer_hash BINARY(32)      NOT NULL,
  PRIMARY KEY (seller_id, local_date, account_id, buyer_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Local days whose rollups are stale: written in the same transaction as the
-- rows that changed them, cleared by the transaction that recomputes them.
CREATE TABLE rollup_dirty (
  seller_id  BIGINT UNSIGNED NOT NULL,
  local_date DATE            NOT NULL,
  PRIMARY KEY (seller_id, local_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The order-line list pages newest first by payment (or order) instant.
ALTER TABLE order_lines
  ADD KEY ix_order_lines_paid_at (seller_id, paid_at),
  ADD KEY ix_order_lines_ordered_at (seller_id, ordered_at);
