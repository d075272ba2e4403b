/**
 * Checks the zone text PostgreSQL prints after each log time (`UTC`, `WIB`, `CET`, `+07`,
 * `-03:30`: the abbreviation or offset of its `log_timezone`, PostgreSQL docs, runtime-config-logging)
 * against the IANA zone the operator configured for the source, which is what jaga converts the
 * times with (see timestamp-parser.ts). A wrong configured zone shifts every event time and every
 * breach deadline by the difference, silently; this says so once per source.
 */

/** What `checkZoneText` concluded. */
export type ZoneTextCheck =
  /** the text names the configured zone's offset (or is one of its short names) at that instant */
  | { verdict: 'agree' }
  /** an abbreviation no zone is known to print, or one some zone with the configured offset prints: nothing to say */
  | { verdict: 'unknown' }
  /** the text contradicts the configured zone */
  | {
      verdict: 'mismatch';
      /** offsets (minutes east of UTC, ascending) the text stands for: one for a numeric zone, one or more for an abbreviation */
      textOffsetsMinutes: number[];
      /** the configured zone's offset at the instant, minutes east of UTC */
      zoneOffsetMinutes: number;
      /**
       * e.g. `log times say "WIB" (UTC+07:00) but the source's timezone is UTC (UTC+00:00)`: only the
       * zone text, the configured zone's name and offsets (no other log content)
       */
      description: string;
    };

/**
 * Locales whose short zone names (CLDR, through Intl `timeZoneName: 'short'`) are the tzdata
 * abbreviations PostgreSQL prints: en-US EST/CST/MST/PST/AKST/HST (+ daylight forms), en-GB
 * GMT/BST/WET/CET/EET (+ summer forms), en-AU AEST/ACST/AWST/NZST, en-IE IST (Dublin summer), en-IN
 * IST (India), en-CA AST/NST, en-ZA SAST/CAT/EAT/WAT, en-HK HKT, ja-JP JST, id-ID WIB/WITA/WIT.
 * Other locales print `GMT+7`-style names, which no server writes.
 */
const SHORT_NAME_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-IE', 'en-IN', 'en-CA', 'en-ZA', 'en-HK', 'ja-JP', 'id-ID'] as const;

/**
 * tzdata abbreviations (PostgreSQL's `pg_timezone_names.abbrev`, tzdata 2025) of populous zones
 * that no locale of SHORT_NAME_LOCALES prints, each with the zones that print it and the offset
 * (minutes east of UTC) it stands for there. Without them a correctly configured Asia/Shanghai
 * (`CST`, which CLDR knows only as US Central, UTC-6), Asia/Manila (`PST`), Asia/Jerusalem (`IST`)
 * or America/Havana (`CST`) would be reported as a mismatch; the others (`KST`, `MSK`, `PKT`...)
 * make a mismatch of those zones detectable. An entry counts at an instant only when its zone has
 * that offset then (Israel prints IST in winter, IDT in summer).
 */
const TZDATA_ONLY_NAMES: Readonly<Record<string, ReadonlyArray<readonly [zone: string, offsetMinutes: number]>>> = {
  CST: [['Asia/Shanghai', 480], ['Asia/Taipei', 480], ['Asia/Macau', 480], ['America/Havana', -300]],
  CDT: [['America/Havana', -240]],
  PST: [['Asia/Manila', 480]],
  IST: [['Asia/Jerusalem', 120]],
  IDT: [['Asia/Jerusalem', 180]],
  KST: [['Asia/Seoul', 540], ['Asia/Pyongyang', 540]],
  MSK: [['Europe/Moscow', 180], ['Europe/Simferopol', 180], ['Europe/Kirov', 180], ['Europe/Volgograd', 180]],
  PKT: [['Asia/Karachi', 300]],
  ChST: [['Pacific/Guam', 600], ['Pacific/Saipan', 600]],
  SST: [['Pacific/Pago_Pago', -660]],
  HDT: [['America/Adak', -540]],
};

/** Zone texts that always mean UTC (PostgreSQL prints `UTC` or `GMT`; `Z`, `UT`, `UCT` are accepted too). */
const UTC_TEXTS: ReadonlySet<string> = new Set(['UTC', 'GMT', 'Z', 'UT', 'UCT']);

const NUMERIC_ZONE = /^([+-])(\d{2})(?::?(\d{2}))?$/;
const LONG_OFFSET = /^GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

const formats = new Map<string, Intl.DateTimeFormat>();

/** A cached `Intl.DateTimeFormat` of `locale` for `zone` printing only the zone name in `style`. */
function zoneNameFormat(locale: string, zone: string, style: 'short' | 'longOffset'): Intl.DateTimeFormat {
  const key = `${locale} ${zone} ${style}`;
  let format = formats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: style });
    formats.set(key, format);
  }
  return format;
}

