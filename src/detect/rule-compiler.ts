import { createHash } from 'node:crypto';
import { suggestionSuffix } from '../lib/did-you-mean.js';
import { describe, type PathProblem, zodProblems } from '../lib/zod-problems.js';
import type { CompiledException, CompiledRule, EventPredicate } from './compiled-rule.js';
import { canonicalJson } from './canonical-json.js';
import { compileCondition, conditionKinds, conditionResidual, foldResiduals } from './condition-compiler.js';
import { CONDITION_KEYWORDS, type ConditionNode, conditionSelections, parseCondition } from './condition-parser.js';
import type { DetectorModule } from './detector.js';
import type { Residual } from './dispatch-table.js';
import { fieldPathType, unknownFieldProblem } from './field-paths.js';
import { validateRuleParams } from './rule-params.js';
import { type RuleDocument, ruleDocumentSchema } from './rule-schema.js';
import { compileRuleTests } from './rule-tests.js';
import type { CompiledSelection, SelectionCompiler } from './selection-compiler.js';

/** Selection names: an identifier that is not a condition keyword. */
const SELECTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What compiling one rule needs besides its document. */
export interface RuleCompilerOptions {
  registry: ReadonlyMap<string, DetectorModule>;
  /** shared across the rule set, so identical selections share one predicate */
  selections: SelectionCompiler;
  /** exceptions whose `expires` is at or before this are dropped with a warning */
  now: Date;
  /** missing firing / non-firing tests are problems (true) or warnings (false) */
  requireTests: boolean;
}

/** The outcome for one rule: the rule when there were no problems; paths are into the rule document. */
export interface RuleCompileResult {
  rule: CompiledRule | null;
  problems: PathProblem[];
  warnings: PathProblem[];
}

/**
 * Compiles one effective rule document (overlays already merged) to a `CompiledRule`: schema
 * (`ruleDocumentSchema`), type from the registry, selections and condition, type parameters
 * (`validateRuleParams`), group_by paths, exceptions (expired ones dropped with a warning) and
 * inline tests (`compileRuleTests`). Every problem found is returned, not only the first.
 */
export function compileRule(document: unknown, origin: { file: string; overlays: string[] }, options: RuleCompilerOptions): RuleCompileResult {
  const problems: PathProblem[] = [];
  const warnings: PathProblem[] = [];
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    return { rule: null, problems: [{ path: [], message: `expected a rule map, got ${describe(document)}` }], warnings };
  }
  const raw = document as Record<string, unknown>;
  const parsed = ruleDocumentSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) problems.push(...zodProblems(parsed.error.issues, ruleDocumentSchema));

  const type = typeof raw.type === 'string' ? raw.type : null;
  const module = type === null ? undefined : options.registry.get(type);
  if (type !== null && module === undefined) problems.push({ path: ['type'], message: `unknown rule type "${type}"${suggestionSuffix(type, options.registry.keys())}; types: ${[...options.registry.keys()].join(', ')}` });

  const match = raw.match !== null && typeof raw.match === 'object' && !Array.isArray(raw.match) ? (raw.match as Record<string, unknown>) : null;
  const selections = new Map<string, CompiledSelection>();
  if (match !== null) compileSelections(match, options.selections, selections, problems);
  const names = match === null ? [] : Object.keys(match).filter((key) => key !== 'condition');

  const params = module !== undefined && type !== null && match !== null ? validateRuleParams(raw, type, module, names) : null;
  if (params !== null) problems.push(...params.problems);
  const referenced = params?.referencedSelections ?? [];

  let condition: { node: ConditionNode; text: string } | null = null;
  if (match !== null) {
    const found = resolveCondition(match, names, referenced);
    if ('problem' in found) problems.push({ path: ['match', 'condition'], message: found.problem });
    else condition = found;
  }

  const groupBy = Array.isArray(raw.group_by) ? raw.group_by : [];
  groupBy.forEach((path, index) => {
    if (typeof path === 'string' && fieldPathType(path) === null) problems.push({ path: ['group_by', index], message: unknownFieldProblem(path) });
  });

  const exceptions = compileExceptions(raw.exceptions, options, problems, warnings);
  const tests = compileRuleTests(raw.tests, groupBy.filter((p): p is string => typeof p === 'string'));
  problems.push(...tests.problems);
  if (raw.tests === undefined || Array.isArray(raw.tests)) {
    const missing = [!tests.hasFiring ? 'a test that fires (expect.detections > 0)' : null, !tests.hasQuiet ? 'a test that does not fire (expect.detections: 0)' : null].filter((m) => m !== null);
    for (const what of missing) (options.requireTests ? problems : warnings).push({ path: ['tests'], message: `needs ${what}` });
  }

  if (condition !== null) {
    const used = new Set([...conditionSelections(condition.node), ...referenced]);
    for (const name of names) if (!used.has(name) && selections.has(name)) warnings.push({ path: ['match', name], message: `selection "${name}" is not used by the condition, steps or while` });
  }

  dropMissingWhenMisspelled(problems);
  placeMisplacedKeys(problems);
  if (problems.length > 0 || !parsed.success || condition === null || params?.params == null || module === undefined) {
    if (problems.length === 0) problems.push({ path: [], message: 'rule could not be compiled' });
    return { rule: null, problems, warnings };
  }
  return { rule: assemble(parsed.data, origin, selections, condition, params.params, referenced, exceptions, tests.tests), problems, warnings };
}

