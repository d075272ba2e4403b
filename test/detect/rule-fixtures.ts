import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { blankAccessEvent } from '../../src/domain/blank-access-event.js';
import { afterAll } from 'vitest';

/** An AccessEvent with every field null (time 2026-01-01T00:00:00.000Z, kind other) except `partial`. */
export function makeEvent(partial: Partial<AccessEvent> = {}): AccessEvent {
  return {
    ...blankAccessEvent({ id: 'test:fp:0', time: '2026-01-01T00:00:00.000Z', server: 'db1', source: { id: 'db1', file: null, fingerprint: null, offset: 0 }, kind: 'other' }),
    ...partial,
  };
}

/** Audit fields with defaults, for `makeEvent({ audit: audit({...}) })`. */
export function audit(partial: Partial<NonNullable<AccessEvent['audit']>> = {}): NonNullable<AccessEvent['audit']> {
  return { audit_type: 'SESSION', statement_id: 1, substatement_id: 1, class: 'READ', command: 'SELECT', object_type: 'TABLE', object_name: null, statement: 'SELECT 1', parameter: '<none>', rows: null, ...partial };
}

/** Folders made by `writeTree` in this test file: removed after its last test. */
const trees: string[] = [];
// at module level, so the hook belongs to the file that imports this module (vitest isolates files)
afterAll(async () => {
  await Promise.all(trees.splice(0).map((tree) => rm(tree, { recursive: true, force: true })));
});

/**
 * Writes `files` (relative path → content) into a fresh temp folder and returns its path. The folder
 * is removed after the test file's last test.
 */
export async function writeTree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'jaga-rules-'));
  trees.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

/** The common head of a valid rule document (YAML lines), id and type given. */
export function ruleHead(id: string, type: string): string {
  return `schema: jaga/rules/v1\nid: ${id}\ntitle: Test rule ${id}\ndescription: A rule written by a test.\nseverity: medium\ntype: ${type}\n`;
}

/** Two inline tests (one firing, one not) on auth_failure events, valid for any rule. */
export const TWO_TESTS = `tests:
  - name: fires
    events: [{ time: 2026-01-01T00:00:00Z, kind: auth_failure, user: a }]
    expect: { detections: 1 }
  - name: quiet
    events: [{ time: 2026-01-01T00:00:00Z, kind: connection }]
    expect: { detections: 0 }
`;
