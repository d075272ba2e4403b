import type { AccessEvent } from '../../domain/access-event.js';
import type { DetectorDeps } from '../detector.js';

/** One role's entry as `get` shows it: each registered table's state for it in that table's slot. */
export interface RoleCard {
  readonly user: string;
  /** state per table slot (undefined: that table holds nothing for the role) */
  readonly states: unknown[];
  /** slots holding a state (the card is dropped at 0) */
  readonly held: number;
}

/** Directories by `DetectorDeps.installation` (one per detector set the engine installs together). */
const SHARED = new WeakMap<object, RoleDirectory>();
/** `stateOf` found no card for the event's role */
const NO_ROW = -1;

/**
 * The roles the baseline detectors of one installation hold state for, keyed by user name: each
 * detector's RoleTable is a slot of every card, so an event's role is looked up once (`stateOf`
 * remembers the last event) however many baseline detectors see it. Cards exist while a slot
 * holds a state. Not a bound by itself: each RoleTable bounds its own entities.
 *
 * Layout: the Map gives a role's row number (a small integer kept in the Map's own table); the
 * cards are rows of one flat array, `states[row x slots + slot]`, so an event's states are one
 * cache line of that array away from the Map entry, with no card object per role. Rows of dropped
 * cards are reused.
 */
export class RoleDirectory {
  private readonly rows = new Map<string, number>();
  /** row-major states, `slots` per row (undefined: none); rows past `rowCount` or free hold undefined */
  private states: unknown[] = [];
  /** per row: slots holding a state */
  private readonly held: number[] = [];
  /** rows of dropped cards, reused before new ones */
  private readonly freeRows: number[] = [];
  private rowCount = 0;
  private slots = 0;
  private lastEvent: AccessEvent | null = null;
  /** index in `states` of the last event's row (NO_ROW: no card) */
  private lastBase = NO_ROW;

  /**
   * The directory shared by the detectors created with `deps` (the engine's
   * `DetectorDeps.installation`), or a private one when `deps` carries none.
   */
  static of(deps: DetectorDeps | undefined): RoleDirectory {
    const installation = (deps as { installation?: unknown } | undefined)?.installation;
    if (installation === null || typeof installation !== 'object') return new RoleDirectory();
    let directory = SHARED.get(installation);
    if (directory === undefined) {
      directory = new RoleDirectory();
      SHARED.set(installation, directory);
    }
    return directory;
  }

  /** a new slot number for one table (rows already held are widened to it) */
  register(): number {
    const slot = this.slots++;
    if (this.rowCount > 0) {
      const wider: unknown[] = [];
      for (let row = 0; row < this.rowCount; row++) {
        for (let s = 0; s < slot; s++) wider.push(this.states[row * slot + s]);
        wider.push(undefined);
      }
      this.states = wider;
      this.lastEvent = null;
    }
    return slot;
  }

  /** the state in `slot` of `event.user`'s card (undefined: none, or no user); one Map look-up per event */
  stateOf(event: AccessEvent, slot: number): unknown {
    if (event !== this.lastEvent) {
      this.lastEvent = event;
      const row = event.user === null ? undefined : this.rows.get(event.user);
      this.lastBase = row === undefined ? NO_ROW : row * this.slots;
    }
    return this.lastBase === NO_ROW ? undefined : this.states[this.lastBase + slot];
  }

  /** the card of `user` (undefined when none): a copy, for inspection */
  get(user: string): RoleCard | undefined {
    const row = this.rows.get(user);
    if (row === undefined) return undefined;
    return { user, states: this.states.slice(row * this.slots, (row + 1) * this.slots), held: this.held[row] as number };
  }

  /** puts `state` in `slot` of `user`'s card, creating the card when missing */
  put(user: string, slot: number, state: unknown): void {
    let row = this.rows.get(user);
    if (row === undefined) {
      row = this.freeRows.pop() ?? this.newRow();
      this.held[row] = 0;
      this.rows.set(user, row);
      this.lastEvent = null;
    }
    const at = row * this.slots + slot;
    if (this.states[at] === undefined) this.held[row] = (this.held[row] as number) + 1;
    this.states[at] = state;
  }

  /** empties `slot` of `user`'s card, dropping the card (its row is reused) when no slot holds anything */
  remove(user: string, slot: number): void {
    const row = this.rows.get(user);
    if (row === undefined) return;
    const at = row * this.slots + slot;
    if (this.states[at] === undefined) return;
    this.states[at] = undefined;
    const held = (this.held[row] as number) - 1;
    this.held[row] = held;
    if (held === 0) {
      this.rows.delete(user);
      this.freeRows.push(row);
      this.lastEvent = null;
    }
  }

  /** appends a row of empty slots; returns its number */
  private newRow(): number {
    for (let s = 0; s < this.slots; s++) this.states.push(undefined);
    this.held.push(0);
    return this.rowCount++;
  }
}
