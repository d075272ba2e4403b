/** Contexts (client, network, application, table) a role's set holds; the least recently seen is dropped when full. */
export const CONTEXT_SLOTS = 48;

/**
 * Reads a role's known contexts from a snapshot: `[hashes[], hours[]]`, at most CONTEXT_SLOTS
 * 32-bit FNV-1a hashes of `kind\0value` strings with the epoch hour each was last seen, in slot
 * order (the form ContextRows `toJson` writes and `load` takes). A hash collision (about 1 in 4
 * billion per pair) hides a new context.
 * @throws Error naming `where` on a malformed value
 */
export function contextSetFromJson(value: unknown, where: string): [hashes: number[], hours: number[]] {
  if (!Array.isArray(value) || value.length !== 2 || !Array.isArray(value[0]) || !Array.isArray(value[1])) throw new Error(`${where}: expected [hashes, hours]`);
  const [hashes, hours] = value as [unknown[], unknown[]];
  if (hashes.length !== hours.length || hashes.length > CONTEXT_SLOTS || ![...hashes, ...hours].every((n) => Number.isInteger(n))) throw new Error(`${where}: malformed context set`);
  return [hashes as number[], hours as number[]];
}

/** FNV-1a (32-bit) offset basis and prime */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * `contextHash(kind + '\0' + value)` without building the joined string: FNV-1a runs over `kind`,
 * a NUL and `value` in turn, which gives the same hash. Allocation-free and as fast as a Map
 * look-up, so per-event values that rarely repeat (session ids, client addresses of many roles)
 * cost no more than those that do.
 */
export function contextPairHash(kind: string, value: string): number {
  const hash = Math.imul(fnv(FNV_OFFSET, kind, 0, kind.length), FNV_PRIME); // then hash ^= 0 (the NUL separator), multiply
  return fnv(hash, value, 0, value.length) | 0;
}

/**
 * `contextPairHash('client_net', clientNetwork(address))` (null when `clientNetwork` is null)
 * without building the network's string for an IPv4 address: FNV-1a runs over the kind, a NUL,
 * the address up to its third dot and `.0/24`. Client addresses are hashed for every event.
 */
export function clientNetworkHash(address: string): number | null {
  const prefixEnd = ipv4PrefixEnd(address);
  if (prefixEnd < 0) {
    const network = clientNetwork(address);
    return network === null ? null : contextPairHash('client_net', network);
  }
  const hash = Math.imul(fnv(FNV_OFFSET, 'client_net', 0, 10), FNV_PRIME); // the NUL separator
  return fnv(fnv(hash, address, 0, prefixEnd), '.0/24', 0, 5) | 0;
}

/** FNV-1a of `text[from, to)` continued from `hash` (not yet folded to a signed int) */
function fnv(hash: number, text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash;
}

/** 32-bit FNV-1a of `text` as a signed int (what a role's context set holds). */
export function contextHash(text: string): number {
  return fnv(FNV_OFFSET, text, 0, text.length) | 0;
}

/** true when `classes` holds one of `wanted` (catalog classes of a relation vs a rule's `table_classes`; a plain loop: called for every relation of every event) */
export function hasAnyClass(classes: readonly string[], wanted: readonly string[]): boolean {
  for (const c of classes) if (wanted.includes(c)) return true;
  return false;
}

/** The /24 network of an IPv4 address (`10.1.2.3` → `10.1.2.0/24`), the /48 of an IPv6 one, or null for anything else. */
export function clientNetwork(address: string): string | null {
  const prefixEnd = ipv4PrefixEnd(address);
  if (prefixEnd > 0) return `${address.slice(0, prefixEnd)}.0/24`;
  if (address.includes(':')) {
    const groups = address.split('::')[0]?.split(':') ?? [];
    return `${[...groups, '0', '0', '0'].slice(0, 3).join(':')}::/48`;
  }
  return null;
}

/**
 * For a dotted IPv4 address (four runs of 1-3 ASCII digits joined by dots, nothing else: what
 * `/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/` matches), the index of its third dot; else -1.
 * A scan without a RegExp: client addresses are read for every event.
 */
function ipv4PrefixEnd(address: string): number {
  let dots = 0;
  let run = 0;
  let third = -1;
  for (let i = 0; i < address.length; i++) {
    const code = address.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      if (++run > 3) return -1;
    } else if (code === 46) {
      if (run === 0 || ++dots > 3) return -1;
      if (dots === 3) third = i;
      run = 0;
    } else {
      return -1;
    }
  }
  return dots === 3 && run > 0 ? third : -1;
}
