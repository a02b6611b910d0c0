/**
 * Timestamps for the Arrow export, exactly: the time column is written as an Arrow Timestamp (int64 in a
 * unit) computed from the field's text, not from the index's epoch-ms double (which cannot hold every
 * microsecond or nanosecond digit).
 *
 * The unit is the file's resolution: the index's resolved time format `us` → microseconds, `ns` →
 * nanoseconds; `s`, `ms` and ISO-8601 start at seconds (epoch s) or milliseconds (epoch ms, ISO) and
 * go to milliseconds, then nanoseconds, when the times of the exported records (read from the time index,
 * nothing decoded) are not whole in that unit — nanoseconds, because a double in milliseconds cannot
 * tell microsecond digits from nanosecond ones and nanoseconds hold every ISO fraction seekdata parses.
 * `timeUnit` overrides the choice. A value with non-zero digits finer than the unit (possible only with
 * `timeUnit`, or for digits a double in milliseconds cannot see) is an error naming the record, never a
 * silent truncation.
 */
import { SeekdataError } from '../errors.js';
import { parseIso, type ResolvedTimeFormat, type ZoneOffsets } from '../index/records/time.js';
import { isSpace } from '../index/records/numbers.js';

export const ARROW_TIME_UNITS = ['s', 'ms', 'us', 'ns'] as const;
export type ArrowTimeUnit = (typeof ARROW_TIME_UNITS)[number];

/** Decimal digits of a second in each unit. */
const DIGITS: Record<ArrowTimeUnit, number> = { s: 0, ms: 3, us: 6, ns: 9 };
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The unit for a time column in `format`, given the epoch-ms times of the records to export (NaN and
 * undefined entries are skipped). See the opening comment.
 */
export function chooseTimeUnit(format: ResolvedTimeFormat, times: (visit: (t: number) => boolean) => void): ArrowTimeUnit {
  if (format === 'us' || format === 'ns') return format;
  let wholeSeconds = format === 's';
  let wholeMs = true;
  times((t) => {
    if (Number.isNaN(t)) return true;
    if (wholeSeconds && t % 1000 !== 0) wholeSeconds = false;
    if (!Number.isInteger(t)) wholeMs = false;
    // Keep visiting only while the answer can still change.
    return wholeMs;
  });
  return wholeSeconds ? 's' : wholeMs ? 'ms' : 'ns';
}

/** A time in the unit: a safe integer as a number, or a bigint when larger. */
export type UnitValue = number | bigint;

/** Parsed decimal text: the value is `digits × 10^exponent` (sign included in `digits`). */
export interface Decimal {
  digits: bigint;
  exponent: number;
}

/** Parses decimal notation ([+-]digits[.digits][e[+-]digits], blanks around allowed) exactly; undefined otherwise. */
export function parseDecimal(b: Uint8Array, start: number, end: number): Decimal | undefined {
  while (start < end && isSpace(b[start])) start++;
  while (end > start && isSpace(b[end - 1])) end--;
  let i = start;
  const negative = b[i] === 0x2d;
  if (negative || b[i] === 0x2b) i++;
  let digits = '';
  let fraction = 0;
  let seenDot = false;
  for (; i < end; i++) {
    const c = b[i];
    if (c >= 0x30 && c <= 0x39) {
      digits += String.fromCharCode(c);
      if (seenDot) fraction++;
    } else if (c === 0x2e && !seenDot) seenDot = true;
    else break;
  }
  if (digits.length === 0) return undefined;
  let exponent = 0;
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    const sign = b[i] === 0x2d ? -1 : 1;
    if (b[i] === 0x2d || b[i] === 0x2b) i++;
    const from = i;
    while (i < end && b[i] >= 0x30 && b[i] <= 0x39 && i - from < 6) exponent = exponent * 10 + (b[i++] - 0x30);
    if (i === from) return undefined;
    exponent *= sign;
  }
  if (i !== end) return undefined;
  const value = BigInt(digits);
  return { digits: negative ? -value : value, exponent: exponent - fraction };
}

/** `d × 10^shift` as an integer, or undefined when that drops non-zero digits. */
export function scale(d: Decimal, shift: number): bigint | undefined {
  const e = d.exponent + shift;
  if (e >= 0) return d.digits * 10n ** BigInt(e);
  const divisor = 10n ** BigInt(-e);
  return d.digits % divisor === 0n ? d.digits / divisor : undefined;
}

