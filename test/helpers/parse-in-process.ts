import { vi } from 'vitest';
import { type ParseCommandThreads, parseCommand } from '../../src/cli/parse-command.js';

/** What an in-process `jaga parse` run wrote. */
export interface InProcessParse {
  code: number;
  /** every stdout byte, in order */
  stdout: Buffer;
  /** all of stderr as text (the summary is its last line) */
  stderr: string;
  /** how many stdout writes carried those bytes */
  writes: number;
}

/**
 * Runs `jaga parse ARGS` in this process (parseCommand), capturing stdout bytes and stderr through
 * spies that are removed again afterwards, even when the command throws.
 * @param threads the two-thread settings (default: parseCommand's own)
 * @param chunks receives each stdout write as it happens (for tests that look at a partial output)
 */
export async function parseInProcess(args: string[], threads?: ParseCommandThreads, chunks: Buffer[] = []): Promise<InProcessParse> {
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(Buffer.from(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    const code = threads === undefined ? await parseCommand(args) : await parseCommand(args, threads);
    return { code, stdout: Buffer.concat(chunks), stderr, writes: chunks.length };
  } finally {
    vi.restoreAllMocks();
  }
}