/** The zone name `format` prints for the instant `utcMs`. */
function zoneNameAt(format: Intl.DateTimeFormat, utcMs: number): string {
  return format.formatToParts(utcMs).find((part) => part.type === 'timeZoneName')?.value ?? '';
}

/**
 * Offset of `zone` at the instant `utcMs`, minutes east of UTC (fractional for local mean times
 * with seconds, e.g. Asia/Jakarta before 1867: +07:07:12).
 * @throws RangeError when `zone` is not a zone Intl knows
 */
export function zoneOffsetMinutes(zone: string, utcMs: number): number {
  const m = LONG_OFFSET.exec(zoneNameAt(zoneNameFormat('en-US', zone, 'longOffset'), utcMs));
  if (m === null || m[1] === undefined) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]) + Number(m[4] ?? 0) / 60;
  return m[1] === '-' ? -minutes : minutes;
}

/** `UTC+07:00`, `UTC-03:30`, `UTC+00:00` for an offset in minutes east of UTC (seconds of a local mean time as `:SS`). */
export function formatUtcOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const totalSeconds = Math.round(Math.abs(minutes) * 60);
  const hh = String(Math.floor(totalSeconds / 3600)).padStart(2, '0');
  const mm = String(Math.floor(totalSeconds / 60) % 60).padStart(2, '0');
  const ss = totalSeconds % 60;
  return `UTC${sign}${hh}:${mm}${ss === 0 ? '' : `:${String(ss).padStart(2, '0')}`}`;
}

/** The zone ICU uses for `zone` (aliases resolved: `PRC` -> `Asia/Shanghai`), to compare zone names. */
function canonicalZone(zone: string): string {
  return zoneNameFormat('en-US', zone, 'short').resolvedOptions().timeZone;
}

let tzdataOnlyNames: ReadonlyArray<readonly [name: string, zone: string, offsetMinutes: number]> | null = null;
/** TZDATA_ONLY_NAMES as (name, zone, offset) rows, without zones this Node's Intl does not know (no throw later). */
function tzdataOnlyNameRows(): ReadonlyArray<readonly [name: string, zone: string, offsetMinutes: number]> {
  if (tzdataOnlyNames === null) {
    const supported = new Set(Intl.supportedValuesOf('timeZone'));
    tzdataOnlyNames = Object.entries(TZDATA_ONLY_NAMES).flatMap(([name, zones]) => zones.filter(([zone]) => supported.has(zone)).map(([zone, offset]) => [name, zone, offset] as const));
  }
  return tzdataOnlyNames;
}

/** Short names of `zone` at the instant: SHORT_NAME_LOCALES' and TZDATA_ONLY_NAMES'. */
function shortNamesOf(zone: string, utcMs: number, offsetMinutes: number): Set<string> {
  const names = new Set(SHORT_NAME_LOCALES.map((locale) => zoneNameAt(zoneNameFormat(locale, zone, 'short'), utcMs)));
  const canonical = canonicalZone(zone);
  for (const [name, z, offset] of tzdataOnlyNameRows()) if (offset === offsetMinutes && canonicalZone(z) === canonical) names.add(name);
  return names;
}

/** Most hours whose abbreviation index is kept (a process asks about one hour per source). */
const MAX_INDEXED_HOURS = 8;
/** By hour (UTC epoch ms, floored): offsets (minutes east of UTC) each alphabetic short name stands for in some zone then. */
const indexes = new Map<number, Map<string, Set<number>>>();

/**
 * Offsets (minutes east of UTC) the abbreviation `name` stands for at the instant, over every zone
 * Intl knows (`Intl.supportedValuesOf('timeZone')`) in SHORT_NAME_LOCALES, plus TZDATA_ONLY_NAMES;
 * empty when no zone prints it. The index of all names is built once per hour asked about
 * (about 4,200 formatters: 0.7-1.5 s of CPU) and kept for MAX_INDEXED_HOURS hours.
 */