/**
 * `windw: 60s` on a threshold rule is one mistake, not two: when an unknown top-level key's
 * suggestion is a required key reported missing, only the unknown key is reported.
 */
function dropMissingWhenMisspelled(problems: PathProblem[]): void {
  const suggested = new Set<string>();
  for (const p of problems) {
    const match = p.path.length === 1 ? /^unknown key ".*" \(did you mean "(.*)"\?\)$/.exec(p.message) : null;
    if (match) suggested.add(match[1] as string);
  }
  for (let i = problems.length - 1; i >= 0; i--) {
    const p = problems[i] as PathProblem;
    if (p.path.length === 1 && p.message === 'missing required key' && suggested.has(String(p.path[0]))) problems.splice(i, 1);
  }
}

/** Keys of the rule language that belong one level down: an unknown top-level key says where it goes. */
const NESTED_KEYS: ReadonlyMap<string, string> = new Map([
  ['condition', 'match.condition (the condition sits beside the selections, as in Sigma\'s detection block)'],
]);

/** `condition:` at the top level (a Sigma habit) says where it belongs rather than only "unknown key". */
function placeMisplacedKeys(problems: PathProblem[]): void {
  for (const p of problems) {
    const key = p.path.length === 1 ? String(p.path[0]) : '';
    const place = NESTED_KEYS.get(key);
    if (place !== undefined && p.message === `unknown key "${key}"`) p.message = `unknown key "${key}": it goes under ${place}`;
  }
}

function compileSelections(match: Record<string, unknown>, compiler: SelectionCompiler, into: Map<string, CompiledSelection>, problems: PathProblem[]): void {
  for (const [name, definition] of Object.entries(match)) {
    if (name === 'condition') {
      if (typeof definition !== 'string') problems.push({ path: ['match', 'condition'], message: `expected a condition string, got ${describe(definition)}` });
      continue;
    }
    if (!SELECTION_NAME.test(name) || CONDITION_KEYWORDS.has(name.toLowerCase())) {
      problems.push({ path: ['match', name], message: `selection name "${name}" must be an identifier (letters, digits, _) and not a condition keyword` });
      continue;
    }
    const compiled = compiler.compile(definition);
    if ('problems' in compiled) problems.push(...compiled.problems.map((p) => ({ path: ['match', name, ...p.path], message: p.message })));
    else into.set(name, compiled);
  }
}

/**
 * The condition as written, or the default when it is omitted: the one selection not used by
 * `steps` / `while`, or, when every selection is a sequence step, any of them.
 */
