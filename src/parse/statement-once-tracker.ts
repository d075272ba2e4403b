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
 * Sessions are keys of any string or number (e.g. a session id, or a pid when the format has none);
 * a string and a number are different sessions.
 * Bounded: at most `maxSessions` sessions (least recently remembered forgotten first) and
 * `maxSubstatementsPerSession` substatements each (oldest forgotten first).
 */
export class StatementOnceTracker implements StatementMemory {
  /** the sessions remembered, for lookup; recency order is kept by the list below */
  private readonly sessions = new Map<SessionKey, SessionEntry>();
  /** least recently remembered session (evicted first) */
  private oldest: SessionEntry | null = null;
  /** most recently remembered session */
  private newest: SessionEntry | null = null;

  constructor(
    /** most sessions remembered (default 10,000) */
    readonly maxSessions = 10_000,
    /** most substatements remembered per session (default 64) */
    private readonly maxSubstatementsPerSession = 64,
  ) {}

  /** Number of sessions currently remembered. */
  get size(): number {
    return this.sessions.size;
  }

  /** Records the statement/parameter printed for (session, statementId, substatementId). */
  remember(session: SessionKey, statementId: number, substatementId: number, carried: CarriedStatement): void {
    let entry = this.sessions.get(session);
    if (entry) {
      if (entry !== this.newest) {
        this.unlink(entry);
        this.append(entry);
      }
      if (entry.statementId !== statementId) {
        entry.statementId = statementId;
        // a loop, not `fill(null, 0, count)`: a built-in call costs more than the one or two slots cleared
        const carriedList = entry.carried;
        for (let k = 0; k < entry.count; k++) carriedList[k] = null;
        entry.count = 0;
      }
    } else {
      entry = { key: session, statementId, count: 0, substatementIds: [], carried: [], older: null, newer: null };
      if (this.sessions.size >= this.maxSessions) {
        const oldest = this.oldest;
        if (oldest !== null) {
          this.sessions.delete(oldest.key);
          this.unlink(oldest);
        }
      }
      this.sessions.set(session, entry);
      this.append(entry);
    }
    const ids = entry.substatementIds;
    const carriedList = entry.carried;
    // Remove the substatement if held, else the oldest one when full; then append it (newest last).
    let remove = -1;
    for (let k = 0; k < entry.count; k++) {
      if (ids[k] === substatementId) {
        remove = k;
        break;
      }
    }
    if (remove < 0 && entry.count >= this.maxSubstatementsPerSession && entry.count > 0) remove = 0;
    if (remove >= 0) {
      for (let k = remove + 1; k < entry.count; k++) {
        ids[k - 1] = ids[k] as number;
        carriedList[k - 1] = carriedList[k] as CarriedStatement;
      }
      entry.count--;
    }
    ids[entry.count] = substatementId;
    carriedList[entry.count] = carried;
    entry.count++;
  }

  /** The remembered statement/parameter of (session, statementId, substatementId), or null. */
  recall(session: SessionKey, statementId: number, substatementId: number): CarriedStatement | null {
    const entry = this.sessions.get(session);
    if (!entry || entry.statementId !== statementId) return null;
    for (let k = 0; k < entry.count; k++) {
      if (entry.substatementIds[k] === substatementId) return entry.carried[k] as CarriedStatement;
    }
    return null;
  }

  /** Forgets a session (on its disconnection). */
  forget(session: SessionKey): void {
    const entry = this.sessions.get(session);
    if (entry === undefined) return;
    this.sessions.delete(session);
    this.unlink(entry);
  }

  /** Moves `session` (if remembered) to the most recently remembered end; nothing else changes. */
  touch(session: SessionKey): void {
    const entry = this.sessions.get(session);
    if (entry === undefined || entry === this.newest) return;
    this.unlink(entry);
    this.append(entry);
  }

  /**
   * The sessions remembered, least recently remembered first, each with its substatements oldest
   * first. The arrays are fresh; the `CarriedStatement` objects are the stored ones.
   */
  sessionsOldestFirst(): TrackedSession[] {
    const sessions: TrackedSession[] = [];
    for (let entry = this.oldest; entry !== null; entry = entry.newer) {
      const substatements: TrackedSession['substatements'] = [];
      for (let k = 0; k < entry.count; k++) {
        substatements.push({ substatementId: entry.substatementIds[k] as number, carried: entry.carried[k] as CarriedStatement });
      }
      sessions.push({ session: entry.key, statementId: entry.statementId, substatements });
    }
    return sessions;
  }

  /** Takes `entry` out of the recency list. */
  private unlink(entry: SessionEntry): void {
    if (entry.older === null) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === null) this.newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = null;
    entry.newer = null;
  }

  /** Puts `entry` (not in the list) at the most recent end. */
  private append(entry: SessionEntry): void {
    entry.older = this.newest;
    if (this.newest === null) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
  }
}

/** A session of the statement memory: any string or number naming it. */
export type SessionKey = string | number;

/** What the event builder needs of a statement memory; `StatementOnceTracker` implements it. */
export interface StatementMemory {
  /** Records the statement/parameter printed for (session, statementId, substatementId). */
  remember(session: SessionKey, statementId: number, substatementId: number, carried: CarriedStatement): void;
  /** The remembered statement/parameter of (session, statementId, substatementId), or null. */
  recall(session: SessionKey, statementId: number, substatementId: number): CarriedStatement | null;
  /** Forgets a session (on its disconnection). */
  forget(session: SessionKey): void;
}

/** One remembered session as `sessionsOldestFirst` lists it: its latest statement id and its substatements, oldest first. */
export interface TrackedSession {
  session: SessionKey;
  statementId: number;
  substatements: { substatementId: number; carried: CarriedStatement }[];
}

/**
 * One session's substatements of its latest statement id, oldest first: the first `count` slots of
 * two parallel arrays, reused from statement to statement (slots past `count` are null or stale ids).
 * `older`/`newer` link the sessions in the order they were last remembered (a Map lookup plus two
 * relinks per entry, instead of a Map delete and re-insert to move a session to the end).
 */
interface SessionEntry {
  key: SessionKey;
  older: SessionEntry | null;
  newer: SessionEntry | null;
  statementId: number;
  count: number;
  substatementIds: number[];
  carried: (CarriedStatement | null)[];
}

/** What is carried from the first entry of a substatement. */
export interface CarriedStatement {
  statement: string;
  parameter: string[] | string;
}
