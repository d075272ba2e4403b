-- Incident lifecycle (issue 6): who acknowledged and resolved an incident and when, its auto-resolve
-- period, the append-only timeline of every IncidentChange, and the escalation steps and regulatory
-- deadline reminders already fired (one row each, so a restart never fires one twice or forgets it).
-- Written only by the incidents stage (src/incidents). PostgreSQL 13+ syntax only (also runs on PGlite).

ALTER TABLE jaga_incident
  ADD COLUMN acknowledged_at  timestamptz NULL,
  ADD COLUMN acknowledged_by  text        NULL,
  ADD COLUMN resolved_at      timestamptz NULL,
  ADD COLUMN resolved_by      text        NULL,
  ADD COLUMN resolve_after_ms bigint      NULL CHECK (resolve_after_ms IS NULL OR resolve_after_ms > 0),
  ADD COLUMN last_detected_at timestamptz NULL;

COMMENT ON COLUMN jaga_incident.acknowledged_at IS 'when a responder last acknowledged it (cleared by reopen)';
COMMENT ON COLUMN jaga_incident.acknowledged_by IS 'actor of the last acknowledgement, e.g. responder:alice';
COMMENT ON COLUMN jaga_incident.resolved_at IS 'when it was resolved (cleared by reopen); evidence retention counts from here';
COMMENT ON COLUMN jaga_incident.resolved_by IS 'actor of the resolve: responder:<name> or system (auto-resolve)';
COMMENT ON COLUMN jaga_incident.resolve_after_ms IS 'quiet period after which the incident auto-resolves (per rule); NULL = the configured default';
COMMENT ON COLUMN jaga_incident.last_detected_at IS 'agent wall clock when the latest detection was applied (auto-resolve quiet period counts from the later of this and last_seen)';

-- Live incidents for the auto-resolve and escalation jobs (the live set is small; this keeps the scan off resolved rows).
CREATE INDEX jaga_incident_live_status ON jaga_incident (status, created_at) WHERE status IN ('open', 'acknowledged');
-- Resolved incidents by resolve time, for evidence retention.
CREATE INDEX jaga_incident_resolved_at ON jaga_incident (resolved_at) WHERE status = 'resolved';

-- Append-only: one row per IncidentChange, keyed by its deterministic id (a replayed change is not written twice).
CREATE TABLE jaga_incident_timeline (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint      NOT NULL REFERENCES jaga_incident (id),
  change_id   text        NOT NULL UNIQUE,
  kind        text        NOT NULL CHECK (kind IN ('opened', 'updated', 'severity_raised', 'acknowledged', 'resolved', 'reopened', 'escalated', 'deadline_reminder')),
  actor       text        NOT NULL,
  at          timestamptz NOT NULL,
  note        text        NULL,
  detail      jsonb       NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX jaga_incident_timeline_incident ON jaga_incident_timeline (incident_id, id);
CREATE INDEX jaga_incident_timeline_at ON jaga_incident_timeline (at) WHERE kind = 'updated';

-- Escalation steps fired: the primary key makes each step fire once per incident across restarts and agents.
CREATE TABLE jaga_incident_escalation (
  incident_id bigint      NOT NULL REFERENCES jaga_incident (id),
  step        integer     NOT NULL CHECK (step >= 1),
  fired_at    timestamptz NOT NULL,
  PRIMARY KEY (incident_id, step)
);

-- Regulatory deadline reminders fired: one per incident, deadline name and offset before it.
CREATE TABLE jaga_incident_reminder (
  incident_id bigint      NOT NULL REFERENCES jaga_incident (id),
  deadline    text        NOT NULL,
  before_ms   bigint      NOT NULL CHECK (before_ms >= 0),
  fired_at    timestamptz NOT NULL,
  PRIMARY KEY (incident_id, deadline, before_ms)
);

COMMENT ON TABLE jaga_incident_timeline IS 'jaga: append-only incident timeline (who did what, when); detail holds counts, severities, steps, deadlines, never customer data';
COMMENT ON TABLE jaga_incident_escalation IS 'jaga: escalation steps fired per incident (each once)';
COMMENT ON TABLE jaga_incident_reminder IS 'jaga: regulatory deadline reminders fired per incident (each once)';