function offsetsOfAbbreviation(name: string, utcMs: number): Set<number> {
  const hourMs = Math.floor(utcMs / 3_600_000) * 3_600_000;
  let index = indexes.get(hourMs);
  if (index === undefined) {
    const built = new Map<string, Set<number>>();
    const add = (abbreviation: string, offset: number): void => {
      let offsets = built.get(abbreviation);
      if (offsets === undefined) built.set(abbreviation, (offsets = new Set()));
      offsets.add(offset);
    };
    for (const zone of Intl.supportedValuesOf('timeZone')) {
      const offset = zoneOffsetMinutes(zone, hourMs);
      for (const locale of SHORT_NAME_LOCALES) {
        const abbreviation = zoneNameAt(zoneNameFormat(locale, zone, 'short'), hourMs);
        if (/^[A-Za-z]+$/.test(abbreviation)) add(abbreviation, offset);
      }
    }
    for (const [abbreviation, zone, offset] of tzdataOnlyNameRows()) if (zoneOffsetMinutes(zone, hourMs) === offset) add(abbreviation, offset);
    // the formatters of zones nobody configured are not needed again
    formats.clear();
    if (indexes.size >= MAX_INDEXED_HOURS) indexes.clear();
    indexes.set(hourMs, (index = built));
  }
  return index.get(name) ?? new Set();
}

/** `checkZoneText` results already given, by zone text, instant hour and zone. */
const results = new Map<string, ZoneTextCheck>();

/**
 * Says whether a log time's zone text agrees with the source's configured IANA zone at that instant.
 *
 * - Numeric offsets (`+07`, `-03:30`, `+0530`) and `UTC`/`GMT`/`Z`/`UT`/`UCT`: agree exactly when the
 *   configured zone has that offset at the instant.
 * - An abbreviation: agrees when it is one of the configured zone's short names at the instant
 *   (Intl in SHORT_NAME_LOCALES: `WIB` for Asia/Jakarta in id-ID; or a tzdata-only name such as
 *   `CST` for Asia/Shanghai); a mismatch only when some zone prints it at the instant and none of
 *   those zones has the configured zone's offset (`WIB`, UTC+07:00, with `UTC`); otherwise (an
 *   abbreviation no zone is known to print, such as `XYZT`) `unknown`: no false alarms.
 *
 * Answers are cached (once per source in practice; the first abbreviation that is not the
 * configured zone's own name costs 0.7-1.5 s of CPU to index every zone's names, once per hour asked).
 *
 * Example: `checkZoneText('WIB', Date.UTC(2026, 10, 29, 10), 'UTC')` gives `{verdict: 'mismatch',
 * textOffsetsMinutes: [420], zoneOffsetMinutes: 0, description: 'log times say "WIB" (UTC+07:00) but
 * the source\'s timezone is UTC (UTC+00:00)'}`.
 *
 * @param zoneText the zone text after a log time, as printed (`WIB`, `+07`)
 * @param instantMs the log time's instant, UTC epoch ms (as converted with `ianaZone`)
 * @param ianaZone the source's configured zone (`timezone:`, `--timezone`)
 * @throws RangeError when `ianaZone` is not a zone Intl knows or `instantMs` is not a valid time
 */
export function checkZoneText(zoneText: string, instantMs: number, ianaZone: string): ZoneTextCheck {
  const key = `${zoneText} ${Math.floor(instantMs / 3_600_000)} ${ianaZone}`;
  let result = results.get(key);
  if (result === undefined) {
    result = check(zoneText, instantMs, ianaZone);
    if (results.size >= 1024) results.clear();
    results.set(key, result);
  }
  return result;
}

function check(zoneText: string, instantMs: number, ianaZone: string): ZoneTextCheck {
  const zoneOffset = zoneOffsetMinutes(ianaZone, instantMs);
  const mismatch = (textOffsets: number[]): ZoneTextCheck => {
    const sorted = [...textOffsets].sort((a, b) => a - b);
    const said = sorted.map(formatUtcOffset).join(' or ');
    return {
      verdict: 'mismatch',
      textOffsetsMinutes: sorted,
      zoneOffsetMinutes: zoneOffset,
      description: `log times say "${zoneText}" (${said}) but the source's timezone is ${ianaZone} (${formatUtcOffset(zoneOffset)})`,
    };
  };
  const numeric = NUMERIC_ZONE.exec(zoneText);
  if (numeric !== null || UTC_TEXTS.has(zoneText)) {
    const minutes = numeric === null ? 0 : (Number(numeric[2]) * 60 + Number(numeric[3] ?? 0)) * (numeric[1] === '-' ? -1 : 1);
    return minutes === zoneOffset ? { verdict: 'agree' } : mismatch([minutes]);
  }
  if (!/^[A-Za-z]+$/.test(zoneText)) return { verdict: 'unknown' };
  if (shortNamesOf(ianaZone, instantMs, zoneOffset).has(zoneText)) return { verdict: 'agree' };
  const offsets = offsetsOfAbbreviation(zoneText, instantMs);
  if (offsets.size === 0 || offsets.has(zoneOffset)) return { verdict: 'unknown' };
  return mismatch([...offsets]);
}
