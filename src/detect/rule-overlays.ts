import { suggestionSuffix } from '../lib/did-you-mean.js';
import type { YamlDocument, YamlPath } from '../lib/yaml-documents.js';
import { zodProblems } from '../lib/zod-problems.js';
import type { LoadReport } from './load-report.js';
import { overlayDocumentSchema } from './rule-schema.js';
import type { YamlFile } from './yaml-files.js';

/** A rule document as it takes effect: the shipped document with every overlay applied, and where each part came from. */
export interface EffectiveRuleDocument {
  id: string;
  /** the rule file */
  file: string;
  /** the document as written, overlays applied (plain YAML values, durations still strings) */
  document: Record<string, unknown>;
  /** overlay files that patched it, in the order applied */
  overlays: string[];
  /** top-level key → the last overlay file that changed it (`tags` for `tags_add`, `exceptions` for appended ones) */
  changedBy: Record<string, string>;
  /** file and line of a path into `document` (overlay values point into their overlay file) */
  locate(path: YamlPath): { file: string; line: number };
}

/** Where one appended exception came from. */
interface AppendedFrom {
  file: string;
  source: YamlDocument;
  /** index of this exception in the overlay's own `exceptions` list */
  index: number;
}

/**
 * Applies overlay documents (`schema: jaga/overlay/v1`) to rule documents by id, in file order:
 * values replace the rule's, `exceptions` are appended, `tags_add` adds tags. An overlay naming an
 * unknown rule id is a problem (with a "did you mean" among the rule ids).
 *
 * @param rules rule id → its base document (`document`, `source` for line numbers, `file`)
 */
export function applyOverlays(
  rules: ReadonlyMap<string, { file: string; source: YamlDocument; document: Record<string, unknown> }>,
  overlayFiles: readonly YamlFile[],
  report: LoadReport,
): Map<string, EffectiveRuleDocument> {
  const effective = new Map<string, EffectiveRuleDocument>();
  const appended = new Map<string, AppendedFrom[]>();
  const baseExceptions = new Map<string, number>();
  const overlayKeyOrigin = new Map<string, Map<string, { file: string; source: YamlDocument }>>();
  for (const [id, rule] of rules) {
    const document = structuredClone(rule.document);
    const origins = new Map<string, { file: string; source: YamlDocument }>();
    overlayKeyOrigin.set(id, origins);
    baseExceptions.set(id, Array.isArray(document.exceptions) ? document.exceptions.length : 0);
    appended.set(id, []);
    effective.set(id, {
      id,
      file: rule.file,
      document,
      overlays: [],
      changedBy: {},
      locate(path: YamlPath) {
        const [head, index, ...rest] = path;
        const base = baseExceptions.get(id) ?? 0;
        if (head === 'exceptions' && typeof index === 'number' && index >= base) {
          const from = appended.get(id)?.[index - base];
          if (from) return { file: from.file, line: from.source.lineOf(['exceptions', from.index, ...rest]) };
        }
        const origin = typeof head === 'string' ? origins.get(head) : undefined;
        if (origin) return { file: origin.file, line: origin.source.lineOf(head === 'tags' ? ['tags_add'] : path) };
        return { file: rule.file, line: rule.source.lineOf(path) };
      },
    });
  }
  for (const { file, documents } of overlayFiles) {
    for (const source of documents) {
      const parsed = overlayDocumentSchema.safeParse(source.value, { reportInput: true });
      const rawId = source.value !== null && typeof source.value === 'object' ? (source.value as Record<string, unknown>).id : undefined;
      const location = { file, ruleId: typeof rawId === 'string' ? rawId : null, document: source.index };
      if (!parsed.success) {
        for (const p of zodProblems(parsed.error.issues, overlayDocumentSchema)) report.problem({ ...location, line: source.lineOf(p.path) }, p.path, p.message);
        continue;
      }
      const target = effective.get(parsed.data.id);
      if (target === undefined) {
        report.problem({ ...location, line: source.lineOf(['id']) }, ['id'], `overlay for unknown rule "${parsed.data.id}"${suggestionSuffix(parsed.data.id, effective.keys())}`);
        continue;
      }
      const raw = source.value as Record<string, unknown>;
      const origins = overlayKeyOrigin.get(target.id) as Map<string, { file: string; source: YamlDocument }>;
      for (const [key, value] of Object.entries(raw)) {
        if (key === 'schema' || key === 'id') continue;
        if (key === 'exceptions') {
          const list = Array.isArray(target.document.exceptions) ? target.document.exceptions : [];
          (value as unknown[]).forEach((exception, index) => {
            list.push(structuredClone(exception));
            appended.get(target.id)?.push({ file, source, index });
          });
          target.document.exceptions = list;
          target.changedBy.exceptions = file;
        } else if (key === 'tags_add') {
          const tags = Array.isArray(target.document.tags) ? (target.document.tags as unknown[]) : [];
          target.document.tags = [...new Set([...tags, ...(value as unknown[])])];
          target.changedBy.tags = file;
          origins.set('tags', { file, source });
        } else {
          target.document[key] = structuredClone(value);
          target.changedBy[key] = file;
          origins.set(key, { file, source });
        }
      }
      if (!target.overlays.includes(file)) target.overlays.push(file);
    }
  }
  return effective;
}
