-- Seller sign-in, sessions, sign-in throttling and API keys (package
-- internal/identity). Secrets are never stored: passwords as bcrypt hashes,
-- session tokens and API key secrets as SHA-256 of 32 random bytes (enough
-- entropy that a fast hash cannot be brute-forced).

CREATE TABLE seller_logins (
  seller_id           BIGINT UNSIGNED NOT NULL,
  -- Lower-cased; one seller per address.
  email               VARCHAR(191)    NOT NULL,
  display_name        VARCHAR(255)    NOT NULL,
  password_hash       VARBINARY(100)  NOT NULL,
  password_changed_at DATETIME(6)     NOT NULL,
  created_at          DATETIME(6)     NOT NULL,
  PRIMARY KEY (seller_id),
  UNIQUE KEY uq_seller_logins_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE seller_sessions (
  seller_id  BIGINT UNSIGNED NOT NULL,
  token_hash BINARY(32)      NOT NULL,
  csrf_token VARCHAR(64)     NOT NULL,
  created_at DATETIME(6)     NOT NULL,
  expires_at DATETIME(6)     NOT NULL,
  PRIMARY KEY (seller_id, token_hash),
  -- A session is found by its token before its seller is known.
  UNIQUE KEY uq_seller_sessions_token (token_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Failed sign-ins per e-mail and per client, shared by every replica, so
-- the slow-down holds however requests are balanced. Not keyed by seller:
-- an attempt may name no seller at all.
CREATE TABLE sign_in_throttle (
  -- 'email:<sha256 hex>' or 'client:<sha256 hex>'.
  throttle_key     CHAR(71)    NOT NULL,
  failures         INT         NOT NULL,
  first_failure_at DATETIME(6) NOT NULL,
  blocked_until    DATETIME(6) NULL,
  PRIMARY KEY (throttle_key)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- API keys for internal teams. Keyed by key id alone: an ALL-scoped key has
-- no seller, and every call finds its key by id first.
CREATE TABLE api_keys (
  key_id       BIGINT UNSIGNED NOT NULL,
  -- 'SELLER' or 'ALL'.
  scope        VARCHAR(8)      NOT NULL,
  -- The seller of a SELLER key; 0 for ALL.
  seller_id    BIGINT UNSIGNED NOT NULL,
  name         VARCHAR(255)    NOT NULL,
  secret_hash  BINARY(32)      NOT NULL,
  created_at   DATETIME(6)     NOT NULL,
  last_used_at DATETIME(6)     NULL,
  revoked_at   DATETIME(6)     NULL,
  PRIMARY KEY (key_id),
  KEY ix_api_keys_seller (seller_id, key_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