/** A plain integer ([-]digits, at most 15, blanks around allowed) as a number; undefined otherwise. */
function smallInteger(b: Uint8Array, start: number, end: number): number | undefined {
  while (start < end && isSpace(b[start])) start++;
  while (end > start && isSpace(b[end - 1])) end--;
  const negative = b[start] === 0x2d;
  if (negative) start++;
  if (end <= start || end - start > 15) return undefined;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

function narrow(v: bigint): UnitValue {
  return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
}

/** Converts time texts of one column (in the file's resolved format) to int64 values in a unit. */
export class TimeConverter {
  private scratch = new Uint8Array(64);

  constructor(
    readonly format: ResolvedTimeFormat,
    readonly unit: ArrowTimeUnit,
    private readonly zone: ZoneOffsets | undefined,
    private readonly fileName: string,
  ) {}

  /** The time of bytes[start, end) in the unit; null when it is not a time; throws when it has finer digits. */
  fromBytes(b: Uint8Array, start: number, end: number, record: number): UnitValue | null {
    const v = this.format === 'iso' ? this.iso(b, start, end, record) : this.epoch(b, start, end, record);
    if (typeof v === 'bigint' && (v < INT64_MIN || v > INT64_MAX)) {
      throw new SeekdataError('OUT_OF_RANGE', `${this.fileName}: record ${record}: time ${JSON.stringify(new TextDecoder().decode(b.subarray(start, end)))} does not fit an Arrow timestamp in ${this.unit}; export with a coarser timeUnit`, { file: this.fileName, record });
    }
    return v;
  }

  /** The time of a JSON value (a string, or a number in an epoch format). */
  fromJson(value: unknown, record: number): UnitValue | null {
    if (typeof value === 'number') {
      if (this.format === 'iso' || !Number.isFinite(value)) return null;
      // The decimal text of the double: as exact as the JSON parser left it.
      const text = new TextEncoder().encode(String(value));
      return this.fromBytes(text, 0, text.length, record);
    }
    if (typeof value !== 'string') return null;
    const text = new TextEncoder().encode(value);
    return this.fromBytes(text, 0, text.length, record);
  }

  private finer(b: Uint8Array, start: number, end: number, record: number): SeekdataError {
    const text = new TextDecoder().decode(b.subarray(start, end)).trim();
    return new SeekdataError(
      'INVALID_OPTION',
      `${this.fileName}: record ${record}: time ${JSON.stringify(text)} has digits finer than the Arrow time unit ${this.unit}; export with timeUnit 'ns' (CLI --time-unit ns)`,
      { file: this.fileName, record },
    );
  }

  private epoch(b: Uint8Array, start: number, end: number, record: number): UnitValue | null {
    const shift = DIGITS[this.unit] - DIGITS[this.format as ArrowTimeUnit];
    const fast = shift >= 0 ? smallInteger(b, start, end) : undefined;
    if (fast !== undefined) {
      const v = fast * 10 ** shift;
      if (Number.isSafeInteger(v)) return v;
    }
    const d = parseDecimal(b, start, end);
    if (d === undefined) return null;
    const v = scale(d, shift);
    if (v === undefined) throw this.finer(b, start, end, record);
    return narrow(v);
  }

  /**
   * ISO-8601: the whole seconds through the one ISO parser (with the fraction cut out of the text, so
   * they come back as an exact integer of milliseconds), plus the fraction's digits as an integer.
   */
  private iso(b: Uint8Array, start: number, end: number, record: number): UnitValue | null {
    let s = start;
    let e = end;
    while (s < e && isSpace(b[s])) s++;
    while (e > s && isSpace(b[e - 1])) e--;
    // A fraction can only follow the seconds: YYYY-MM-DDTHH:MM:SS at fixed places.
    const dot = s + 19;
    let ms: number;
    let fraction = '';
    if (dot < e && b[s + 16] === 0x3a && (b[dot] === 0x2e || b[dot] === 0x2c)) {
      let k = dot + 1;
      while (k < e && b[k] >= 0x30 && b[k] <= 0x39) fraction += String.fromCharCode(b[k++]);
      if (fraction.length === 0) return null;
      const rest = e - k;
      if (this.scratch.length < 19 + rest) this.scratch = new Uint8Array(19 + rest);
      this.scratch.set(b.subarray(s, dot), 0);
      this.scratch.set(b.subarray(k, e), 19);
      ms = parseIso(this.scratch, 0, 19 + rest, this.zone);
    } else ms = parseIso(b, s, e, this.zone);
    if (Number.isNaN(ms)) return null;
    const digits = DIGITS[this.unit];
    const kept = fraction.slice(0, digits).padEnd(digits, '0');
    if (fraction.length > digits && /[1-9]/.test(fraction.slice(digits))) throw this.finer(b, start, end, record);
    if (digits >= 3) {
      // Milliseconds times a power of ten, plus the digits: exact while it stays a safe integer.
      const v = ms * 10 ** (digits - 3) + (kept === '' ? 0 : Number(kept));
      if (Number.isSafeInteger(v) && Number.isSafeInteger(ms)) return v;
    }
    const whole = scale({ digits: BigInt(ms), exponent: 0 }, digits - 3);
    if (whole === undefined) throw this.finer(b, start, end, record);
    return narrow(whole + BigInt(kept === '' ? 0 : kept));
  }
}
