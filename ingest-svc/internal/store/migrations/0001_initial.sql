-- Initial schema of ingest-svc.
--
-- Conventions (they hold for every later migration too):
--   * seller_id leads every primary key, so a seller's rows are contiguous and
--     the schema can be sharded by seller (Vitess) without redesign. No
--     foreign keys for the same reason; the code deletes dependants itself.
--   * Ids from platforms are VARCHAR(191) utf8mb4_bin: exact, case-sensitive
--     comparison, short enough for composite keys within InnoDB's 3072 bytes.
--   * Instants are UTC DATETIME(6). Platforms give seconds (Cafe24) to
--     milliseconds; microseconds keep what they give without rounding, and
--     DATETIME (unlike TIMESTAMP) is independent of the session time zone.
--   * Local dates (paid_local_date, completed_local_date) are computed in Go
--     with the seller's time zone when rows are loaded, so no query needs the
--     server's named time zone tables (often not loaded on MySQL).
--   * Money is BIGINT minor units next to a CHAR(3) ISO 4217 currency.
--   * Buyers are stored only as an HMAC-SHA256 of the platform buyer id.
--   * Enum-like columns hold upper-case names ('PAID', 'COMPLETED'), readable
--     in SQL and stable when proto enum numbers would not be.
--   * SQL runs on MySQL 8.0+ and MariaDB 10.6+.

