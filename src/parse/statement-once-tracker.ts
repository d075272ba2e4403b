/**
 * Remembers, per session, the statement text and parameters pgaudit printed on the first entry of a
 * (statement_id, substatement_id), so that later entries printed with `pgaudit.log_statement_once`
 * (`<previously logged>,<previously logged>`) can carry them.
 *
 * Source of truth: pgaudit.c `log_audit_event`: the statement is printed once per audit stack item
 * (one substatement); statement ids only grow within a backend, and every entry of a statement is
 * logged before the next statement starts. So a session only needs the substatements of its latest
 * statement id: an entry with a new statement id replaces them.
 *
 * Bounded: at most `maxSessions` sessions (least recently used forgotten first) and
 * `maxSubstatementsPerSession` substatements each (oldest forgotten first).
 */
export class StatementOnceTracker {
  private readonly sessions = new Map<string, { statementId: number; byId: Map<number, CarriedStatement> }>();

  constructor(
    /** most sessions remembered (default 10,000) */
    private readonly maxSessions = 10_000,
    /** most substatements remembered per session (default 64) */
    private readonly maxSubstatementsPerSession = 64,
  ) {}

  /** Number of sessions currently remembered. */
  get size(): number {
    return this.sessions.size;
  }

  /** Records the statement/parameter printed for (session, statementId, substatementId). */
  remember(session: string, statementId: number, substatementId: number, carried: CarriedStatement): void {
    let entry = this.sessions.get(session);
    if (entry) {
      this.sessions.delete(session);
      if (entry.statementId !== statementId) entry = { statementId, byId: new Map() };
    } else {
      entry = { statementId, byId: new Map() };
      if (this.sessions.size >= this.maxSessions) {
        const oldest = this.sessions.keys().next();
        if (!oldest.done) this.sessions.delete(oldest.value);
      }
    }
    this.sessions.set(session, entry);
    entry.byId.delete(substatementId);
    if (entry.byId.size >= this.maxSubstatementsPerSession) {
      const oldest = entry.byId.keys().next();
      if (!oldest.done) entry.byId.delete(oldest.value);
    }
    entry.byId.set(substatementId, carried);
  }

  /** The remembered statement/parameter of (session, statementId, substatementId), or null. */
  recall(session: string, statementId: number, substatementId: number): CarriedStatement | null {
    const entry = this.sessions.get(session);
    if (!entry || entry.statementId !== statementId) return null;
    return entry.byId.get(substatementId) ?? null;
  }

  /** Forgets a session (on its disconnection). */
  forget(session: string): void {
    this.sessions.delete(session);
  }
}

/** What is carried from the first entry of a substatement. */
export interface CarriedStatement {
  statement: string;
  parameter: string[] | string;
}
