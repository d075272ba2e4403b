-- The access ledger (issue 5, "Access audit report"): per server, UTC day, role, catalogued relation and
-- client address, how many pgaudit entries read or changed the relation and how many rows they reported.
-- Written only by AccessLedgerRepository (src/db/access-ledger-repository.ts), which adds deltas onto
-- existing rows (upsert-adding); read by `jaga report access`. Holds no statement text, parameters or
-- row values. PostgreSQL 13+ syntax only (also runs on PGlite).
CREATE TABLE jaga_access_ledger (
  server            text        NOT NULL,
  day               date        NOT NULL,
  role              text        NOT NULL,
  relation          text        NOT NULL,
  client_addr       text        NOT NULL,
  data_classes      text[]      NOT NULL DEFAULT '{}',
  read_statements   bigint      NOT NULL DEFAULT 0 CHECK (read_statements >= 0),
  rows_read         bigint      NOT NULL DEFAULT 0 CHECK (rows_read >= 0),
  change_statements bigint      NOT NULL DEFAULT 0 CHECK (change_statements >= 0),
  rows_changed      bigint      NOT NULL DEFAULT 0 CHECK (rows_changed >= 0),
  commands          jsonb       NOT NULL DEFAULT '{}'::jsonb,
  first_seen        timestamptz NOT NULL,
  last_seen         timestamptz NOT NULL,
  PRIMARY KEY (server, day, role, relation, client_addr),
  CHECK (first_seen <= last_seen)
);

-- Reports read a range of days across servers.
CREATE INDEX jaga_access_ledger_day ON jaga_access_ledger (day);

COMMENT ON TABLE jaga_access_ledger IS 'jaga: reads and changes of catalogued (personal-data) relations per server, UTC day, role, relation and client address';
COMMENT ON COLUMN jaga_access_ledger.client_addr IS 'client address without port; [local] for Unix-socket sessions';
COMMENT ON COLUMN jaga_access_ledger.data_classes IS 'union of the catalog classes the relation had when counted';
COMMENT ON COLUMN jaga_access_ledger.read_statements IS 'pgaudit READ entries naming the relation';
COMMENT ON COLUMN jaga_access_ledger.change_statements IS 'pgaudit WRITE and DDL entries naming the relation';
COMMENT ON COLUMN jaga_access_ledger.commands IS 'entries per pgaudit command tag, e.g. {"SELECT": 12, "COPY": 1}';
