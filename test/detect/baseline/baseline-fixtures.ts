import { resolve } from 'node:path';
import type { AccessEvent } from '../../../src/domain/access-event.js';
import type { CompiledRule, MatchContext } from '../../../src/detect/compiled-rule.js';
import { DETECTOR_REGISTRY } from '../../../src/detect/detector-registry.js';
import { loadRuleSet } from '../../../src/detect/rule-loader.js';
import { audit, makeEvent } from '../rule-fixtures.js';

const HOUR_MS = 3_600_000;
/** 2026-01-05, a Monday */
export const MONDAY_MS = Date.parse('2026-01-05T00:00:00.000Z');

/** The shipped baseline rules (rules/baselines.yaml) compiled with the pack's test catalog. */
export async function shippedBaselines(): Promise<{ rules: CompiledRule[]; context: MatchContext }> {
  const pack = await loadRuleSet({ ruleDirs: [resolve('rules')], catalog: resolve('rules/tests/catalog.yaml'), registry: DETECTOR_REGISTRY });
  return { rules: pack.rules.filter((rule) => rule.id.startsWith('baseline.')), context: pack.context };
}

let sequence = 0;

/** A READ audit event of `user` on `table` with `rows`, at `timeMs`, in session `pid`. */
export function readEvent(user: string, table: string | null, rows: number, timeMs: number, extra: Partial<AccessEvent> = {}): AccessEvent {
  sequence++;
  return makeEvent({
    id: `test:fp:${sequence}`,
    time: new Date(timeMs).toISOString(),
    kind: 'audit',
    user,
    client_addr: '10.0.0.8',
    application_name: 'crm-support-desk',
    pid: 100 + (sequence % 7),
    session_id: `s${100 + (sequence % 7)}`,
    audit: audit({ object_name: table, rows, statement_id: sequence }),
    ...extra,
  });
}

/**
 * A deterministic multi-day workload: `days` weekdays from MONDAY_MS, for each of `roles` a few
 * reads per office hour (09-17 UTC) with rows varying by a fixed pattern, and a login per day.
 */
export function officeWorkload(roles: readonly string[], days: number, startMs = MONDAY_MS): AccessEvent[] {
  const events: AccessEvent[] = [];
  for (let day = 0; day < days; day++) {
    const dayMs = startMs + day * 24 * HOUR_MS;
    for (let hour = 9; hour < 17; hour++) {
      for (const [r, role] of roles.entries()) {
        events.push(readEvent(role, 'public.customers', 2 + ((day * 7 + hour * 3 + r) % 9), dayMs + hour * HOUR_MS + (r + 1) * 60_000));
        events.push(readEvent(role, 'public.orders', 10 + ((day + hour + r) % 5) * 4, dayMs + hour * HOUR_MS + (r + 1) * 60_000 + 30_000));
      }
    }
    for (const [r, role] of roles.entries()) events.push(makeEvent({ id: `test:login:${day}:${r}`, time: new Date(dayMs + 9 * HOUR_MS + r * 1000).toISOString(), kind: 'authorization', user: role, client_addr: '10.0.0.8', application_name: 'crm-support-desk' }));
  }
  return events.sort((a, b) => a.time.localeCompare(b.time));
}
