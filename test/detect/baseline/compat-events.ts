import type { AccessEvent } from '../../../src/domain/access-event.js';
import { blankAccessEvent } from '../../../src/domain/blank-access-event.js';

const HOUR_MS = 3_600_000;
const START_MS = Date.parse('2026-01-05T08:00:00.000Z');
const TABLES = ['public.customers', 'public.payments', 'public.support_tickets', 'public.orders'];

/**
 * A deterministic bench-style workload for the baseline snapshot-compatibility test
 * (test/fixtures/baseline/head-snapshot.json was written by the HEAD build from these events):
 * `roles` roles reading a pii table 4 times per hour for `passes` hours (one login per 4 roles),
 * then from pass 7 a few roles per pass read in bulk, touch other tables, come from a new client
 * or application, or fail logins and get 42501; pass 9 jumps to 03:00 the next day; pass 10 adds
 * new roles. Same shape as bench/baselines.js events.
 */
export function compatEvents(roles: number, passes: number): AccessEvent[] {
  const out: AccessEvent[] = [];
  let n = 0;
  for (let pass = 0; pass < passes; pass++) {
    const hourMs = START_MS + pass * HOUR_MS + (pass >= 9 ? 19 * HOUR_MS : 0);
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < roles; i++) {
        const timeMs = hourMs + Math.floor(((k * roles + i) / (roles * 4)) * HOUR_MS);
        const odd = pass >= 7 && i % 17 === pass % 17;
        const rows = odd && i % 3 === 0 ? 5000 + i : 1 + ((i + k + pass) % 13);
        const table = odd && i % 3 === 1 ? (TABLES[(k + i) % TABLES.length] as string) : 'public.customers';
        const client = odd && i % 5 === 2 ? `192.168.${i & 255}.${k}` : `10.0.${(i >> 8) & 255}.${i & 255}`;
        const session = i % 11 === 3 && pass >= 8 ? `s${i}.${pass}.${k}` : `s${i}.${pass}`;
        const event: AccessEvent = {
          ...blankAccessEvent({ id: `compat:${pass}:${k}:${i}`, time: new Date(timeMs).toISOString(), server: 'compat', source: { id: 'compat', file: null, fingerprint: null, offset: n++ }, kind: 'audit' }),
          user: i % 97 === 5 && pass === 10 ? `newrole_${i}` : `role_${i}`,
          database: 'crm',
          client_addr: client,
          client_port: 50000,
          application_name: odd && i % 7 === 1 ? 'psql' : 'crm-web',
          pid: 10_000 + i,
          session_id: session,
          session_line: k,
          backend_type: 'client backend',
          severity: 'LOG',
          audit: { audit_type: 'SESSION', statement_id: k + 1, substatement_id: 1, class: 'READ', command: 'SELECT', object_type: 'TABLE', object_name: table, statement: 'SELECT 1', parameter: '<none>', rows },
        };
        out.push(event);
        if (k === 0 && i % 4 === 0) out.push({ ...event, id: `${event.id}:login`, kind: 'authorization', audit: null, session_line: 0 });
        if (odd && i % 2 === 0 && k < 3) {
          for (let f = 0; f < 3; f++) {
            out.push({ ...event, id: `${event.id}:fail${f}`, kind: f === 2 ? 'error' : 'auth_failure', sqlstate: f === 2 ? '42501' : '28P01', severity: f === 2 ? 'ERROR' : 'FATAL', audit: null });
          }
        }
      }
    }
  }
  return out;
}
