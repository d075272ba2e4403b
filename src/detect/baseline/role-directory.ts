import type { AccessEvent } from '../../domain/access-event.js';
import type { DetectorDeps } from '../detector.js';

/** One role's entry: each registered table's state for it in that table's slot. */
export interface RoleCard {
  readonly user: string;
  /** state per table slot (undefined: that table holds nothing for the role) */
  readonly states: unknown[];
  /** slots holding a state (the card is dropped at 0) */
  held: number;
}

/** Directories by `DetectorDeps.installation` (one per detector set the engine installs together). */
const SHARED = new WeakMap<object, RoleDirectory>();

/**
 * The roles the baseline detectors of one installation hold state for, keyed by user name: each
 * detector's RoleTable is a slot of every card, so an event's role is looked up once (`cardOf`
 * remembers the last event) however many baseline detectors see it. Cards exist while a slot
 * holds a state. Not a bound by itself: each RoleTable bounds its own entities.
 */
export class RoleDirectory {
  private readonly cards = new Map<string, RoleCard>();
  private slots = 0;
  private lastEvent: AccessEvent | null = null;
  private lastCard: RoleCard | undefined = undefined;

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

  /** a new slot number for one table */
  register(): number {
    return this.slots++;
  }

  /** the card of `event.user` (undefined: no table holds it, or no user); one Map look-up per event */
  cardOf(event: AccessEvent): RoleCard | undefined {
    if (event !== this.lastEvent) {
      this.lastEvent = event;
      this.lastCard = event.user === null ? undefined : this.cards.get(event.user);
    }
    return this.lastCard;
  }

  /** the card of `user` (undefined when none) */
  get(user: string): RoleCard | undefined {
    return this.cards.get(user);
  }

  /** puts `state` in `slot` of `user`'s card, creating the card when missing */
  put(user: string, slot: number, state: unknown): void {
    let card = this.cards.get(user);
    if (card === undefined) {
      const states: unknown[] = [];
      for (let i = 0; i < this.slots; i++) states.push(undefined);
      card = { user, states, held: 0 };
      this.cards.set(user, card);
      this.lastEvent = null;
    }
    if (card.states[slot] === undefined) card.held++;
    card.states[slot] = state;
  }

  /** empties `slot` of `user`'s card, dropping the card when no slot holds anything */
  remove(user: string, slot: number): void {
    const card = this.cards.get(user);
    if (card === undefined || card.states[slot] === undefined) return;
    card.states[slot] = undefined;
    if (--card.held === 0) {
      this.cards.delete(user);
      this.lastEvent = null;
    }
  }
}