function resolveCondition(match: Record<string, unknown>, names: string[], referenced: string[]): { node: ConditionNode; text: string } | { problem: string } {
  if (typeof match.condition === 'string') {
    const node = parseCondition(match.condition, names);
    return 'problem' in node ? node : { node, text: match.condition.trim() };
  }
  if (match.condition !== undefined) return { problem: `expected a condition string, got ${describe(match.condition)}` };
  if (names.length === 0) return { problem: 'match needs at least one selection' };
  const unreferenced = names.filter((name) => !referenced.includes(name));
  if (unreferenced.length === 1) return { node: { type: 'ref', name: unreferenced[0] as string }, text: unreferenced[0] as string };
  if (unreferenced.length === 0) return { node: { type: 'quantifier', quantifier: 'one', pattern: 'them', names }, text: '1 of them' };
  return { problem: `a condition is required when match has more than one selection (${unreferenced.join(', ')})` };
}

function compileExceptions(value: unknown, options: RuleCompilerOptions, problems: PathProblem[], warnings: PathProblem[]): CompiledException[] {
  if (!Array.isArray(value)) return [];
  const compiled: CompiledException[] = [];
  const seen = new Set<string>();
  value.forEach((entry, index) => {
    if (entry === null || typeof entry !== 'object') return;
    const { name, reason, expires, match } = entry as Record<string, unknown>;
    if (typeof name === 'string') {
      if (seen.has(name)) problems.push({ path: ['exceptions', index, 'name'], message: `exception "${name}" is defined twice` });
      seen.add(name);
    }
    if (match === undefined) {
      problems.push({ path: ['exceptions', index, 'match'], message: 'missing required key' });
      return;
    }
    const selection = options.selections.compile(match);
    if ('problems' in selection) {
      problems.push(...selection.problems.map((p) => ({ path: ['exceptions', index, 'match', ...p.path], message: p.message })));
      return;
    }
    const expiresMs = typeof expires === 'string' ? Date.parse(expires) : Number.NaN;
    if (!Number.isNaN(expiresMs) && expiresMs <= options.now.getTime()) {
      warnings.push({ path: ['exceptions', index], message: `exception "${String(name)}" expired at ${expires as string}: ignored` });
      return;
    }
    if (typeof name !== 'string' || typeof reason !== 'string') return;
    compiled.push({ name, reason, expires: typeof expires === 'string' ? expires : null, matches: selection.predicate });
  });
  return compiled;
}

function assemble(
  document: RuleDocument,
  origin: { file: string; overlays: string[] },
  selections: Map<string, CompiledSelection>,
  condition: { node: ConditionNode; text: string },
  params: Record<string, unknown>,
  referenced: string[],
  exceptions: CompiledException[],
  tests: CompiledRule['tests'],
): CompiledRule {
  const predicates = new Map<string, EventPredicate>([...selections].map(([name, s]) => [name, s.predicate]));
  const kindsOf = (name: string): ReadonlySet<string> | null => selections.get(name)?.kinds ?? null;
  const parts = [conditionKinds(condition.node, kindsOf), ...referenced.map(kindsOf)];
  const kinds = parts.some((k) => k === null) ? null : new Set(parts.flatMap((k) => [...(k as ReadonlySet<string>)]));
  const stateKey = createHash('sha256').update(canonicalJson({ type: document.type, params, match: document.match, group_by: document.group_by })).digest('hex');
  const rule: CompiledRule = {
    id: document.id,
    title: document.title,
    description: document.description,
    severity: document.severity,
    maturity: document.maturity,
    tags: [...new Set(document.tags)],
    enabled: document.enabled,
    type: document.type,
    params,
    selections: predicates,
    matches: compileCondition(condition.node, predicates),
    conditionText: condition.text,
    groupBy: document.group_by,
    suppressMs: document.suppress ?? 0,
    resolveAfterMs: document.resolve_after ?? null,
    exceptions,
    origin: { file: origin.file, overlays: [...origin.overlays] },
    stateKey,
    tests,
  };
  if (kinds !== null) rule.kinds = kinds;
  rule.dispatch = {
    matches: rule.matches,
    selections: rule.selections,
    params: rule.params,
    refined: [...selections.values()].some((selection) => selection.refined),
    residual: (event) => {
      const residualOf = (name: string): Residual => (selections.get(name) as CompiledSelection).residual(event);
      return foldResiduals('or', [conditionResidual(condition.node, residualOf), ...referenced.map(residualOf)]);
    },
    condition: (event) => conditionResidual(condition.node, (name) => (selections.get(name) as CompiledSelection).residual(event)),
  };
  return rule;
}
