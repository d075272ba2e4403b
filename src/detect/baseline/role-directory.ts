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

/**
 * What the directory keeps per role: `[held, state of slot 0, state of slot 1, ...]`, one array
 * (not a card object pointing to an array of states), so an event's states are one object away
 * from the Map: the baseline detectors read them for every event.
 */
type Card = unknown[];

/** Directories by `DetectorDeps.installation` (one per detector set the engine installs together). */
const SHARED = new WeakMap<object, RoleDirectory>();

/**
 * The roles the baseline detectors of one installation hold state for, keyed by user name: each
 * detector's RoleTable is a slot of every card, so an event's role is looked up once (`stateOf`
 * remembers the last event) however many baseline detectors see it. Cards exist while a slot
 * holds a state. Not a bound by itself: each RoleTable bounds its own entities.
 */
export class RoleDirectory {
  private readonly cards = new Map<string, Card>();
  private slots = 0;
  private lastEvent: AccessEvent | null = null;
  private lastCard: Card | undefined = undefined;

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

  /** the state in `slot` of `event.user`'s card (undefined: none, or no user); one Map look-up per event */
  stateOf(event: AccessEvent, slot: number): unknown {
    if (event !== this.lastEvent) {
      this.lastEvent = event;
      this.lastCard = event.user === null ? undefined : this.cards.get(event.user);
    }
    return this.lastCard === undefined ? undefined : this.lastCard[slot + 1];
  }

  /** the card of `user` (undefined when none): a copy, for inspection */
  get(user: string): RoleCard | undefined {
    const card = this.cards.get(user);
    return card === undefined ? undefined : { user, states: card.slice(1), held: card[0] as number };
  }

  /** puts `state` in `slot` of `user`'s card, creating the card when missing */
  put(user: string, slot: number, state: unknown): void {
    let card = this.cards.get(user);
    if (card === undefined) {
      card = [0];
      for (let i = 0; i < this.slots; i++) card.push(undefined);
      this.cards.set(user, card);
      this.lastEvent = null;
    }
    if (card[slot + 1] === undefined) card[0] = (card[0] as number) + 1;
    card[slot + 1] = state;
  }

  /** empties `slot` of `user`'s card, dropping the card when no slot holds anything */
  remove(user: string, slot: number): void {
    const card = this.cards.get(user);
    if (card === undefined || card[slot + 1] === undefined) return;
    card[slot + 1] = undefined;
    card[0] = (card[0] as number) - 1;
    if (card[0] === 0) {
      this.cards.delete(user);
      this.lastEvent = null;
    }
  }
}
