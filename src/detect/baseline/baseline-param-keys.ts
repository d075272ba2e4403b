/**
 * The top-level rule keys the baseline detector types take as parameters (issue 5), added to the
 * rule schema's `PARAM_KEYS` so the loader lifts them into `params` and reports one on a type that
 * does not take it. What each means: baseline-params.ts.
 */
export const BASELINE_PARAM_KEYS = [
  'entities',
  'bucket',
  'min_history',
  'min_samples',
  'half_life',
  'threshold',
  'mad_floor',
  'severity_ladder',
  'raise_for_classes',
  'table_classes',
  'max_entities',
  'contexts',
  'dormant_after',
  'smoothing',
  'min_count',
] as const;
