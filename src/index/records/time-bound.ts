/**
 * The bounds of a time range as people write them — the CLI's `--from` / `--to`, a TimeRangeDataset's
 * `from` / `to` — parsed strictly, with the index's own time parser, so that both accept the same texts:
 * an ISO-8601 date or date-time (UTC unless it has an offset) or an epoch number (its unit by magnitude,
 * as in the index). Impossible dates and times (2020-02-30, 25:00, 24:30) are refused, not rolled over
 * into the next day or month.
 */
import { invalidOption } from '../../errors.js';
import { inferEpochUnit, parseTimeValue } from './time.js';

/** What a time bound may be written as, for messages. */
export const TIME_BOUND_FORMS = 'an ISO-8601 date or time (2024-03-03, 2024-03-03T09:00:00Z) or an epoch number';

/** The range of a JavaScript Date, in ms either side of the epoch. */
const MAX_TIME_MS = 8.64e15;

/** Epoch ms of a time written as text, or undefined when the text is not one. */
export function parseTimeText(value: string): number | undefined {
  const text = value.trim();
  let ms = NaN;
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) ms = parseTimeValue(text, inferEpochUnit(Number(text)), undefined);
  // The ISO parser accepts 24:00 (the end of a day) but would roll 24:30 over into the next day.
  else if (/^\d{4}-\d{2}-\d{2}/.test(text) && !/^.{10}[Tt ]24:(?!00(:00([.,]0+)?)?([zZ+-]|$))/.test(text)) ms = parseTimeValue(text, 'iso', undefined);
  return Math.abs(ms) <= MAX_TIME_MS ? ms : undefined;
}

/**
 * Epoch ms of an API time bound: a number (epoch ms), a valid Date, or a text as `parseTimeText` reads it.
 * Anything else is an INVALID_OPTION naming the option.
 */
export function timeBound(name: string, value: unknown): number {
  let ms: number | undefined;
  if (typeof value === 'number') ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string') ms = parseTimeText(value);
  if (ms === undefined || !(Math.abs(ms) <= MAX_TIME_MS)) throw invalidOption(name, `epoch ms, a Date, or ${TIME_BOUND_FORMS}`, value);
  return ms;
}
