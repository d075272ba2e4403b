import type { AuditFields } from '../domain/access-event.js';
import { quote, quoteOrNull } from './event-json-quote.js';

/** Most statements remembered; past it (or past `MAX_REMEMBERED_CHARS`) the memory starts over. */
const MAX_STATEMENTS = 16_384;
/** Most UTF-16 code units held over all entries (each statement's text and JSON). */
const MAX_REMEMBERED_CHARS = 32 * 1024 * 1024;
/** Statements longer than this are not remembered (a lookup hashes and compares the whole text). */
const MAX_STATEMENT_CHARS = 64 * 1024;

/** What `EventJsonStatements` remembers of one pgaudit statement. */
export interface StatementJson {
  /** `JSON.stringify(statement)` */
  readonly json: string;
  /** the audit fields around the statement of its last event, and their `fragment` */
  auditClass: string;
  command: string;
  objectType: string | null;
  objectName: string | null;
  /** `,"class":...,"command":...,"object_type":...,"object_name":...,"statement":<json>,"parameter":` */
  fragment: string;
}

/**
 * The JSON of pgaudit statements for `EventJsonSerializer`, remembered per statement text: the
 * statement itself and the `,"class":...,"parameter":` part of `audit` around it. Statements repeat
 * (extended-protocol statements are logged verbatim), so the escape check and JSON.stringify call
 * of a repeat are skipped; the map lookup reuses the hash the enricher's lookup of the same string
 * computed. Bounded: 16,384 statements of at most 64 Ki code units each and 32 Mi code units in
 * all (text and JSON), then it starts over; longer statements are not kept.
 */
export class EventJsonStatements {
  private readonly entries = new Map<string, StatementJson>();
  private chars = 0;

  /** The remembered JSON of `audit.statement`, its `fragment` made for `audit`'s fields. */
  of(audit: AuditFields): StatementJson {
    const statement = audit.statement;
    const known = this.entries.get(statement);
    if (known === undefined) return this.add(audit);
    if (known.auditClass !== audit.class || known.command !== audit.command || known.objectType !== audit.object_type || known.objectName !== audit.object_name) {
      known.auditClass = audit.class;
      known.command = audit.command;
      known.objectType = audit.object_type;
      known.objectName = audit.object_name;
      known.fragment = fragmentOf(audit, known.json);
    }
    return known;
  }

  private add(audit: AuditFields): StatementJson {
    const statement = audit.statement;
    const json = quote(statement);
    const entry: StatementJson = {
      json,
      auditClass: audit.class,
      command: audit.command,
      objectType: audit.object_type,
      objectName: audit.object_name,
      fragment: fragmentOf(audit, json),
    };
    if (statement.length > MAX_STATEMENT_CHARS) return entry;
    const chars = statement.length + json.length;
    if (this.entries.size >= MAX_STATEMENTS || this.chars + chars > MAX_REMEMBERED_CHARS) {
      this.entries.clear();
      this.chars = 0;
    }
    this.entries.set(statement, entry);
    this.chars += chars;
    return entry;
  }
}

/** `,"class":...,"statement":<statementJson>,"parameter":` of the audit fields. */
function fragmentOf(audit: AuditFields, statementJson: string): string {
  return (
    `,"class":${quote(audit.class)},"command":${quote(audit.command)},"object_type":${quoteOrNull(audit.object_type)}` +
    `,"object_name":${quoteOrNull(audit.object_name)},"statement":${statementJson},"parameter":`
  );
}
