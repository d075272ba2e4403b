-- Responder HTTP endpoint auth (issue 7): API tokens, one-click link signing keys, used links,
-- web sessions and the admin audit log. Written only by src/http repositories (TokenRepository,
-- LinkSigner, SessionStore, AdminAuditLog). PostgreSQL 13+ syntax only (also runs on PGlite).

-- Bearer tokens `jaga_<43 base64url chars>`: only the SHA-256 hex of the whole token is stored.
CREATE TABLE jaga_http_token (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text        NOT NULL CHECK (name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
  role         text        NOT NULL CHECK (role IN ('viewer', 'responder', 'admin')),
  token_hash   text        NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NULL,
  revoked_at   timestamptz NULL
);
-- A name names at most one live token; revoked tokens keep their rows (audit) and free the name.
CREATE UNIQUE INDEX jaga_http_token_live_name ON jaga_http_token (name) WHERE revoked_at IS NULL;

-- HMAC-SHA256 keys of one-click links. The newest unretired key signs; every key verifies until
-- retired_at + link TTL (links it signed have expired by then). The secret must be readable to verify.
CREATE TABLE jaga_http_link_key (
  id         text        PRIMARY KEY,
  secret     text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz NULL
);

-- Nonces of one-click links that acted (a link works once); rows past expires_at may be purged.
CREATE TABLE jaga_http_used_link (
  nonce      text        PRIMARY KEY,
  used_at    timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX jaga_http_used_link_expires ON jaga_http_used_link (expires_at);

-- Web page sessions: the cookie holds a random id; only its SHA-256 hex is stored.
CREATE TABLE jaga_http_session (
  id_hash    text        PRIMARY KEY,
  token_id   bigint      NOT NULL REFERENCES jaga_http_token (id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX jaga_http_session_expires ON jaga_http_session (expires_at);

-- Admin actions (tokens, silences, key rotation): who, what, on what; never secrets.
CREATE TABLE jaga_admin_audit (
  id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at     timestamptz NOT NULL,
  actor  text        NOT NULL,
  action text        NOT NULL,
  target text        NOT NULL,
  detail jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX jaga_admin_audit_at ON jaga_admin_audit (at, id);

COMMENT ON TABLE jaga_http_token IS 'jaga: HTTP API bearer tokens (sha256 hashes only)';
COMMENT ON TABLE jaga_http_link_key IS 'jaga: HMAC keys of signed one-click links';
COMMENT ON TABLE jaga_http_used_link IS 'jaga: nonces of one-click links already used';
COMMENT ON TABLE jaga_http_session IS 'jaga: web page sessions (sha256 of the cookie id)';
COMMENT ON TABLE jaga_admin_audit IS 'jaga: audit log of admin actions';
