/**
 * A detector's output, not yet persisted (DESIGN.md vocabulary: detection). Rule detectors and
 * baseline detectors produce the same shape, so incidents, suppression and notifications treat
 * them alike. Carries no customer data: evidence holds normalised statements (constants as `$n`),
 * fingerprints, object names, counts, roles and clients only.
 */

/** Severity ladder, lowest first (ordering matters: severity may only rise on an incident). */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rule maturity: experimental rules detect but never notify. */
export type Maturity = 'experimental' | 'stable';

/** Who an incident is about, taken from the contributing events. */
export interface DetectionEntity {
  user: string | null;
  database: string | null;
  client_addr: string | null;
  application_name: string | null;
}

/** One redacted piece of evidence: what an event was, never its literals, parameters or rows. */
export interface EvidenceItem {
  /** the contributing event's id (deterministic: source, file fingerprint, offset) */
  event_id: string;
  /** event time, ISO-8601 UTC */
  time: string;
  kind: string;
  user: string | null;
  client_addr: string | null;
  application_name: string | null;
  /** audit class and command, e.g. `READ` / `SELECT` */
  class: string | null;
  command: string | null;
  object_name: string | null;
  /** libpg-query fingerprint of the statement */
  fingerprint: string | null;
  /** statement with every constant replaced by `$n` (never the raw statement) */
  normalized: string | null;
  rows: number | null;
  sqlstate: string | null;
}

/**
 * A detection. `id` is deterministic (a hash of detector id, group key and the contributing
 * event ids or window), so replaying the same events after a crash gives the same ids.
 */
export interface Detection {
  id: string;
  /** rule id, or `baseline.<name>` for baseline detectors */
  detectorId: string;
  title: string;
  severity: Severity;
  maturity: Maturity;
  tags: string[];
  /** the source name (server) of the contributing events */
  server: string;
  /** group_by field values, keyed by field path (empty object when the rule has no group_by) */
  group: Record<string, string | number | null>;
  /** canonical JSON of `group` (keys sorted): together with server and detectorId it makes the IncidentFingerprint */
  groupKey: string;
  entity: DetectionEntity;
  /** event time of the earliest contributing event (for `absence`: the start of the silence), ISO UTC */
  firstSeen: string;
  /** event time of the latest contributing event (for `absence`: when it fired), ISO UTC */
  lastSeen: string;
  /** number of contributing events */
  count: number;
  /** bounded sample (at most 20) of redacted evidence, oldest first */
  evidence: EvidenceItem[];
  /** data classes of the tables touched (from the data catalog), sorted, e.g. ['pii'] */
  dataClasses: string[];
  /** why it fired: matched selections, counts vs thresholds, or baseline statistics */
  explanation: Record<string, unknown>;
  /** one-line human summary without literals or parameters */
  summary: string;
  /** anomaly score for baseline detections, null for rules */
  score: number | null;
}
