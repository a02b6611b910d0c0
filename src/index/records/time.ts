/**
 * Timestamp parsing to epoch milliseconds (a double; sub-millisecond digits are kept as a fraction):
 * ISO-8601 date-times with or without an offset (no offset = UTC, or local time in a given IANA zone),
 * dates, and epoch numbers in seconds / milliseconds / microseconds / nanoseconds.
 */
import { daysFromCivil, utcMs } from './civil.js';
import { parseNumber } from './numbers.js';

export const TIME_FORMATS = ['auto', 'iso', 'date', 'epoch', 's', 'ms', 'us', 'ns'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];
/** What `auto` and `epoch` resolve to once the data has been seen. */
export type ResolvedTimeFormat = 'iso' | 's' | 'ms' | 'us' | 'ns';

/** Epoch units as a power of ten relative to milliseconds. */
const EPOCH_EXPONENT: Record<Exclude<ResolvedTimeFormat, 'iso'>, number> = { s: 3, ms: 0, us: -3, ns: -6 };

function epochToMs(value: number, format: Exclude<ResolvedTimeFormat, 'iso'>): number {
  const e = EPOCH_EXPONENT[format];
  // Dividing by an exact power of ten rounds once; multiplying by 1e-6 (inexact) would round twice.
  return e >= 0 ? value * 10 ** e : value / 10 ** -e;
}

/**
 * Microsecond and nanosecond epochs have more digits than a double holds exactly: split the integer
 * text into milliseconds and the fraction so the result is the nearest double to the true value.
 */
function splitEpoch(b: Uint8Array, start: number, end: number, format: 'us' | 'ns'): number {
  let i = start;
  const negative = b[i] === 0x2d;
  if (negative || b[i] === 0x2b) i++;
  const digits = end - i;
  const shift = -EPOCH_EXPONENT[format];
  if (digits <= 15 || digits > 30) return NaN;
  for (let k = i; k < end; k++) if (b[k] < 0x30 || b[k] > 0x39) return NaN;
  let whole = 0;
  for (let k = i; k < end - shift; k++) whole = whole * 10 + (b[k] - 0x30);
  let fraction = 0;
  for (let k = end - shift; k < end; k++) fraction = fraction * 10 + (b[k] - 0x30);
  const ms = whole + fraction / 10 ** shift;
  return negative ? -ms : ms;
}

/** The epoch unit a number most likely uses, from its magnitude (years 1973..5138 for seconds). */
export function inferEpochUnit(value: number): Exclude<ResolvedTimeFormat, 'iso'> {
  const v = Math.abs(value);
  if (v < 1e11) return 's';
  if (v < 1e14) return 'ms';
  if (v < 1e17) return 'us';
  return 'ns';
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digitsAt(b: Uint8Array, i: number, n: number, end: number): number {
  if (i + n > end) return -1;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = b[i + k] - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Offset (ms) of an IANA zone from UTC at a UTC instant, through Intl, cached per zone and hour. */
export class ZoneOffsets {
  private readonly format: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();

  constructor(readonly zone: string) {
    // Throws RangeError for an unknown zone: callers validate the option with it.
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  offsetAt(instant: number): number {
    const key = Math.floor(instant / 900_000);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const parts: Record<string, number> = {};
    for (const p of this.format.formatToParts(new Date(key * 900_000))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const local = utcMs(parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second);
    const offset = local - key * 900_000;
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(key, offset);
    return offset;
  }

  /** The UTC instant of a wall-clock time in this zone (given as if it were UTC). */
  toUtc(localAsUtc: number): number {
    const guess = localAsUtc - this.offsetAt(localAsUtc);
    return localAsUtc - this.offsetAt(guess);
  }
}

const zones = new Map<string, ZoneOffsets>();

/**
 * The thread's `ZoneOffsets` of a zone, made once (an Intl.DateTimeFormat costs ~0.1 ms, as much as
 * analysing a fifth of a chunk; its offsets, a pure function of the instant, are kept across chunks).
 * Throws RangeError for an unknown zone, as the constructor does; undefined for no zone.
 */
export function zoneOffsets(name: string | undefined): ZoneOffsets | undefined {
  if (name === undefined) return undefined;
  let zone = zones.get(name);
  if (zone === undefined) {
    zone = new ZoneOffsets(name);
    zones.set(name, zone);
  }
  return zone;
}

/** Parses an ISO-8601 date or date-time in bytes [start, end); NaN when it is not one. */
export function parseIso(b: Uint8Array, start: number, end: number, zone: ZoneOffsets | undefined): number {
  while (start < end && (b[start] === 0x20 || b[start] === 0x09)) start++;
  while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0x09)) end--;
  const date = isoDate(b, start, end);
  if (Number.isNaN(date)) return NaN;
  const i = start + 10;
  if (i < end && (b[i] === 0x54 || b[i] === 0x74 || b[i] === 0x20)) {
    const hour = digitsAt(b, i + 1, 2, end);
    if (hour < 0 || hour > 24 || b[i + 3] !== 0x3a) return NaN;
    return isoClock(b, i + 4, end, date + hour * 3_600_000, zone);
  }
  return isoZone(b, i, end, date, zone);
}

/**
 * Epoch ms of the date "YYYY-MM-DD" at bytes[start], NaN when it is not a valid one. Not Date.UTC: it
 * reads years 0..99 as 1900..1999 and costs a call into the runtime per record (civil.ts).
 */
function isoDate(b: Uint8Array, start: number, end: number): number {
  const year = digitsAt(b, start, 4, end);
  if (year < 0 || b[start + 4] !== 0x2d) return NaN;
  const month = digitsAt(b, start + 5, 2, end);
  if (month < 1 || month > 12 || b[start + 7] !== 0x2d) return NaN;
  const day = digitsAt(b, start + 8, 2, end);
  if (day < 1 || day > DAYS_IN_MONTH[month - 1] || (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)))) return NaN;
  return daysFromCivil(year, month, day) * 86_400_000;
}

