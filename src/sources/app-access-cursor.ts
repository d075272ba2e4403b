/**
 * The app access source's table cursor: the (txid, id) of the last row delivered.
 *
 * Text form (what checkpoints store): `"<txid>:<id>"`, both unsigned decimal integers, e.g.
 * `"7381:42"`. Cursors are totally ordered by txid, then id (the order the source reads in).
 */
export interface AppAccessCursor {
  /** the row's `txid` (xid8) */
  txid: bigint;
  /** the row's `id` (bigserial) */
  id: bigint;
}

const TEXT_FORM = /^(\d{1,20}):(\d{1,20})$/;

/** The position before every row: `0` is never a real transaction id (InvalidTransactionId). */
export const APP_ACCESS_CURSOR_START: AppAccessCursor = Object.freeze({ txid: 0n, id: 0n });

/** Parses the text form `"<txid>:<id>"`; returns null when `text` is not one. */
export function parseAppAccessCursor(text: string): AppAccessCursor | null {
  const match = TEXT_FORM.exec(text);
  if (!match) return null;
  return { txid: BigInt(match[1] as string), id: BigInt(match[2] as string) };
}

/** Formats a cursor as `"<txid>:<id>"`. */
export function formatAppAccessCursor(cursor: AppAccessCursor): string {
  return `${cursor.txid}:${cursor.id}`;
}

/** Orders cursors by (txid, id): negative when `a` is before `b`, 0 when equal, positive after. */
export function compareAppAccessCursors(a: AppAccessCursor, b: AppAccessCursor): number {
  if (a.txid !== b.txid) return a.txid < b.txid ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}
