import type { AccessEvent, QueryFacts } from '../domain/access-event.js';
import type { QueryEnricher } from '../enrich/query-enricher.js';

/** Most audited statements a memo holds before it starts over. */
const MAX_MEMO_STATEMENTS = 4096;
/** Most UTF-16 code units of audited statements a memo holds before it starts over. */
const MAX_MEMO_CHARS = 4 * 1024 * 1024;

/** `QueryEnricher.enrich` for events that are serialised once and dropped (see `createQueryMemo`). */
export interface QueryMemo {
  /** Sets `event.query` exactly as `QueryEnricher.enrich(event)` would. Never throws. */
  enrich(event: AccessEvent): void;
}

/**
 * Remembers the `query` the enricher gave to audit events without an error STATEMENT, by their
 * `audit.statement` text, so an audited statement seen before (extended-protocol statements repeat
 * verbatim) skips the enricher's lookups and copies. Exact because `QueryEnricher.enrich` is
 * documented to derive `event.query` from `event.audit.statement` and `event.statement` alone, and
 * its facts do not depend on its cache state; other events go to the enricher unchanged.
 *
 * The facts object is shared by every event with that statement: only for callers that do not
 * modify `event.query` (here: `jaga parse`, which serialises each event and drops it). Memory is
 * bounded: 4,096 statements or 4 Mi code units of statement text, then the memo starts over.
 */
export function createQueryMemo(enricher: QueryEnricher): QueryMemo {
  const facts = new Map<string, QueryFacts | null>();
  let chars = 0;
  return {
    enrich(event) {
      const audit = event.audit;
      if (audit === null || event.statement !== null || typeof audit.statement !== 'string') {
        enricher.enrich(event);
        return;
      }
      const text = audit.statement;
      const known = facts.get(text);
      if (known !== undefined) {
        // null: the enricher leaves `query` as it is for this statement (blank or a placeholder)
        if (known !== null) event.query = known;
        return;
      }
      const before = event.query;
      enricher.enrich(event);
      // the enricher sets a fresh object, or leaves `query` as it was when there is nothing to analyze
      const result = event.query === before ? null : event.query;
      if (facts.size >= MAX_MEMO_STATEMENTS || chars + text.length > MAX_MEMO_CHARS) {
        facts.clear();
        chars = 0;
      }
      facts.set(text, result);
      chars += text.length;
    },
  };
}
