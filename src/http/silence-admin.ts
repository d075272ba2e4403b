import type { SilenceJson, SilenceMatchers } from '../domain/silence.js';

/** What `POST /api/silences` and the page's silence form ask for (already validated). */
export interface SilenceRequest {
  /** what it mutes (src/domain/silence.ts); at least one matcher */
  matchers: SilenceMatchers;
  /** when the silence starts (now when the request gave none) */
  startsAt: Date;
  /** when it ends, after `startsAt` */
  endsAt: Date;
  /** why (required, at most 500 chars) */
  reason: string;
  /** `responder:<token name>` */
  author: string;
}

/**
 * Silence port of the HTTP stage (the composition root implements it over the notify stage's
 * SilenceRepository). Shapes are src/domain/silence.ts's `SilenceJson`. Errors with `code`
 * `silence_not_found` → 404, `silence_invalid` → 400; anything else → 500.
 */
export interface SilenceAdmin {
  /** Pending and active silences, plus expired ones when `includeExpired`. @throws StoreError */
  list(options: { includeExpired: boolean }): Promise<SilenceJson[]>;
  /** @returns the created silence */
  create(request: SilenceRequest): Promise<SilenceJson>;
  /** Ends a silence now. @returns the expired silence, or null when there is none with this id */
  expire(id: number, by: string): Promise<SilenceJson | null>;
}
