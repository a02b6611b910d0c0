/**
 * One glob language for every place that names many files: local paths (`data/*.csv.bz2`) and object keys
 * (`s3://bucket/events/2024-*.jsonl.gz`). Both are `/`-separated names matched whole:
 *
 * - `*` any run of characters other than `/` (also none); `?` one character other than `/`;
 * - `[abc]`, `[a-z]`, `[!a-z]` / `[^a-z]` one character (never `/`) of, or not of, a set;
 * - `**` as a whole segment (`a/**` + `/b`, or alone) any number of segments, none included;
 * - `\` makes the next character literal.
 *
 * A leading `.` is matched by wildcards like any other character (object stores have no hidden files).
 * Names are ordered by their UTF-8 bytes (`compareNames`), the order S3 lists keys in, so a collection
 * given as a glob has the same order over local disk and an object store.
 */
import { SeekdataError } from '../errors.js';

/** Whether the pattern has a wildcard (an unescaped `*`, `?` or `[`). */
export function hasGlob(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/**
 * The literal part of a pattern before its first wildcard, unescaped: the prefix every match starts with
 * (for S3 the `Prefix` of the listing, for local files the directory to walk is `dirname` of it).
 */
export function globPrefix(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) out += pattern[++i];
    else if (c === '*' || c === '?' || c === '[') return out;
    else out += c;
  }
  return out;
}

/** Whether a match may lie in a deeper directory than the pattern's last literal `/` (`**`, or a wildcard before a `/`). */
export function globCrossesSlash(pattern: string): boolean {
  const prefix = globPrefix(pattern);
  const rest = pattern.slice(escapedLength(pattern, prefix.length));
  return rest.includes('/') || /(^|\/)\*\*$/.test(rest);
}

/** The length in the pattern of its first `n` unescaped characters. */
function escapedLength(pattern: string, n: number): number {
  let i = 0;
  for (let taken = 0; taken < n; taken++) i += pattern[i] === '\\' ? 2 : 1;
  return i;
}

/** Compiles a pattern to a regular expression matching whole names. Invalid patterns are `INVALID_OPTION`. */
export function globToRegExp(pattern: string): RegExp {
  let out = '^';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '*') {
      const atStart = i === 0 || pattern[i - 1] === '/';
      if (pattern[i + 1] === '*' && atStart && (i + 2 === pattern.length || pattern[i + 2] === '/')) {
        // `**` as a whole segment: any number of whole segments (with the `/` after them), or all the rest.
        if (i + 2 === pattern.length) out += '.*';
        else out += '(?:[^/]*/)*';
        i += 3;
        continue;
      }
      // Several stars in a segment act as one.
      while (pattern[i + 1] === '*') i++;
      out += '[^/]*';
      i++;
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end < 0) throw badPattern(pattern, `"[" at ${i} is never closed`);
      out += compileClass(pattern, pattern.slice(i + 1, end), i);
      i = end + 1;
    } else if (c === '\\') {
      if (i + 1 >= pattern.length) throw badPattern(pattern, 'it ends with a lone "\\"');
      out += escapeRegExp(pattern[i + 1]);
      i += 2;
    } else {
      out += escapeRegExp(c);
      i++;
    }
  }
  return new RegExp(`${out}$`, 'u');
}

/** A matcher for names (a glob compiled once). */
export function globMatcher(pattern: string): (name: string) => boolean {
  const re = globToRegExp(pattern);
  return (name) => re.test(name);
}

/** Index of the `]` closing the class opened at `start`; a `]` right after `[`, `[!` or `[^` is a member. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '!' || pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return -1;
}

function compileClass(pattern: string, body: string, at: number): string {
  let negate = false;
  let k = 0;
  if (body[0] === '!' || body[0] === '^') {
    negate = true;
    k = 1;
  }
  const members: string[] = [];
  const chars = [...body.slice(k)];
  for (let j = 0; j < chars.length; j++) {
    let c = chars[j];
    if (c === '\\' && j + 1 < chars.length) c = chars[++j];
    if (chars[j + 1] === '-' && j + 2 < chars.length) {
      let hi = chars[j + 2];
      let skip = 2;
      if (hi === '\\' && j + 3 < chars.length) {
        hi = chars[j + 3];
        skip = 3;
      }
      if ((hi.codePointAt(0) ?? 0) < (c.codePointAt(0) ?? 0)) throw badPattern(pattern, `the range ${c}-${hi} at ${at} is reversed`);
      members.push(`${escapeClassChar(c)}-${escapeClassChar(hi)}`);
      j += skip;
    } else {
      members.push(escapeClassChar(c));
    }
  }
  if (members.length === 0) throw badPattern(pattern, `the class at ${at} is empty`);
  // A class never matches "/": names are matched segment by segment.
  return negate ? `[^/${members.join('')}]` : `(?!/)[${members.join('')}]`;
}

function escapeRegExp(c: string): string {
  // (Only syntax characters may be escaped in a `u` regular expression.)
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function escapeClassChar(c: string): string {
  return /[\]\\^-]/.test(c) ? `\\${c}` : c;
}

function badPattern(pattern: string, why: string): SeekdataError {
  return new SeekdataError('INVALID_OPTION', `glob ${JSON.stringify(pattern)} is not valid: ${why}`);
}

/** Orders names by their UTF-8 bytes (S3's listing order; JavaScript's `<` orders UTF-16 units, which differs above U+FFFF). */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
