import type { AccessEvent } from '../domain/access-event.js';
import type { CompiledRule, MatchContext } from './compiled-rule.js';
import type { DetectorDeps, DetectorModule } from './detector.js';
import { distinctParamsSchema, type DistinctParams } from './detector-params.js';
import { compileFieldReader, type FieldReader } from './field-reader.js';
import type { WindowAggregate } from './sliding-window.js';
import { WindowedAggregateDetector, type ItemValue } from './windowed-aggregate-detector.js';

/** Most distinct values listed in a detection's explanation. */
const MAX_LISTED_VALUES = 20;

/**
 * `distinct` rules (rules design): fires when a group's events within `window` carry at least
 * `count` distinct values of `field` (e.g. password spraying: distinct users per client).
 * Values are compared as strings (numbers in decimal); a list field (e.g. `relations`)
 * contributes each element; an event whose field is null or an empty list contributes nothing.
 * Fires once per burst, like `threshold`.
 *
 * Detection: count = events in the firing window, explanation `{distinct, threshold, field,
 * values (first 20, sorted), window_ms, window, matched_selections, ...}`.
 */
export class DistinctDetector extends WindowedAggregateDetector {
  private readonly read: FieldReader;
  private readonly field: string;

  constructor(rule: CompiledRule & { params: DistinctParams }, deps: DetectorDeps) {
    super(rule, rule.params.window, rule.params.count, deps);
    this.field = rule.params.field;
    this.read = compileFieldReader(rule.params.field);
  }

  protected valueOf(event: AccessEvent, context: MatchContext): ItemValue | null {
    const value = this.read(event, context);
    if (value === null || value === undefined) return null;
    if (Array.isArray(value)) {
      const values = value.filter((item) => item !== null && item !== undefined).map((item) => String(item));
      return values.length === 0 ? null : values;
    }
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }

  protected newAggregate(): WindowAggregate<ItemValue> {
    return new DistinctAggregate();
  }

  protected describe(value: number, contributions: readonly ItemValue[]): { measure: string; explanation: Record<string, unknown> } {
    const values = new Set<string>();
    for (const contribution of contributions) for (const one of valuesOf(contribution)) values.add(one);
    return {
      measure: `${value} distinct ${this.field} (threshold ${this.threshold})`,
      explanation: { distinct: value, threshold: this.threshold, field: this.field, values: [...values].sort().slice(0, MAX_LISTED_VALUES) },
    };
  }
}

/** Counts distinct values: a multiset of the values in the window. */
class DistinctAggregate implements WindowAggregate<ItemValue> {
  private readonly counts = new Map<string, number>();

  get value(): number {
    return this.counts.size;
  }

  add(contribution: ItemValue): void {
    for (const value of valuesOf(contribution)) this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
  }

  remove(contribution: ItemValue): void {
    for (const value of valuesOf(contribution)) {
      const left = (this.counts.get(value) ?? 0) - 1;
      if (left <= 0) this.counts.delete(value);
      else this.counts.set(value, left);
    }
  }
}

function valuesOf(value: ItemValue): readonly string[] {
  return Array.isArray(value) ? value : [String(value)];
}

/** The `distinct` plug-in: params `{window: ms, count, field}` (detector-params.ts). */
export const DISTINCT_DETECTOR: DetectorModule<DistinctParams> = {
  type: 'distinct',
  paramsSchema: distinctParamsSchema,
  windowed: true,
  wants: 'condition',
  create: (rule, deps) => new DistinctDetector(rule, deps),
};
