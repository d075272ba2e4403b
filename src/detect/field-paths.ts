import { suggestionSuffix } from '../lib/did-you-mean.js';

/** What a field path holds, for load-time checks of modifiers and rule parameters. */
export type FieldType = 'string' | 'number' | 'boolean' | 'strings' | 'time' | 'object';

/**
 * Every field path a rule may name (selections, group_by, distinct/sum `field`, new_value `fields`),
 * with its type. Source of truth: `AccessEvent` (src/domain/access-event.ts) plus the virtual fields:
 * - `relations`: audit.object_name ∪ query.relations, unqualified names qualified as `public.`, lower-case
 * - `data_classes`: the catalog classes of `relations`, sorted
 * - `hour_of_day`: 0–23, UTC, from `time`
 * - `day_of_week`: ISO 8601, 1 = Monday … 7 = Sunday, UTC, from `time`
 * `app.detail.<key>` names any key of an app access event's detail object.
 */
export const FIELD_PATHS: ReadonlyMap<string, FieldType> = new Map<string, FieldType>([
  ['id', 'string'],
  ['time', 'time'],
  ['server', 'string'],
  ['source', 'object'],
  ['source.id', 'string'],
  ['source.file', 'string'],
  ['source.fingerprint', 'string'],
  ['source.offset', 'number'],
  ['kind', 'string'],
  ['user', 'string'],
  ['database', 'string'],
  ['client_addr', 'string'],
  ['client_port', 'number'],
  ['application_name', 'string'],
  ['pid', 'number'],
  ['session_id', 'string'],
  ['session_line', 'number'],
  ['backend_type', 'string'],
  ['severity', 'string'],
  ['sqlstate', 'string'],
  ['message', 'string'],
  ['detail', 'string'],
  ['hint', 'string'],
  ['context', 'string'],
  ['statement', 'string'],
  ['session_duration_ms', 'number'],
  ['truncated', 'boolean'],
  ['audit', 'object'],
  ['audit.audit_type', 'string'],
  ['audit.statement_id', 'number'],
  ['audit.substatement_id', 'number'],
  ['audit.class', 'string'],
  ['audit.command', 'string'],
  ['audit.object_type', 'string'],
  ['audit.object_name', 'string'],
  ['audit.statement', 'string'],
  ['audit.parameter', 'strings'],
  ['audit.rows', 'number'],
  ['query', 'object'],
  ['query.fingerprint', 'string'],
  ['query.normalized', 'string'],
  ['query.relations', 'strings'],
  ['query.flags', 'strings'],
  ['app', 'object'],
  ['app.actor', 'string'],
  ['app.action', 'string'],
  ['app.subject_table', 'string'],
  ['app.subject_id', 'string'],
  ['app.row_count', 'number'],
  ['app.detail', 'object'],
  ['relations', 'strings'],
  ['data_classes', 'strings'],
  ['hour_of_day', 'number'],
  ['day_of_week', 'number'],
]);

/** Virtual fields: computed from the event, not read from it. */
export const VIRTUAL_FIELDS: ReadonlySet<string> = new Set(['relations', 'data_classes', 'hour_of_day', 'day_of_week']);

/** Values of `kind` (EventKind in src/domain/access-event.ts), for checking `kind:` conditions at load. */
export const EVENT_KINDS: readonly string[] = ['audit', 'connection', 'authentication', 'authorization', 'auth_failure', 'disconnection', 'error', 'app_access', 'other'];

/** Prefix of free-form app detail keys (`app.detail.reason`). */
const APP_DETAIL_PREFIX = 'app.detail.';

/**
 * The type of `path`, or null when no such field exists. `app.detail.<key>` is a string
 * (or whatever the application stored: matched as written).
 */
export function fieldPathType(path: string): FieldType | null {
  const known = FIELD_PATHS.get(path);
  if (known !== undefined) return known;
  if (path.startsWith(APP_DETAIL_PREFIX) && path.length > APP_DETAIL_PREFIX.length) return 'string';
  return null;
}

/** The problem text for an unknown field path, with a "did you mean" among the known paths. */
export function unknownFieldProblem(path: string): string {
  return `unknown field "${path}"${suggestionSuffix(path, FIELD_PATHS.keys())}`;
}
