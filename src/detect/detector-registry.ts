import type { DetectorModule } from './detector.js';
import { ABSENCE_DETECTOR } from './absence-detector.js';
import { BREADTH_BASELINE_DETECTOR } from './baseline/breadth-baseline-detector.js';
import { FAILURE_RATE_BASELINE_DETECTOR } from './baseline/failure-rate-baseline-detector.js';
import { NEW_CONTEXT_BASELINE_DETECTOR } from './baseline/new-context-baseline-detector.js';
import { TIME_OF_WEEK_BASELINE_DETECTOR } from './baseline/time-of-week-baseline-detector.js';
import { VOLUME_BASELINE_DETECTOR } from './baseline/volume-baseline-detector.js';
import { DISTINCT_DETECTOR } from './distinct-detector.js';
import { MATCH_DETECTOR } from './match-detector.js';
import { NEW_VALUE_DETECTOR } from './new-value-detector.js';
import { SEQUENCE_DETECTOR } from './sequence-detector.js';
import { SUM_DETECTOR } from './sum-detector.js';
import { THRESHOLD_DETECTOR } from './threshold-detector.js';

/**
 * Every rule detector type, keyed by the `type` written in rule YAML (CONVENTIONS.md rule 8: an
 * explicit map; code named in YAML is never loaded). The rule loader validates a rule's type
 * parameters with `DETECTOR_REGISTRY.get(type).paramsSchema` (strict zod objects, durations parsed
 * to ms; see detector-params.ts) and the engine creates detectors with `create(rule, deps)`.
 *
 * | type | params | windowed |
 * |---|---|---|
 * | match | none | no |
 * | threshold | window, count | yes |
 * | distinct | window, count, field | yes |
 * | sum | window, field, total | yes |
 * | sequence | window, steps[{selection, count=1}] (>= 2) | yes |
 * | new_value | fields, learn | no |
 * | absence | after, while? | no |
 * | baseline_volume, baseline_breadth, baseline_new_context, baseline_time_of_week, baseline_failure_rate | see baseline/baseline-params.ts | no (phase `baseline`) |
 */
export const DETECTOR_REGISTRY: ReadonlyMap<string, DetectorModule> = new Map<string, DetectorModule>(
  [
    MATCH_DETECTOR,
    THRESHOLD_DETECTOR,
    DISTINCT_DETECTOR,
    SUM_DETECTOR,
    SEQUENCE_DETECTOR,
    NEW_VALUE_DETECTOR,
    ABSENCE_DETECTOR,
    VOLUME_BASELINE_DETECTOR,
    BREADTH_BASELINE_DETECTOR,
    NEW_CONTEXT_BASELINE_DETECTOR,
    TIME_OF_WEEK_BASELINE_DETECTOR,
    FAILURE_RATE_BASELINE_DETECTOR,
  ].map(
    (module) => [module.type, module as unknown as DetectorModule],
  ),
);
