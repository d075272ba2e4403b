/**
 * digestEvent's data_classes are remembered per frozen query facts object and audit object name:
 * they must always equal the classes of the event's own relations (audit.object_name ∪
 * query.relations) in the context given, for shared frozen facts, facts that are not frozen (and
 * change between events), and a change of context.
 */
import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import type { MatchContext } from '../../src/detect/compiled-rule.js';
import { DataCatalog } from '../../src/detect/data-catalog.js';
import { digestEvent } from '../../src/detect/event-digest.js';
import { audit, makeEvent } from './rule-fixtures.js';

/** a match context over a catalog of `tables` (table → classes) */
function contextOf(tables: Record<string, string[]>): MatchContext {
  const catalog = new DataCatalog([{ tables: Object.fromEntries(Object.entries(tables).map(([table, classes]) => [table, { classes, columns: {} }])) }]);
  return { lists: new Map(), classesOf: (relation) => catalog.classesOf(relation) };
}

const CONTEXT = contextOf({ 'public.customers': ['pii'], 'public.payments': ['payment'], 'crm.notes': ['pii', 'free_text'] });

/** frozen facts as QueryEnricher shares them */
function frozenFacts(relations: string[]): NonNullable<AccessEvent['query']> {
  return Object.freeze({ fingerprint: 'f', normalized: 'SELECT 1', relations: Object.freeze(relations) as string[], flags: Object.freeze([]) as unknown as string[] });
}

let next = 0;
/** a fresh audit event (digests are remembered for the last event only) */
function auditEvent(objectName: string | null, query: AccessEvent['query']): AccessEvent {
  return makeEvent({ id: `test:fp:${next++}`, kind: 'audit', audit: audit({ object_name: objectName }), query });
}

describe('digestEvent data classes', () => {
  it('gives each object name of shared frozen facts its own classes', () => {
    const facts = frozenFacts(['customers', 'payments']);
    expect(digestEvent(auditEvent('public.customers', facts), CONTEXT).data_classes).toEqual(['payment', 'pii']);
    expect(digestEvent(auditEvent('crm.notes', facts), CONTEXT).data_classes).toEqual(['free_text', 'payment', 'pii']);
    expect(digestEvent(auditEvent(null, facts), CONTEXT).data_classes).toEqual(['payment', 'pii']);
    expect(digestEvent(auditEvent('public.customers', facts), CONTEXT).data_classes).toEqual(['payment', 'pii']);
    expect(digestEvent(auditEvent('public.unclassified', frozenFacts([])), CONTEXT).data_classes).toEqual([]);
  });

  it('follows facts that are not frozen when they change', () => {
    const facts = { fingerprint: 'f', normalized: 'SELECT 1', relations: ['customers'], flags: [] };
    expect(digestEvent(auditEvent(null, facts), CONTEXT).data_classes).toEqual(['pii']);
    facts.relations = ['payments'];
    expect(digestEvent(auditEvent(null, facts), CONTEXT).data_classes).toEqual(['payment']);
    expect(digestEvent(auditEvent('public.customers', null), CONTEXT).data_classes).toEqual(['pii']);
  });

  it('classes the same frozen facts again in another context', () => {
    const facts = frozenFacts(['customers']);
    expect(digestEvent(auditEvent(null, facts), CONTEXT).data_classes).toEqual(['pii']);
    const other = contextOf({ 'public.customers': ['contact'] });
    expect(digestEvent(auditEvent(null, facts), other).data_classes).toEqual(['contact']);
    expect(digestEvent(auditEvent(null, facts), CONTEXT).data_classes).toEqual(['pii']);
  });

  it('starts a facts entry over past 64 object names, still answering each event', () => {
    const facts = frozenFacts([]);
    const context = contextOf(Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`public.t${i}`, [i % 2 === 0 ? 'pii' : 'payment']])));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 70; i++) expect(digestEvent(auditEvent(`t${i}`, facts), context).data_classes).toEqual([i % 2 === 0 ? 'pii' : 'payment']);
    }
  });
});
