/** Contexts (client, network, application, table) a role's set holds; the least recently seen is dropped when full. */
export const CONTEXT_SLOTS = 48;

/**
 * A fixed-size set of 32-bit FNV-1a hashes of `kind\0value` strings with the hour each was last
 * seen (Int32Arrays, 384 bytes), so a role's known contexts take bounded memory and serialise
 * as two number arrays. A hash collision (about 1 in 4 billion per pair) hides a new context.
 */
export class ContextSet {
  private readonly hashes = new Int32Array(CONTEXT_SLOTS);
  private readonly hours = new Int32Array(CONTEXT_SLOTS);
  size = 0;
  /** contexts dropped because the set was full */
  dropped = 0;

  has(hash: number): boolean {
    for (let i = 0; i < this.size; i++) if (this.hashes[i] === hash) return true;
    return false;
  }

  /** number of held contexts of a kind (hashes carry no kind: callers count by `kindOf`) */
  count(predicate: (hash: number) => boolean): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (predicate(this.hashes[i] as number)) n++;
    return n;
  }

  /** adds or refreshes `hash` as seen at `hour` (epoch hours); when full, replaces the least recently seen */
  add(hash: number, hour: number): void {
    for (let i = 0; i < this.size; i++) {
      if (this.hashes[i] === hash) {
        if (hour > (this.hours[i] as number)) this.hours[i] = hour;
        return;
      }
    }
    let slot = this.size;
    if (slot === CONTEXT_SLOTS) {
      slot = 0;
      for (let i = 1; i < CONTEXT_SLOTS; i++) if ((this.hours[i] as number) < (this.hours[slot] as number)) slot = i;
      this.dropped++;
    } else {
      this.size++;
    }
    this.hashes[slot] = hash;
    this.hours[slot] = hour;
  }

  /** JSON form `[hashes[], hours[]]` */
  toJson(): [number[], number[]] {
    return [Array.from(this.hashes.subarray(0, this.size)), Array.from(this.hours.subarray(0, this.size))];
  }

  /** @throws Error naming `where` on a malformed value */
  static fromJson(value: unknown, where: string): ContextSet {
    const set = new ContextSet();
    if (!Array.isArray(value) || value.length !== 2 || !Array.isArray(value[0]) || !Array.isArray(value[1])) throw new Error(`${where}: expected [hashes, hours]`);
    const [hashes, hours] = value as [unknown[], unknown[]];
    if (hashes.length !== hours.length || hashes.length > CONTEXT_SLOTS || ![...hashes, ...hours].every((n) => Number.isInteger(n))) throw new Error(`${where}: malformed context set`);
    set.hashes.set(hashes as number[]);
    set.hours.set(hours as number[]);
    set.size = hashes.length;
    return set;
  }
}

const MAX_CACHED_HASHES = 50_000;

/**
 * `contextHash(kind + '\0' + value)`, remembered for the 50,000 most recent pairs (values repeat
 * endlessly in a log: clients, applications, tables), so the hot path does a Map lookup per
 * kind and value rather than hashing characters.
 */
export function cachedContextHash(kind: string, value: string): number {
  let byKind = KIND_CACHES.get(kind);
  if (byKind === undefined) {
    byKind = new Map();
    KIND_CACHES.set(kind, byKind);
  }
  let hash = byKind.get(value);
  if (hash === undefined) {
    hash = contextHash(`${kind}\u0000${value}`);
    if (byKind.size >= MAX_CACHED_HASHES) byKind.clear();
    byKind.set(value, hash);
  }
  return hash;
}
const KIND_CACHES = new Map<string, Map<string, number>>();

/** 32-bit FNV-1a of `text` as a signed int (what ContextSet holds). */
export function contextHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** The /24 network of an IPv4 address (`10.1.2.3` → `10.1.2.0/24`), the /48 of an IPv6 one, or null for anything else. */
export function clientNetwork(address: string): string | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(address);
  if (v4 !== null) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (address.includes(':')) {
    const groups = address.split('::')[0]?.split(':') ?? [];
    return `${[...groups, '0', '0', '0'].slice(0, 3).join(':')}::/48`;
  }
  return null;
}
