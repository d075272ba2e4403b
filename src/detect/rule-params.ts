import { suggestionSuffix } from '../lib/did-you-mean.js';
import { describe, type PathProblem, schemaKeys, zodProblems } from '../lib/zod-problems.js';
import type { DetectorModule } from './detector.js';
import { fieldPathType, unknownFieldProblem } from './field-paths.js';
import { PARAM_KEYS } from './rule-schema.js';

/** Parameter keys that name selections or field paths, checked against the rule after the schema. */
interface ParamsResult {
  /** the params schema's output (durations in ms), or null when there were problems */
  params: Record<string, unknown> | null;
  problems: PathProblem[];
  /** selections named by `steps[].selection` and `while` */
  referencedSelections: string[];
}

/**
 * Validates a rule's type parameters (the top-level keys in `PARAM_KEYS`) for its detector:
 * a parameter the type does not take is an impossible combination (e.g. `window` on a `match`
 * rule); the rest goes through the detector's `paramsSchema`; then `steps[].selection` and
 * `while` must name selections of the rule, and `field` / `fields` must be field paths
 * (numeric for `sum`).
 *
 * @param document the rule document as written (after overlays)
 * @param selections the names of the rule's selections
 */
export function validateRuleParams(document: Record<string, unknown>, type: string, module: DetectorModule, selections: readonly string[]): ParamsResult {
  const problems: PathProblem[] = [];
  const present = PARAM_KEYS.filter((key) => document[key] !== undefined);
  const accepted = schemaKeys(module.paramsSchema);
  const input: Record<string, unknown> = {};
  for (const key of present) {
    if (accepted !== null && !accepted.includes(key)) {
      const takes = accepted.length === 0 ? 'takes no parameters' : `takes ${accepted.join(', ')}`;
      problems.push({ path: [key], message: `"${key}" is not a parameter of type ${type} (${type} ${takes})` });
    } else input[key] = document[key];
  }
  const referencedSelections: string[] = [];
  const steps = input.steps;
  if (Array.isArray(steps)) {
    steps.forEach((step, index) => {
      const name = step !== null && typeof step === 'object' ? (step as Record<string, unknown>).selection : undefined;
      if (typeof name !== 'string') return;
      referencedSelections.push(name);
      if (!selections.includes(name)) problems.push({ path: ['steps', index, 'selection'], message: `unknown selection "${name}"${suggestionSuffix(name, selections)}` });
    });
  }
  if (typeof input.while === 'string') {
    referencedSelections.push(input.while);
    if (!selections.includes(input.while)) problems.push({ path: ['while'], message: `unknown selection "${input.while}"${suggestionSuffix(input.while, selections)}` });
  }
  if (typeof input.field === 'string') {
    const fieldType = fieldPathType(input.field);
    if (fieldType === null) problems.push({ path: ['field'], message: unknownFieldProblem(input.field) });
    else if (type === 'sum' && fieldType !== 'number' && !input.field.startsWith('app.detail.')) problems.push({ path: ['field'], message: `sum needs a numeric field; ${input.field} is ${fieldType}` });
  }
  if (Array.isArray(input.fields)) {
    input.fields.forEach((path, index) => {
      if (typeof path === 'string' && fieldPathType(path) === null) problems.push({ path: ['fields', index], message: unknownFieldProblem(path) });
    });
  }
  const parsed = module.paramsSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) problems.push(...zodProblems(parsed.error.issues, module.paramsSchema));
  if (problems.length > 0) return { params: null, problems, referencedSelections };
  const params = parsed.data;
  if (params === null || typeof params !== 'object') {
    return { params: null, problems: [{ path: [], message: `detector ${type} returned params ${describe(params)}` }], referencedSelections };
  }
  return { params: params as Record<string, unknown>, problems, referencedSelections };
}
