import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Document, isMap, isScalar, isSeq } from 'yaml';
import { loadConfigFile } from '../config/load-config-file.js';
import { type DetectionConfig, resolveDetectionConfig } from '../config/detection-config.js';
import type { DetectorModule } from '../detect/detector.js';
import { DETECTOR_REGISTRY } from '../detect/detector-registry.js';
import { type LoadedRuleSet, loadRuleSet } from '../detect/rule-loader.js';
import type { EffectiveRuleDocument } from '../detect/rule-overlays.js';
import { formatRuleTestReport, runRuleTests } from '../detect/rule-test-runner.js';
import { QueryEnricher } from '../enrich/query-enricher.js';
import { ConfigError, RuleLoadError } from '../domain/errors.js';
import { suggestionSuffix } from '../lib/did-you-mean.js';
import { argumentsError, CliError } from './cli-error.js';
import { writeProblems } from './write-problems.js';

const HELP = `usage: jaga rules validate [DIR...] [--config FILE]
       jaga rules test [DIR...] [--config FILE] [--verbose]
       jaga rules show ID [--config FILE] [--rules DIR]...

  validate   loads every rule, list, overlay and the catalog, and lists EVERY problem (file:line:
             rule: path: message); a rule without a firing and a non-firing test is a problem.
             DIR (default: the config's rules, else the shipped rules/) replaces the rule folders.
             Exit 0 when the set is valid, 1 with problems (a folder without any rule is
             one), 2 for a bad option or config.
  test       runs every rule's inline tests through the production detection engine in virtual
             time (event times drive the windows; advance_to moves the watermark); prints each
             failing test with expected vs got (detection count and group values) and a summary.
             Statements in test events get their query facts from the production enricher.
             Without a configured catalog, DIR/tests/catalog.yaml (the pack's test catalog) is used.
             Exit 0 when all pass, 1 on any failure or load problem.
  show       prints the effective rule ID (overlays applied) as YAML, with the overlay files that
             changed it. Exit 1 for an unknown rule id or a rule set with problems.

  --config   jaga.yaml: its rules, overlays, lists and catalog are used
  --rules    rule folder (repeatable) instead of the config's
  --verbose  test: list passing tests too
`;

/** What `rulesCommand` writes to and loads with (tests inject them). */
export interface RulesCommandDeps {
  registry?: ReadonlyMap<string, DetectorModule>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** clock for exception expiry */
  now?: Date;
}

/**
 * `jaga rules validate|test|show` (issue 4).
 * @param args the arguments after `rules`
 * @returns exit code: 0 ok, 1 problems found / unknown rule, 2 bad usage or config
 * @throws CliError for a bad option or missing argument (main prints it, exit 2)
 */