/**
 * The rest of a date-time from its minutes at bytes[i] ("MM[:SS[.fff]][zone]"), given the epoch ms of its
 * date and hour. The sum is taken in the order of civil.ts's utcMs (date + hour + minute + second, then
 * the fraction), so the result is the same double whichever way the date and hour were found.
 */
function isoClock(b: Uint8Array, i: number, end: number, dateHour: number, zone: ZoneOffsets | undefined): number {
  const minute = digitsAt(b, i, 2, end);
  if (minute < 0 || minute > 59) return NaN;
  i += 2;
  let second = 0;
  let fraction = 0;
  if (i < end && b[i] === 0x3a) {
    second = digitsAt(b, i + 1, 2, end);
    if (second < 0 || second > 60) return NaN;
    i += 3;
    if (i < end && (b[i] === 0x2e || b[i] === 0x2c)) {
      i++;
      const from = i;
      while (i < end && b[i] >= 0x30 && b[i] <= 0x39) {
        // SCALES[k] is 1 divided by 10, k + 1 times over: the same doubles as dividing as we go.
        const k = i - from;
        fraction += (b[i] - 0x30) * (k < SCALES.length ? SCALES[k] : scaleAt(k));
        i++;
      }
      if (i === from) return NaN;
    }
  }
  return isoZone(b, i, end, dateHour + minute * 60_000 + second * 1000 + fraction * 1000, zone);
}

/** Applies the zone part at bytes[i] (none: UTC or `zone`; "Z"; "+HH[[:]MM]") to the wall-clock ms. */
function isoZone(b: Uint8Array, i: number, end: number, ms: number, zone: ZoneOffsets | undefined): number {
  if (i === end) return zone === undefined ? ms : zone.toUtc(ms);
  if ((b[i] === 0x5a || b[i] === 0x7a) && i + 1 === end) return ms;
  if (b[i] !== 0x2b && b[i] !== 0x2d) return NaN;
  const sign = b[i] === 0x2d ? -1 : 1;
  const oh = digitsAt(b, i + 1, 2, end);
  if (oh < 0 || oh > 23) return NaN;
  i += 3;
  let om = 0;
  if (i < end) {
    if (b[i] === 0x3a) i++;
    om = digitsAt(b, i, 2, end);
    if (om < 0 || om > 59) return NaN;
    i += 2;
  }
  if (i !== end) return NaN;
  return ms - sign * (oh * 3_600_000 + om * 60_000);
}

/** The place values of fraction digits: 1/10, then that divided by 10, and so on (as many as a double tells apart). */
export const SCALES: number[] = [];
for (let scale = 1 / 10; SCALES.length < 40; scale /= 10) SCALES.push(scale);

function scaleAt(k: number): number {
  let scale = SCALES[SCALES.length - 1];
  for (let j = SCALES.length; j <= k; j++) scale /= 10;
  return scale;
}

/** Bytes of a date-time up to its hour, "YYYY-MM-DDTHH:". */
export const PREFIX = 14;

