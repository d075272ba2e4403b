import { formatPath } from '../lib/zod-problems.js';

/** Where a problem is: file, 1-based line, and the rule id when known (else the document number). */
export interface ProblemLocation {
  file: string;
  line: number;
  ruleId?: string | null;
  /** 0-based document index in the file, shown when the rule id is unknown */
  document?: number;
}

/**
 * Collects load problems and warnings as one line each, in the order found:
 * `rules/auth.yaml:12: rule jaga.auth.brute_force: match.sel_fail.kind: unknown event kind "auth_fail" (did you mean "auth_failure"?)`.
 */
export class LoadReport {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  /** Records a problem at `path` (a path into the document; empty = the document itself). */
  problem(location: ProblemLocation, path: readonly (string | number)[], message: string): void {
    this.problems.push(LoadReport.format(location, path, message));
  }

  /** Records a warning at `path`. */
  warning(location: ProblemLocation, path: readonly (string | number)[], message: string): void {
    this.warnings.push(LoadReport.format(location, path, message));
  }

  /** Formats one line; a file-level problem (no path, no rule) is `file:line: message`. */
  static format(location: ProblemLocation, path: readonly (string | number)[], message: string): string {
    const parts = [`${location.file}:${location.line}`];
    if (location.ruleId) parts.push(`rule ${location.ruleId}`);
    else if (location.document !== undefined) parts.push(`document ${location.document + 1}`);
    if (path.length > 0) parts.push(formatPath(path));
    parts.push(message);
    return parts.join(': ');
  }
}
