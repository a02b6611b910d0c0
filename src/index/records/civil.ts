/**
 * UTC epoch milliseconds of a proleptic Gregorian date and time by integer arithmetic (Howard Hinnant's
 * days-from-civil), for the timestamp hot loop of the indexing pass: Date.UTC costs a call into the
 * runtime per record and maps years 0..99 to 1900..1999 (parseIso corrects that afterwards with a Date
 * object, which turns 0000-02-29 into 0000-03-01: year 0 is read as 1900, no leap year). Equal to the
 * runtime's calendar for years 0..9999 and the field ranges parseIso accepts (test/decoders-civil.test.ts).
 */

/** Days from 1970-01-01 to year-month-day (month 1..12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** `Date.UTC(year, month - 1, day, hour, minute, second)` with years 0..99 taken literally. */
export function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000;
}