export async function rulesCommand(args: string[], deps: RulesCommandDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    (sub === undefined ? stderr : stdout).write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'validate' && sub !== 'test' && sub !== 'show') throw new CliError(`unknown subcommand "${sub}"${suggestionSuffix(sub, ['validate', 'test', 'show'])}\n${HELP}`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options: { config: { type: 'string' }, rules: { type: 'string', multiple: true }, verbose: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (error) {
    throw argumentsError(error);
  }
  if (parsed.values.help) {
    stdout.write(HELP);
    return 0;
  }
  // the config's rule folders are read unless folders are given: then a missing one is a problem on its config line
  const configFolders = (sub === 'show' || parsed.positionals.length === 0) && parsed.values.rules === undefined;
  let detection: DetectionConfig;
  try {
    detection = parsed.values.config ? (await loadConfigFile(parsed.values.config, process.env, { checkRuleFolders: configFolders })).detection : resolveDetectionConfig({}, process.cwd());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeProblems(stderr, error.problems);
    return 2;
  }
  const registry = deps.registry ?? DETECTOR_REGISTRY;
  // show's positional is a rule id, not a folder
  rejectFileArguments(sub, [...(sub === 'show' ? [] : parsed.positionals), ...(parsed.values.rules ?? [])]);
  if (sub === 'validate') {
    const ruleDirs = parsed.positionals.length > 0 ? parsed.positionals : (parsed.values.rules ?? detection.ruleDirs);
    const loaded = await load(detection, ruleDirs, registry, true, deps.now, stderr);
    if (loaded === null) return 1;
    if (loaded.rules.length === 0) return noRules(ruleDirs, stderr);
    for (const warning of loaded.warnings) stderr.write(`warning: ${warning}\n`);
    const enabled = loaded.rules.filter((rule) => rule.enabled).length;
    stdout.write(`ok: ${loaded.rules.length} rules (${enabled} enabled) from ${loaded.files.length} files\n`);
    return 0;
  }
  if (sub === 'test') {
    const ruleDirs = parsed.positionals.length > 0 ? parsed.positionals : (parsed.values.rules ?? detection.ruleDirs);
    const testCatalog = detection.catalog === null ? ruleDirs.map((dir) => join(dir, 'tests', 'catalog.yaml')).find((file) => existsSync(file)) : undefined;
    if (testCatalog !== undefined) stderr.write(`using the pack's test catalog ${testCatalog} (no catalog configured)\n`);
    const loaded = await load(testCatalog === undefined ? detection : { ...detection, catalog: testCatalog }, ruleDirs, registry, false, deps.now, stderr);
    if (loaded === null) return 1;
    if (loaded.rules.length === 0) return noRules(ruleDirs, stderr);
    const enricher = await QueryEnricher.create();
    // a FAIL line names the test case's file and line (an overlay's tests point into the overlay)
    const locateTest = (ruleId: string, index: number) => loaded.documents.get(ruleId)?.locate(['tests', index]) ?? null;
    const report = runRuleTests(loaded.rules, loaded.context, { registry, enrich: (event) => enricher.enrich(event), locateTest });
    stdout.write(formatRuleTestReport(report, parsed.values.verbose));
    return report.failed > 0 ? 1 : 0;
  }
  const [id, ...extra] = parsed.positionals;
  if (id === undefined || extra.length > 0) throw new CliError(`show takes exactly one rule id\n${HELP}`);
  const loaded = await load(detection, parsed.values.rules ?? detection.ruleDirs, registry, false, deps.now, stderr);
  if (loaded === null) return 1;
  const effective = loaded.documents.get(id);
  const rule = loaded.rules.find((r) => r.id === id);
  if (effective === undefined || rule === undefined) {
    stderr.write(`jaga rules show: unknown rule "${id}"${suggestionSuffix(id, loaded.documents.keys())}\n`);
    return 1;
  }
  stdout.write(showRule(effective, { type: rule.type, enabled: rule.enabled, kinds: rule.kinds, stateKey: rule.stateKey, exceptions: rule.exceptions.map((e) => e.name) }));
  return 0;
}

/** An empty rule set is almost always a wrong folder: says so (exit 1) rather than "ok: 0 rules". */
function noRules(ruleDirs: readonly string[], stderr: NodeJS.WritableStream): number {
  stderr.write(`no rule in ${ruleDirs.join(', ')} (rule files are *.yaml / *.yml directly in the folder): nothing to check\n1 problem\n`);
  return 1;
}

async function load(detection: DetectionConfig, ruleDirs: readonly string[], registry: ReadonlyMap<string, DetectorModule>, requireTests: boolean, now: Date | undefined, stderr: NodeJS.WritableStream): Promise<LoadedRuleSet | null> {
  try {
    return await loadRuleSet({ ruleDirs, overlayDirs: detection.overlayDirs, lists: detection.lists, catalog: detection.catalog, registry, requireTests, ...(now ? { now } : {}) });
  } catch (error) {
    if (!(error instanceof RuleLoadError)) throw error;
    writeProblems(stderr, error.problems);
    return null;
  }
}

/**
 * The effective rule as YAML: a header (type, state, origin file, overlays and the keys they
 * changed, event kinds, state key) and the document, each overlaid key marked `# overlay: FILE`
 * and each exception not in `rule.exceptions` (the ones in force) marked `# expired: ignored`.
 */
export function showRule(effective: EffectiveRuleDocument, rule: { type: string; enabled: boolean; kinds?: ReadonlySet<string> | undefined; stateKey: string; exceptions: readonly string[] }): string {
  const header = [`# rule ${effective.id} (${rule.type}, ${rule.enabled ? 'enabled' : 'disabled'})`, `# file: ${effective.file}`];
  if (effective.overlays.length > 0) {
    header.push(`# overlays: ${effective.overlays.join(', ')}`);
    const byFile = new Map<string, string[]>();
    for (const [key, file] of Object.entries(effective.changedBy)) byFile.set(file, [...(byFile.get(file) ?? []), key]);
    for (const [file, keys] of byFile) header.push(`# changed by ${file}: ${keys.join(', ')}`);
  }
  header.push(`# event kinds: ${rule.kinds ? [...rule.kinds].sort().join(', ') : 'any'}`, `# state key: ${rule.stateKey}`);
  const doc = new Document(effective.document);
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : null;
      if (key === 'exceptions' && isSeq(pair.value)) {
        for (const item of pair.value.items) {
          const name = isMap(item) ? item.get('name') : undefined;
          if (isMap(item) && typeof name === 'string' && !rule.exceptions.includes(name)) item.commentBefore = ' expired: ignored';
        }
      }
      const file = key === null ? undefined : effective.changedBy[key];
      if (file === undefined) continue;
      const note = key === 'exceptions' ? ` overlay: ${file} (exceptions appended)` : ` overlay: ${file}`;
      if (isScalar(pair.value)) pair.value.comment = note;
      else if (isScalar(pair.key)) pair.key.commentBefore = note;
    }
  }
  return `${header.join('\n')}\n${doc.toString({ lineWidth: 0 })}`;
}

/**
 * Rule folders given on the command line must be folders: a rule file given instead gets one
 * usage line naming its folder (`/x/rules/a.yaml is a file; jaga rules validate takes rule folders
 * (give its folder /x/rules)`) rather than a "cannot read folder (ENOTDIR)" per subfolder.
 * @throws CliError (exit 2) for the first argument that names an existing file
 */
function rejectFileArguments(sub: string, dirs: readonly string[]): void {
  for (const dir of dirs) {
    let file: boolean;
    try {
      file = statSync(dir).isFile();
    } catch {
      continue; // a missing folder is reported by the loader with the other problems
    }
    if (file) throw new CliError(`${dir} is a file; jaga rules ${sub} takes rule folders (give its folder ${dirname(dir)})`);
  }
}
