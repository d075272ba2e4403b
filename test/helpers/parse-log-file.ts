import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AccessEvent, ParseFailure } from '../../src/domain/access-event.js';
import { fileFingerprint } from '../../src/domain/file-fingerprint.js';
import { detectLogFormat, type LogFormat } from '../../src/parse/log-format.js';
import { createLogParser, isParseFailure } from '../../src/parse/log-parser.js';

/** Result of parsing a whole file in tests. */
export interface ParsedFile {
  events: AccessEvent[];
  failures: ParseFailure[];
  records: number;
}

/**
 * Parses a whole log file through the production parser, pushing it in `chunkBytes` pieces
 * (default 64 KiB) so chunk boundaries fall inside records.
 */
export async function parseLogFile(
  path: string,
  options: { format?: LogFormat; logLinePrefix?: string; timezone?: string; chunkBytes?: number; server?: string } = {},
): Promise<ParsedFile> {
  const bytes = await readFile(path);
  const format = options.format ?? detectLogFormat(path, bytes.subarray(0, 4096));
  const server = options.server ?? 'test';
  const parser = createLogParser({
    format,
    logLinePrefix: options.logLinePrefix,
    timezone: options.timezone,
    server,
    source: { id: server, file: basename(path), fingerprint: fileFingerprint(bytes.subarray(0, 4096)) ?? 'empty' },
  });
  const events: AccessEvent[] = [];
  const failures: ParseFailure[] = [];
  const take = (outs: ReturnType<typeof parser.push>): void => {
    for (const out of outs) {
      if (isParseFailure(out)) failures.push(out);
      else events.push(out);
    }
  };
  const step = options.chunkBytes ?? 64 * 1024;
  for (let i = 0; i < bytes.length; i += step) take(parser.push(bytes.subarray(i, Math.min(bytes.length, i + step))));
  take(parser.end());
  return { events, failures, records: parser.records };
}
