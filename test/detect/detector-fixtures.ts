/**
 * Test helpers for the detectors and the engine: CompiledRules built by hand (predicates written
 * as functions, params validated by the registry's zod schemas as the loader does), events with
 * every AccessEvent field defaulted, and a small catalog context.
 */
import type { AccessEvent } from '../../src/domain/access-event.js';
import { blankAccessEvent } from '../../src/domain/blank-access-event.js';
import type { Severity } from '../../src/domain/detection.js';
import type { CompiledException, CompiledRule, EventPredicate, MatchContext } from '../../src/detect/compiled-rule.js';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';

/** A context whose catalog classes `public.customers` as pii + contact and `public.payments` as payment. */
export const CONTEXT: MatchContext = {
  lists: new Map(),
  classesOf: (relation) => (relation === 'public.customers' ? ['contact', 'pii'] : relation === 'public.payments' ? ['payment'] : []),
};

export interface RuleSpec {
  id?: string;
  type: string;
  /** params as written in YAML (durations as strings); validated with the type's paramsSchema */
  params?: Record<string, unknown>;
  selections?: Record<string, EventPredicate>;
  /** default: the only selection, or any selection */
  matches?: EventPredicate;
  groupBy?: string[];
  suppressMs?: number;
  exceptions?: CompiledException[];
  kinds?: string[];
  stateKey?: string;
  severity?: Severity;
  enabled?: boolean;
}

/** A CompiledRule as the loader would produce it. @throws ZodError on bad params */
export function makeRule(spec: RuleSpec): CompiledRule {
  const module = DETECTOR_REGISTRY.get(spec.type);
  if (module === undefined) throw new Error(`unknown type ${spec.type}`);
  const selections = new Map(Object.entries(spec.selections ?? {}));
  const all = [...selections.values()];
  const id = spec.id ?? `test.${spec.type}`;
  return {
    id,
    title: `Test ${spec.type}`,
    description: 'test rule',
    severity: spec.severity ?? 'high',
    maturity: 'stable',
    tags: ['attack.t1110'],
    enabled: spec.enabled ?? true,
    type: spec.type,
    params: module.paramsSchema.parse(spec.params ?? {}),
    selections,
    matches: spec.matches ?? ((event, context) => all.some((predicate) => predicate(event, context))),
    conditionText: [...selections.keys()].join(' or '),
    groupBy: spec.groupBy ?? [],
    suppressMs: spec.suppressMs ?? 0,
    resolveAfterMs: null,
    exceptions: spec.exceptions ?? [],
    origin: { file: 'rules/test.yaml', overlays: [] },
    stateKey: spec.stateKey ?? `${id}:v1`,
    tests: [],
    ...(spec.kinds === undefined ? {} : { kinds: new Set(spec.kinds) }),
  };
}

let nextOffset = 0;

/** Restarts event ids (`db1:fp:<n>`) so runs of the same scenario get the same ids. */
export function resetEventIds(): void {
  nextOffset = 0;
}

/** An AccessEvent with defaults (kind audit, server db1, database crm) and a deterministic id. */
export function makeEvent(fields: Partial<AccessEvent> & { time: string }): AccessEvent {
  const offset = nextOffset++;
  return {
    ...blankAccessEvent({ id: `db1:fp:${offset}`, time: fields.time, server: 'db1', source: { id: 'db1', file: 'postgresql.log', fingerprint: 'fp', offset }, kind: 'audit' }),
    database: 'crm',
    severity: 'LOG',
    ...fields,
  };
}

/** ISO time `seconds` after 2026-01-01T00:00:00Z (fractions allowed). */
export function at(seconds: number): string {
  return new Date(Date.UTC(2026, 0, 1) + Math.round(seconds * 1000)).toISOString();
}

/** Predicate: the event's kind is `kind`. */
export function kindIs(kind: string): EventPredicate {
  return (event) => event.kind === kind;
}

/** An audit event: a pgaudit READ/WRITE entry on `objectName` with `rows`, plus literal-free query facts. */
export function auditEvent(seconds: number, fields: { user?: string | null; objectName?: string | null; rows?: number | null; command?: string; normalized?: string; relations?: string[]; client?: string }): AccessEvent {
  const command = fields.command ?? 'SELECT';
  return makeEvent({
    time: at(seconds),
    kind: 'audit',
    user: fields.user === undefined ? 'support_sari' : fields.user,
    client_addr: fields.client ?? '127.0.0.1',
    application_name: 'psql',
    statement: null,
    audit: {
      audit_type: 'SESSION',
      statement_id: 1,
      substatement_id: 1,
      class: command === 'SELECT' ? 'READ' : 'WRITE',
      command,
      object_type: 'TABLE',
      object_name: fields.objectName === undefined ? 'public.customers' : fields.objectName,
      statement: "SELECT * FROM customers WHERE email = 'secret@example.com'",
      parameter: ['secret-param'],
      rows: fields.rows === undefined ? 1 : fields.rows,
    },
    query: {
      fingerprint: 'a1b2c3d4e5f60718',
      normalized: fields.normalized ?? 'SELECT * FROM customers WHERE email = $1',
      relations: fields.relations ?? ['customers'],
      flags: ['has_where', 'select_star'],
    },
  });
}