/**
 * Epoch ms of the date and hour of the date-time at bytes[start] (no blanks before it), "YYYY-MM-DD[T ]HH:",
 * or NaN when they are no valid ones: the same checks as parseIso's up to the minutes.
 */
export function isoDateHour(b: Uint8Array, start: number, end: number): number {
  const date = isoDate(b, start, end);
  const sep = b[start + 10];
  const hour = digitsAt(b, start + 11, 2, end);
  if (!Number.isNaN(date) && (sep === 0x54 || sep === 0x74 || sep === 0x20) && hour >= 0 && hour <= 24 && b[start + 13] === 0x3a) return date + hour * 3_600_000;
  return NaN;
}

/**
 * parseIso for a run of timestamps, most of which share the previous one's date and hour: when a value
 * starts with the same "YYYY-MM-DDTHH:" bytes as the last one whose date and hour were valid, only the
 * minutes on are parsed (the same checks and the same sum as parseIso, so the same result).
 */
export class IsoPrefixCache {
  /** The remembered prefix as three 32-bit words and a 16-bit one (big-endian reads of its bytes). */
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;
  /** Epoch ms of the remembered prefix's date and hour; NaN while there is none. */
  private dateHour = NaN;
  // Never undefined (an empty array at first): the fields keep one type, so optimized code that read
  // them is not thrown away when the first chunk's bytes arrive.
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.bytes.buffer);

  parse(b: Uint8Array, start: number, end: number, zone: ZoneOffsets | undefined): number {
    while (start < end && (b[start] === 0x20 || b[start] === 0x09)) start++;
    while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0x09)) end--;
    if (end - start < PREFIX) return parseIso(b, start, end, zone);
    if (this.bytes !== b) {
      this.bytes = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    const view = this.view;
    const w0 = view.getUint32(start);
    const w1 = view.getUint32(start + 4);
    const w2 = view.getUint32(start + 8);
    const w3 = view.getUint16(start + 12);
    if (w0 === this.w0 && w1 === this.w1 && w2 === this.w2 && w3 === this.w3 && !Number.isNaN(this.dateHour)) {
      return isoClock(b, start + PREFIX, end, this.dateHour, zone);
    }
    // A new date or hour: remember it when it is valid.
    const dateHour = isoDateHour(b, start, end);
    if (!Number.isNaN(dateHour)) {
      this.w0 = w0;
      this.w1 = w1;
      this.w2 = w2;
      this.w3 = w3;
      this.dateHour = dateHour;
      return isoClock(b, start + PREFIX, end, dateHour, zone);
    }
    return parseIso(b, start, end, zone);
  }
}

/** Parses a timestamp field in the resolved format; NaN when it cannot be parsed. */
export function parseTime(b: Uint8Array, start: number, end: number, format: ResolvedTimeFormat, zone: ZoneOffsets | undefined): number {
  if (format === 'iso') return parseIso(b, start, end, zone);
  while (start < end && (b[start] === 0x20 || b[start] === 0x09)) start++;
  while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0x09)) end--;
  if ((format === 'us' || format === 'ns') && end - start > 15) {
    const split = splitEpoch(b, start, end, format);
    if (!Number.isNaN(split)) return split;
  }
  const v = parseNumber(b, start, end);
  return Number.isFinite(v) ? epochToMs(v, format) : NaN;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(64);

/** Parses a JSON value (string or number) as a timestamp. */
export function parseTimeValue(value: unknown, format: ResolvedTimeFormat, zone: ZoneOffsets | undefined): number {
  if (typeof value === 'number') return format === 'iso' ? NaN : Number.isFinite(value) ? epochToMs(value, format) : NaN;
  if (typeof value !== 'string') return NaN;
  if (scratch.length < value.length * 3) scratch = new Uint8Array(value.length * 3);
  const { written } = encoder.encodeInto(value, scratch);
  return parseTime(scratch, 0, written, format, zone);
}

/** Resolves `auto` / `epoch` / `date` from a sample value (the first record's). */
export function resolveTimeFormat(format: TimeFormat, sample: number | string | undefined): ResolvedTimeFormat {
  if (format === 'iso' || format === 'date') return 'iso';
  if (format === 's' || format === 'ms' || format === 'us' || format === 'ns') return format;
  const numeric = typeof sample === 'number' ? sample : typeof sample === 'string' && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(sample) ? Number(sample) : undefined;
  if (format === 'epoch') return numeric === undefined ? 's' : inferEpochUnit(numeric);
  return numeric === undefined ? 'iso' : inferEpochUnit(numeric);
}
