import type { AccessEvent } from '../domain/access-event.js';
import type { CompiledRule, MatchContext } from './compiled-rule.js';
import type { DetectorDeps, DetectorModule } from './detector.js';
import { sumParamsSchema, type SumParams } from './detector-params.js';
import { compileFieldReader, type FieldReader } from './field-reader.js';
import type { WindowAggregate } from './sliding-window.js';
import { WindowedAggregateDetector, type ItemValue } from './windowed-aggregate-detector.js';

/**
 * `sum` rules (rules design): fires when the sum of the numeric `field` (e.g. `audit.rows`) over a
 * group's events within `window` reaches `total`. An event whose field is not a finite number
 * (null: no rows logged) contributes nothing. Fires once per burst, like `threshold`.
 *
 * Detection: count = events in the firing window, explanation `{sum, total, field, window_ms,
 * window, matched_selections, ...}`, summary `<title>: audit.rows sum 20000 (total 10000) within 1h ...`.
 */
export class SumDetector extends WindowedAggregateDetector {
  private readonly read: FieldReader;
  private readonly field: string;

  constructor(rule: CompiledRule & { params: SumParams }, deps: DetectorDeps) {
    super(rule, rule.params.window, rule.params.total, deps);
    this.field = rule.params.field;
    this.read = compileFieldReader(rule.params.field);
  }

  protected valueOf(event: AccessEvent, context: MatchContext): ItemValue | null {
    const value = this.read(event, context);
    return typeof value === 'number' && Number.isFinite(value) ? value : null;
  }

  protected newAggregate(): WindowAggregate<ItemValue> {
    return new SumAggregate();
  }

  protected describe(value: number): { measure: string; explanation: Record<string, unknown> } {
    return {
      measure: `${this.field} sum ${value} (total ${this.threshold})`,
      explanation: { sum: value, total: this.threshold, field: this.field },
    };
  }
}

/** Sums the entries' numeric contributions. */
class SumAggregate implements WindowAggregate<ItemValue> {
  value = 0;

  add(contribution: ItemValue): void {
    this.value += contribution as number;
  }

  remove(contribution: ItemValue): void {
    this.value -= contribution as number;
  }
}

/** The `sum` plug-in: params `{window: ms, field, total}` (detector-params.ts). */
export const SUM_DETECTOR: DetectorModule<SumParams> = {
  type: 'sum',
  paramsSchema: sumParamsSchema,
  windowed: true,
  wants: 'condition',
  create: (rule, deps) => new SumDetector(rule, deps),
};