CREATE TABLE sellers (
  seller_id  BIGINT UNSIGNED NOT NULL,
  -- IANA name, e.g. 'Asia/Seoul': what a "day" means for this seller.
  time_zone  VARCHAR(64)     NOT NULL,
  created_at DATETIME(6)     NOT NULL,
  PRIMARY KEY (seller_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE platform_accounts (
  seller_id              BIGINT UNSIGNED NOT NULL,
  account_id             BIGINT UNSIGNED NOT NULL,
  -- 'CAFE24', 'SMARTSTORE', 'ABLY'.
  platform               VARCHAR(16)     NOT NULL,
  external_account_id    VARCHAR(191)    NOT NULL,
  display_name           VARCHAR(255)    NOT NULL,
  -- 'ACTIVE' or 'NEEDS_SELLER'.
  status                 VARCHAR(16)     NOT NULL,
  status_message         VARCHAR(1000)   NOT NULL DEFAULT '',
  -- AES-256-GCM envelope of a serialized hlog.collector.v1.Credentials, and
  -- the id of the key that sealed it (keys rotate).
  credentials_ciphertext BLOB            NOT NULL,
  credentials_key_id     VARCHAR(64)     NOT NULL,
  credentials_updated_at DATETIME(6)     NOT NULL,
  created_at             DATETIME(6)     NOT NULL,
  last_success_at        DATETIME(6)     NULL,
  PRIMARY KEY (seller_id, account_id),
  UNIQUE KEY uq_platform_accounts_external (seller_id, platform, external_account_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sync_runs (
  seller_id         BIGINT UNSIGNED NOT NULL,
  run_id            BIGINT UNSIGNED NOT NULL,
  account_id        BIGINT UNSIGNED NOT NULL,
  -- 'QUEUED', 'RUNNING', 'SUCCEEDED', 'RETRYING', 'FAILED'.
  state             VARCHAR(16)     NOT NULL,
  -- 'MANUAL', 'SCHEDULED', 'BACKFILL'.
  run_trigger       VARCHAR(16)     NOT NULL,
  attempt           INT             NOT NULL,
  -- Streams asked for, comma-separated; empty means all the collector offers.
  streams           VARCHAR(500)    NOT NULL DEFAULT '',
  -- account_id while the run is QUEUED or RUNNING, NULL once it is final:
  -- the unique key below then allows one active run per account, across
  -- replicas, without a lock (NULLs never collide).
  active_account_id BIGINT UNSIGNED NULL,
  -- Who executes the run and until when; an expired lease may be taken over.
  lease_owner       VARCHAR(64)     NOT NULL DEFAULT '',
  lease_until       DATETIME(6)     NULL,
  -- gRPC code name and message of a failure.
  error_code        VARCHAR(32)     NOT NULL DEFAULT '',
  error_message     VARCHAR(2000)   NOT NULL DEFAULT '',
  needs_seller      BOOLEAN         NOT NULL DEFAULT FALSE,
  queued_at         DATETIME(6)     NOT NULL,
  started_at        DATETIME(6)     NULL,
  finished_at       DATETIME(6)     NULL,
  next_attempt_at   DATETIME(6)     NULL,
  PRIMARY KEY (seller_id, run_id),
  UNIQUE KEY uq_sync_runs_active (seller_id, active_account_id),
  KEY ix_sync_runs_account (seller_id, account_id, run_id),
  KEY ix_sync_runs_state (state, queued_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Per-stream progress of a run.
CREATE TABLE sync_run_streams (
  seller_id         BIGINT UNSIGNED NOT NULL,
  run_id            BIGINT UNSIGNED NOT NULL,
  stream            VARCHAR(64)     NOT NULL,
  records_loaded    BIGINT          NOT NULL DEFAULT 0,
  records_estimated BIGINT          NOT NULL DEFAULT 0,
  message           VARCHAR(500)    NOT NULL DEFAULT '',
  PRIMARY KEY (seller_id, run_id, stream)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The last checkpoint of each stream of each account. Opaque to ingest.
CREATE TABLE stream_cursors (
  seller_id    BIGINT UNSIGNED NOT NULL,
  account_id   BIGINT UNSIGNED NOT NULL,
  stream       VARCHAR(64)     NOT NULL,
  cursor_value BLOB            NOT NULL,
  -- When the cursor last changed (a re-sent identical cursor leaves it).
  saved_at     DATETIME(6)     NOT NULL,
  PRIMARY KEY (seller_id, account_id, stream)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE orders (
  seller_id         BIGINT UNSIGNED NOT NULL,
  account_id        BIGINT UNSIGNED NOT NULL,
  source_id         VARCHAR(191)    NOT NULL,
  ordered_at        DATETIME(6)     NULL,
  paid_at           DATETIME(6)     NULL,
  currency          CHAR(3)         NOT NULL,
  shipping_fee      BIGINT          NOT NULL,
  paid_amount       BIGINT          NOT NULL,
  buyer_hash        BINARY(32)      NULL,
  status            VARCHAR(32)     NOT NULL,
  raw_status        VARCHAR(64)     NOT NULL,
  channel           VARCHAR(64)     NOT NULL,
  source_updated_at DATETIME(6)     NULL,
  PRIMARY KEY (seller_id, account_id, source_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE order_lines (
  seller_id         BIGINT UNSIGNED NOT NULL,
  account_id        BIGINT UNSIGNED NOT NULL,
  source_id         VARCHAR(191)    NOT NULL,
  order_source_id   VARCHAR(191)    NOT NULL,
  product_source_id VARCHAR(191)    NOT NULL,
  option_source_id  VARCHAR(191)    NOT NULL,
  product_name      VARCHAR(500)    NOT NULL,
  option_name       VARCHAR(500)    NOT NULL,
  quantity          INT             NOT NULL,
  currency          CHAR(3)         NOT NULL,
  unit_price        BIGINT          NOT NULL,
  -- For the whole line, all units.
  option_price      BIGINT          NOT NULL,
  discount          BIGINT          NOT NULL,
  paid_amount       BIGINT          NOT NULL,
  status            VARCHAR(32)     NOT NULL,
  raw_status        VARCHAR(64)     NOT NULL,
  ordered_at        DATETIME(6)     NULL,
  paid_at           DATETIME(6)     NULL,
  -- Local date of paid_at in the seller's time zone: the sale's day.
  paid_local_date   DATE            NULL,
  PRIMARY KEY (seller_id, account_id, source_id),
  KEY ix_order_lines_paid (seller_id, paid_local_date),
  KEY ix_order_lines_order (seller_id, account_id, order_source_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Claims are keyed under their line: a platform claim id may cover several
-- lines (Cafe24 claim_code), each with its own quantity and refund.
CREATE TABLE order_line_claims (
  seller_id            BIGINT UNSIGNED NOT NULL,
  account_id           BIGINT UNSIGNED NOT NULL,
  line_source_id       VARCHAR(191)    NOT NULL,
  source_id            VARCHAR(191)    NOT NULL,
  -- 'CANCEL', 'RETURN', 'EXCHANGE'.
  claim_type           VARCHAR(16)     NOT NULL,
  -- 'REQUESTED', 'IN_PROGRESS', 'COMPLETED', 'REJECTED', 'WITHDRAWN'.
  state                VARCHAR(16)     NOT NULL,
  quantity             INT             NOT NULL,
  currency             CHAR(3)         NOT NULL,
  refund_amount        BIGINT          NOT NULL,
  raw_status           VARCHAR(64)     NOT NULL,
  requested_at         DATETIME(6)     NULL,
  completed_at         DATETIME(6)     NULL,
  -- Local date of completed_at in the seller's time zone.
  completed_local_date DATE            NULL,
  PRIMARY KEY (seller_id, account_id, line_source_id, source_id),
  KEY ix_order_line_claims_completed (seller_id, completed_local_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE products (
  seller_id         BIGINT UNSIGNED NOT NULL,
  account_id        BIGINT UNSIGNED NOT NULL,
  source_id         VARCHAR(191)    NOT NULL,
  code              VARCHAR(191)    NOT NULL,
  seller_code       VARCHAR(191)    NOT NULL,
  name              VARCHAR(500)    NOT NULL,
  currency          CHAR(3)         NOT NULL,
  price             BIGINT          NOT NULL,
  selling           BOOLEAN         NOT NULL,
  displayed         BOOLEAN         NOT NULL,
  raw_status        VARCHAR(64)     NOT NULL,
  source_created_at DATETIME(6)     NULL,
  source_updated_at DATETIME(6)     NULL,
  PRIMARY KEY (seller_id, account_id, source_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The categories a product is listed in (Product.category_source_ids).
CREATE TABLE product_categories (
  seller_id          BIGINT UNSIGNED NOT NULL,
  account_id         BIGINT UNSIGNED NOT NULL,
  product_source_id  VARCHAR(191)    NOT NULL,
  category_source_id VARCHAR(191)    NOT NULL,
  PRIMARY KEY (seller_id, account_id, product_source_id, category_source_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE product_options (
  seller_id         BIGINT UNSIGNED NOT NULL,
  account_id        BIGINT UNSIGNED NOT NULL,
  source_id         VARCHAR(191)    NOT NULL,
  product_source_id VARCHAR(191)    NOT NULL,
  name              VARCHAR(500)    NOT NULL,
  currency          CHAR(3)         NOT NULL,
  -- Surcharge for one unit.
  additional_price  BIGINT          NOT NULL,
  selling           BOOLEAN         NOT NULL,
  -- NULL when the platform does not report stock.
  stock_quantity    BIGINT          NULL,
  PRIMARY KEY (seller_id, account_id, source_id),
  KEY ix_product_options_product (seller_id, account_id, product_source_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE categories (
  seller_id        BIGINT UNSIGNED NOT NULL,
  account_id       BIGINT UNSIGNED NOT NULL,
  source_id        VARCHAR(191)    NOT NULL,
  parent_source_id VARCHAR(191)    NOT NULL,
  name             VARCHAR(255)    NOT NULL,
  full_name        VARCHAR(1000)   NOT NULL,
  depth            INT             NOT NULL,
  PRIMARY KEY (seller_id, account_id, source_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE coupons (
  seller_id            BIGINT UNSIGNED NOT NULL,
  account_id           BIGINT UNSIGNED NOT NULL,
  source_id            VARCHAR(191)    NOT NULL,
  name                 VARCHAR(500)    NOT NULL,
  -- 'AMOUNT', 'PERCENT', 'FREE_SHIPPING', 'POINTS', 'OTHER'.
  benefit              VARCHAR(16)     NOT NULL,
  raw_benefit_type     VARCHAR(64)     NOT NULL,
  currency             CHAR(3)         NOT NULL,
  -- NULL when the coupon has no fixed amount / no cap.
  benefit_amount       BIGINT          NULL,
  benefit_basis_points INT             NOT NULL,
  max_discount         BIGINT          NULL,
  available_from       DATETIME(6)     NULL,
  available_until      DATETIME(6)     NULL,
  deleted              BOOLEAN         NOT NULL,
  source_created_at    DATETIME(6)     NULL,
  PRIMARY KEY (seller_id, account_id, source_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
