import type { IncidentChangeKind } from '../domain/incident-change.js';
import type { TimelineEntry } from '../domain/incident-timeline.js';
import { deadlineStatus, type Incident } from '../domain/incident.js';

/** Timeline kinds that record what the response team (or auto-resolve) did: the register's `actions`. */
const ACTION_KINDS: ReadonlySet<IncidentChangeKind> = new Set(['acknowledged', 'resolved', 'reopened']);

/**
 * One line of the breach register (`jaga incidents export`): what happened, when, which data classes,
 * the regulatory deadlines, the status, who acknowledged and resolved it when, and what was done (the
 * lifecycle entries of the timeline with their notes). Times are ISO-8601 UTC. Keys in this order.
 * Record-keeping duty: GDPR Art. 33(5) (document every personal data breach, its effects and the
 * remedial action taken).
 */
export interface BreachRegisterEntry {
  incident_id: number;
  detector: string;
  title: string;
  severity: string;
  status: string;
  server: string;
  /** who it is about (role, database, client address), null when unknown */
  user: string | null;
  database: string | null;
  client_addr: string | null;
  first_seen: string;
  last_seen: string;
  /** number of contributing events */
  count: number;
  data_classes: string[];
  /** the regulatory deadlines, soonest first */
  deadlines: { name: string; title: string; due_at: string }[];
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  previous_incident_id: number | null;
  summary: string;
  /** one line per lifecycle entry: `<at> <actor> <kind>[: <note>]`, oldest first */
  actions: string[];
}

/** The register columns, in CSV header order (the keys of BreachRegisterEntry). */
export const BREACH_REGISTER_COLUMNS: readonly (keyof BreachRegisterEntry)[] = [
  'incident_id', 'detector', 'title', 'severity', 'status', 'server', 'user', 'database', 'client_addr', 'first_seen', 'last_seen', 'count',
  'data_classes', 'deadlines', 'acknowledged_at', 'acknowledged_by', 'resolved_at', 'resolved_by', 'previous_incident_id', 'summary', 'actions',
];

/** The register entry of an incident and its timeline (pure). */
export function breachRegisterEntry(incident: Incident, timeline: readonly TimelineEntry[]): BreachRegisterEntry {
  return {
    incident_id: incident.id,
    detector: incident.detectorId,
    title: incident.title,
    severity: incident.severity,
    status: incident.status,
    server: incident.server,
    user: incident.entity.user,
    database: incident.entity.database,
    client_addr: incident.entity.client_addr,
    first_seen: incident.firstSeen.toISOString(),
    last_seen: incident.lastSeen.toISOString(),
    count: incident.count,
    data_classes: [...incident.dataClasses],
    deadlines: deadlineStatus(incident, new Date(0)).map(({ name, title, due_at }) => ({ name, title, due_at })),
    acknowledged_at: incident.acknowledgedAt?.toISOString() ?? null,
    acknowledged_by: incident.acknowledgedBy ?? null,
    resolved_at: incident.resolvedAt?.toISOString() ?? null,
    resolved_by: incident.resolvedBy ?? null,
    previous_incident_id: incident.previousIncidentId,
    summary: incident.summary,
    actions: timeline
      .filter((entry) => ACTION_KINDS.has(entry.kind))
      .map((entry) => `${entry.at.toISOString()} ${entry.actor} ${entry.kind}${entry.note === null || entry.note === '' ? '' : `: ${entry.note}`}`),
  };
}

/**
 * The register as CSV (RFC 4180: a header line, CRLF line ends, fields with a comma, quote, CR or LF
 * quoted with quotes doubled). Lists are joined: data classes with `;`, deadlines as
 * `name=due_at` with `;`, actions with LF (one line per action inside the cell). A text cell starting
 * with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'` so a spreadsheet never runs it as a formula
 * (OWASP, CSV injection).
 */
export function breachRegisterCsv(entries: readonly BreachRegisterEntry[]): string {
  const lines = [BREACH_REGISTER_COLUMNS.join(',')];
  for (const entry of entries) lines.push(BREACH_REGISTER_COLUMNS.map((column) => csvCell(cellText(entry, column))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function cellText(entry: BreachRegisterEntry, column: keyof BreachRegisterEntry): string {
  switch (column) {
    case 'data_classes':
      return entry.data_classes.join(';');
    case 'deadlines':
      return entry.deadlines.map((d) => `${d.name}=${d.due_at}`).join(';');
    case 'actions':
      return entry.actions.join('\n');
    default: {
      const value = entry[column];
      if (value === null) return '';
      if (typeof value === 'string') return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
      return String(value);
    }
  }
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
