/**
 * Features derived from each record's time (the time index's value, so exactly the instant time queries
 * use): calendar parts in a time zone, as pandas' `Series.dt` gives them, and their cyclical encodings
 * (sin / cos of the part's angle) for models that should see 23:00 next to 00:00. Computed in the parse
 * step, in the workers, from the times the job carries.
 */
import { invalidOption } from '../errors.js';
import { zoneOffsets } from '../index/records/time.js';

export const TIME_FEATURES = [
  'hourOfDay',
  'minuteOfHour',
  'minuteOfDay',
  'dayOfWeek',
  'dayOfMonth',
  'dayOfYear',
  'month',
  'year',
  'isWeekend',
  'hourOfDaySin',
  'hourOfDayCos',
  'dayOfWeekSin',
  'dayOfWeekCos',
  'dayOfYearSin',
  'dayOfYearCos',
  'monthSin',
  'monthCos',
] as const;

/**
 * A feature of a record's time, in the zone of `timeFeatureZone`:
 * - `hourOfDay` 0-23, `minuteOfHour` 0-59, `minuteOfDay` 0-1439;
 * - `dayOfWeek` 0 (Monday) to 6 (Sunday), as pandas' `dt.dayofweek` and ISO 8601; `isWeekend` 1 on
 *   Saturday and Sunday, else 0;
 * - `dayOfMonth` 1-31, `dayOfYear` 1-366, `month` 1-12, `year`;
 * - `…Sin` / `…Cos`: sin and cos of 2π × part / period (hour of day with its minutes and seconds over 24
 *   h; day of week over 7; day of year (0-based, with the time of day) over 365.25; month (0-based) over 12).
 */
export type TimeFeature = (typeof TIME_FEATURES)[number];

const DAY = 86_400_000;

/** Checks a `timeFeatures` option: a list of known names. */
export function checkTimeFeatures(value: unknown): TimeFeature[] {
  if (!Array.isArray(value)) throw invalidOption('timeFeatures', `a list of ${TIME_FEATURES.join(', ')}`, value);
  for (const name of value) {
    if (!(TIME_FEATURES as readonly unknown[]).includes(name)) throw invalidOption('timeFeatures', `names among ${TIME_FEATURES.join(', ')}`, name);
  }
  return value as TimeFeature[];
}

/** Checks a time zone name (IANA), undefined for UTC. */
export function checkZone(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    if (typeof value !== 'string') throw new TypeError('not a string');
    zoneOffsets(value);
  } catch {
    throw invalidOption(name, 'an IANA time zone name such as "Europe/Paris"', value);
  }
  return value;
}

/** The value of `feature` for the instant `ms` (epoch milliseconds) in zone `zone` (undefined: UTC); NaN for a NaN time. */
export function timeFeature(ms: number, feature: TimeFeature, zone: string | undefined): number {
  if (!Number.isFinite(ms)) return NaN;
  const offsets = zoneOffsets(zone);
  // The wall-clock time as if it were UTC: the Date's UTC getters then read the zone's calendar.
  const local = offsets === undefined ? ms : ms + offsets.offsetAt(ms);
  const d = new Date(local);
  const sinCos = (angle: number, sin: boolean): number => (sin ? Math.sin(angle) : Math.cos(angle));
  const dayOfWeek = (d.getUTCDay() + 6) % 7;
  const startOfYear = Date.UTC(d.getUTCFullYear(), 0, 1);
  const dayOfYear0 = Math.floor((local - startOfYear) / DAY);
  const timeOfDay = local - Math.floor(local / DAY) * DAY;
  switch (feature) {
    case 'hourOfDay':
      return d.getUTCHours();
    case 'minuteOfHour':
      return d.getUTCMinutes();
    case 'minuteOfDay':
      return d.getUTCHours() * 60 + d.getUTCMinutes();
    case 'dayOfWeek':
      return dayOfWeek;
    case 'dayOfMonth':
      return d.getUTCDate();
    case 'dayOfYear':
      return dayOfYear0 + 1;
    case 'month':
      return d.getUTCMonth() + 1;
    case 'year':
      return d.getUTCFullYear();
    case 'isWeekend':
      return dayOfWeek >= 5 ? 1 : 0;
    case 'hourOfDaySin':
    case 'hourOfDayCos':
      return sinCos((2 * Math.PI * timeOfDay) / DAY, feature === 'hourOfDaySin');
    case 'dayOfWeekSin':
    case 'dayOfWeekCos':
      return sinCos((2 * Math.PI * dayOfWeek) / 7, feature === 'dayOfWeekSin');
    case 'dayOfYearSin':
    case 'dayOfYearCos':
      return sinCos((2 * Math.PI * (dayOfYear0 + timeOfDay / DAY)) / 365.25, feature === 'dayOfYearSin');
    case 'monthSin':
    case 'monthCos':
      return sinCos((2 * Math.PI * d.getUTCMonth()) / 12, feature === 'monthSin');
  }
}
