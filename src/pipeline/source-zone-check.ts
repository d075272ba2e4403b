import type { InternalEventReporter, Telemetry } from '../observe/telemetry.js';
import type { LogFormat } from '../parse/log-format.js';
import { checkZoneText, formatUtcOffset } from '../parse/zone-text-check.js';
import { findZoneTextSample, wholeLinesText } from '../parse/zone-text-sample.js';

/** Bytes of each chunk looked at for a record's time (the first record is at the chunk's start). */
const INSPECTED_BYTES_PER_CHUNK = 64 * 1024;
/** Bytes looked at in all before giving up (a source whose lines never match its log_line_prefix). */
const MAX_INSPECTED_BYTES = 1024 * 1024;

/** Reports `source_timezone_mismatch` (labels: source; fields: see `SourceZoneCheck`). */
export type ZoneMismatchReporter = InternalEventReporter<'source'>;

/**
 * Declares the `source_timezone_mismatch` event (log line + metric `jaga_source_timezone_mismatch_total{source}`)
 * on `telemetry`; the name and labels are spelled here literally, where the metrics catalogue's scan finds them.
 */
export function declareZoneMismatch(telemetry: Telemetry): ZoneMismatchReporter {
  return telemetry.declare({
    name: 'source_timezone_mismatch',
    help: "Log folder sources whose log times' zone text (e.g. WIB) contradicts the configured timezone: every event time and deadline is shifted by the difference.",
    level: 'warn',
    labels: ['source'],
  });
}

/**
 * Checks once per log folder source that the zone text PostgreSQL prints after its log times agrees
 * with the source's configured `timezone:` (see `checkZoneText`): the first record whose time is a real
 * time decides. On a contradiction it reports `source_timezone_mismatch` once, e.g.
 * `{"level":"warn","message":"source_timezone_mismatch","event":"source_timezone_mismatch","source":"main",
 * "zone_text":"WIB","zone_text_offsets":"UTC+07:00","timezone":"UTC","timezone_offset":"UTC+00:00",
 * "description":"log times say \"WIB\" (UTC+07:00) but the source's timezone is UTC (UTC+00:00)"}` and
 * `jaga_source_timezone_mismatch_total{source="main"}` 1. No log content beyond the zone text.
 *
 * Costs nothing per event: `inspect` returns at once after the first record (or after 1 MiB of
 * chunks without one); before that it reads at most 64 KiB of each chunk.
 */
export class SourceZoneCheck {
  private inspectedBytes = 0;
  private decided = false;

  /**
   * @param sourceId the source's configured name (the metric label)
   * @param options the source's `log_line_prefix` (stderr) and configured IANA `timezone` (default UTC)
   * @param report the `source_timezone_mismatch` reporter
   */
  constructor(
    private readonly sourceId: string,
    private readonly options: { logLinePrefix?: string; timezone?: string },
    private readonly report: ZoneMismatchReporter,
  ) {}

  /** True once the check is decided (a record's time was seen) or given up. */
  get done(): boolean {
    return this.decided || this.inspectedBytes >= MAX_INSPECTED_BYTES;
  }

  /**
   * Looks for the first record's time in `bytes` (a data chunk starting on a record boundary) until the check
   * is done.
   * @throws ConfigError for a `log_line_prefix` or `timezone` the parser refuses (the source's parser refuses them first)
   */
  inspect(format: LogFormat, bytes: Buffer): void {
    if (this.done || bytes.length === 0) return;
    this.inspectedBytes += Math.min(bytes.length, INSPECTED_BYTES_PER_CHUNK);
    const sample = findZoneTextSample(format, wholeLinesText(bytes, INSPECTED_BYTES_PER_CHUNK), this.options);
    if (sample === null) return;
    this.decided = true;
    if (sample.zoneText === null || sample.timeMs === null) return;
    const timezone = this.options.timezone ?? 'UTC';
    const result = checkZoneText(sample.zoneText, sample.timeMs, timezone);
    if (result.verdict !== 'mismatch') return;
    this.report(
      { source: this.sourceId },
      {
        zone_text: sample.zoneText,
        zone_text_offsets: result.textOffsetsMinutes.map(formatUtcOffset).join(' or '),
        timezone,
        timezone_offset: formatUtcOffset(result.zoneOffsetMinutes),
        description: result.description,
      },
    );
  }
}
