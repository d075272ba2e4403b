-- Notifications (DESIGN.md section 6; issue 6 "Notifications"): the delivery outbox, the changes each
-- notification carries, and silences. Written only by src/notify (OutboxRepository, SilenceRepository,
-- NotificationPlanner). PostgreSQL 13+ syntax only (also runs on PGlite).

-- Silences: matchers that mute notifications (never incidents) between starts_at and ends_at.
CREATE TABLE jaga_silence (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  matchers    jsonb       NOT NULL,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  author      text        NOT NULL,
  reason      text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expired_at  timestamptz NULL,
  expired_by  text        NULL,
  CHECK (starts_at < ends_at)
);

CREATE INDEX jaga_silence_active ON jaga_silence (ends_at) WHERE expired_at IS NULL;

-- The outbox: one row per message to one receiver. `id` is the stable notification id (32 hex of
-- sha256 over receiver and change id, digest group or fallback source), so a replayed change never
-- writes a second row. A digest row collects the changes of one grouping window until it is due.
CREATE TABLE jaga_outbox (
  id              text        PRIMARY KEY,
  receiver        text        NOT NULL,
  kind            text        NOT NULL CHECK (kind IN ('single', 'digest', 'fallback')),
  incident_id     bigint      NULL,
  group_key       text        NULL,
  payload         jsonb       NOT NULL,
  status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_flight', 'delivered', 'dead', 'muted')),
  attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  group_closes_at timestamptz NULL,
  claimed_at      timestamptz NULL,
  claimed_by      text        NULL,
  last_error      text        NULL,
  silence_id      bigint      NULL REFERENCES jaga_silence (id),
  fallback_of     text        NULL,
  created_at      timestamptz NOT NULL,
  delivered_at    timestamptz NULL
);

-- Claiming: due rows of one receiver (pending), and leases that ran out (in_flight).
CREATE INDEX jaga_outbox_due ON jaga_outbox (receiver, next_attempt_at) WHERE status IN ('pending', 'in_flight');
-- Retention of delivered rows.
CREATE INDEX jaga_outbox_delivered ON jaga_outbox (delivered_at) WHERE status = 'delivered';
-- The open digest of a receiver (joined by changes until its window closes).
CREATE INDEX jaga_outbox_open_group ON jaga_outbox (receiver, group_closes_at) WHERE kind = 'digest' AND status = 'pending';

-- Which changes each notification carries: a change reaches one receiver at most once.
CREATE TABLE jaga_outbox_change (
  receiver        text NOT NULL,
  change_id       text NOT NULL,
  notification_id text NOT NULL REFERENCES jaga_outbox (id) ON DELETE CASCADE,
  PRIMARY KEY (receiver, change_id)
);

CREATE INDEX jaga_outbox_change_notification ON jaga_outbox_change (notification_id);

COMMENT ON TABLE jaga_silence IS 'jaga: silences (mute notifications, never incidents)';
COMMENT ON TABLE jaga_outbox IS 'jaga: notification outbox (claimed FOR UPDATE SKIP LOCKED by dispatchers)';
COMMENT ON COLUMN jaga_outbox.payload IS 'the rendered, redacted message model (NotificationMessage); never literals, parameters or rows';
COMMENT ON COLUMN jaga_outbox.last_error IS 'status or error code of the last failed attempt only (no response bodies, no customer data)';
COMMENT ON COLUMN jaga_outbox.attempts IS 'claims so far (a claim counts: a process killed mid-delivery used an attempt)';
COMMENT ON TABLE jaga_outbox_change IS 'jaga: the incident changes each notification carries (replay-safe)';
