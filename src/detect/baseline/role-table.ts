import type { AccessEvent } from '../../domain/access-event.js';
import { GroupTable } from '../group-table.js';
import { RoleDirectory } from './role-directory.js';

/**
 * A baseline detector's per-role state, keyed by user name, with GroupTable's memory bound and
 * order: when more than `maxRoles` are held, the least recently seen tenth (by `recencyOf`, event
 * time ms; ties in insertion order) is dropped and counted in `evicted`; iteration is in insertion
 * order (snapshots list roles in it). The state also sits in this table's slot of the shared
 * RoleDirectory, so `of(event)` costs no look-up once another baseline detector of the same
 * installation looked the event's role up.
 */
export class RoleTable<S> {
  private readonly roles: GroupTable<S>;
  private readonly slot: number;

  /**
   * @param directory the installation's RoleDirectory (`RoleDirectory.of(deps)`)
   * @param maxRoles most roles held (>= 1)
   * @param recencyOf when a role was last seen, epoch ms (event time)
   * @param onEvict called with the state of each role the bound drops (after it is removed; not by `clear`)
   */
  constructor(
    private readonly directory: RoleDirectory,
    maxRoles: number,
    recencyOf: (state: S) => number,
    onEvict?: (state: S) => void,
  ) {
    this.slot = directory.register();
    this.roles = new GroupTable(maxRoles, recencyOf, (user, state) => {
      directory.remove(user, this.slot);
      onEvict?.(state);
    });
  }

  get size(): number {
    return this.roles.size;
  }

  /** roles dropped by the bound since creation */
  get evicted(): number {
    return this.roles.evicted;
  }

  /** the state of `event.user`, undefined when none is held (or the event has no user) */
  of(event: AccessEvent): S | undefined {
    return this.directory.stateOf(event, this.slot) as S | undefined;
  }

  get(user: string): S | undefined {
    return this.roles.get(user);
  }

  /** adds or replaces a role's state, then applies the bound (never drops the role just set) */
  set(user: string, state: S): void {
    this.directory.put(user, this.slot, state);
    this.roles.set(user, state);
  }

  clear(): void {
    for (const [user] of this.roles.entries()) this.directory.remove(user, this.slot);
    this.roles.clear();
  }

  entries(): IterableIterator<[string, S]> {
    return this.roles.entries();
  }

  /** the states in insertion order (allocates no [user, state] pairs: for sweeps over every role) */
  values(): IterableIterator<S> {
    return this.roles.values();
  }
}
