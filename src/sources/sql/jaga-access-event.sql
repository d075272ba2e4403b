-- jaga access-event table, for the MONITORED database (PostgreSQL 13 or later).
--
-- The application records every access to customer personal data it performs on behalf of a user
-- with one INSERT into jaga_access_event; jaga reads the table (SELECT only) and turns each row into an
-- `app_access` event. Install or upgrade with `psql -v ON_ERROR_STOP=1 -f jaga-access-event.sql`, run by
-- the role that should own the table (not the application's role). The script is idempotent: running
-- it again changes nothing that exists and adds what is missing. Objects are created in the first
-- schema of the installer's search_path; jaga's role must find the table on its own search_path.
--
-- Reading contract (src/sources/app-access-source.ts): the trigger NOTIFYs channel `jaga_access_event`
-- with the new row's id only. A NOTIFY only wakes jaga; the truth is the table, read in (txid, id)
-- order below the oldest transaction still running, so a notification that is lost (jaga
-- disconnected) loses nothing. The payload is never the row: a NOTIFY payload over 8000 bytes raises
-- an error, which would make the application's own INSERT fail.
--
-- Privileges (run once, with your role names; jaga does not run these):
--
--   REVOKE ALL ON jaga_access_event FROM PUBLIC;
--   -- the application may INSERT only, and only the descriptive columns: id, txid (the read cursor)
--   -- and nothing else is its to choose
--   GRANT INSERT (time, actor, action, subject_table, subject_id, row_count, client_addr,
--                 application_name, detail) ON jaga_access_event TO app_role;
--   GRANT USAGE ON SEQUENCE jaga_access_event_id_seq TO app_role;   -- for the id default
--   -- only if the app uses INSERT ... RETURNING id (RETURNING needs SELECT on what it returns):
--   --   GRANT SELECT (id) ON jaga_access_event TO app_role;
--   -- jaga reads only
--   GRANT SELECT ON jaga_access_event TO jaga_role;
--   -- nobody is granted UPDATE, DELETE or TRUNCATE: the table is append-only. The triggers below
--   -- also refuse them to the owner; retention (deleting old rows) is an explicit owner action,
--   -- in one transaction so no other session ever sees the trigger disabled:
--   --   BEGIN;
--   --   ALTER TABLE jaga_access_event DISABLE TRIGGER jaga_access_event_append_only;
--   --   DELETE FROM jaga_access_event WHERE time < now() - interval '400 days';
--   --   ALTER TABLE jaga_access_event ENABLE TRIGGER jaga_access_event_append_only;
--   --   COMMIT;
--   -- (deleting rows jaga has already read is safe: its cursor only moves forward).

BEGIN;

CREATE TABLE IF NOT EXISTS jaga_access_event (
  -- assigned by the sequence before commit, so ids do NOT follow commit order: never a cursor alone
  id               bigserial   PRIMARY KEY,
  -- when the access happened (the application may set it; default: the inserting transaction's start)
  time             timestamptz NOT NULL DEFAULT now(),
  -- the end user or service on whose behalf the application read the data
  actor            text        NOT NULL,
  -- what was done, e.g. `view`, `export`, `search`, `download`
  action           text        NOT NULL,
  -- the table (or logical record type) whose data was accessed, e.g. `public.customers`
  subject_table    text,
  -- which record (primary key as text), when one
  subject_id       text,
  -- how many records the access returned
  row_count        bigint,
  -- the end user's address as the application saw it
  client_addr      inet,
  -- the application (or component) that performed the access
  application_name text,
  -- free-form context; must be a JSON object (jaga counts and skips rows where it is not)
  detail           jsonb,
  -- commit-safe read cursor: the inserting transaction's id (64-bit, never wraps), forced by trigger
  txid             xid8        NOT NULL DEFAULT pg_current_xact_id()
);

-- jaga reads `WHERE (txid, id) > (cursor) AND txid < snapshot xmin ORDER BY txid, id LIMIT n`.
CREATE INDEX IF NOT EXISTS jaga_access_event_txid_id_idx ON jaga_access_event (txid, id);

-- The cursor column must be the inserting transaction's id whatever the INSERT says.
CREATE OR REPLACE FUNCTION jaga_access_event_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.txid := pg_current_xact_id();
  RETURN NEW;
END
$$;

-- Wakes jaga: the payload is the new id only (a few bytes whatever the row's size).
CREATE OR REPLACE FUNCTION jaga_access_event_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jaga_access_event', NEW.id::text);
  RETURN NULL;
END
$$;

-- Append-only: refuses UPDATE, DELETE and TRUNCATE (see the retention note above).
CREATE OR REPLACE FUNCTION jaga_access_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'jaga_access_event is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

-- CREATE OR REPLACE TRIGGER needs PostgreSQL 14; drop-and-create keeps 13 supported.
DROP TRIGGER IF EXISTS jaga_access_event_stamp ON jaga_access_event;
CREATE TRIGGER jaga_access_event_stamp
  BEFORE INSERT ON jaga_access_event
  FOR EACH ROW EXECUTE FUNCTION jaga_access_event_stamp();

DROP TRIGGER IF EXISTS jaga_access_event_notify ON jaga_access_event;
CREATE TRIGGER jaga_access_event_notify
  AFTER INSERT ON jaga_access_event
  FOR EACH ROW EXECUTE FUNCTION jaga_access_event_notify();

DROP TRIGGER IF EXISTS jaga_access_event_append_only ON jaga_access_event;
CREATE TRIGGER jaga_access_event_append_only
  BEFORE UPDATE OR DELETE ON jaga_access_event
  FOR EACH ROW EXECUTE FUNCTION jaga_access_event_append_only();

DROP TRIGGER IF EXISTS jaga_access_event_no_truncate ON jaga_access_event;
CREATE TRIGGER jaga_access_event_no_truncate
  BEFORE TRUNCATE ON jaga_access_event
  FOR EACH STATEMENT EXECUTE FUNCTION jaga_access_event_append_only();

COMMIT;
