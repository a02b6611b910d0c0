/**
 * The verdict on one mutant: seekdata's output against the reference decoder's. The rules:
 *
 * - the reference accepts the file: seekdata's cat must give exactly its bytes, or a typed error (then
 *   classified "rejects a file the reference accepts", to be looked at, not a violation);
 * - the reference rejects it: seekdata's cat must fail with a typed error naming the file, and the bytes
 *   it wrote before failing must be the reference's output (or, past the reference's failure point, the
 *   original data: bytes from units that passed their own checks);
 * - random reads must return the reference's bytes when it accepts the file, and the original data when
 *   it rejects it (what the reference wrote before its error may be unchecked bytes of the damaged unit),
 *   or fail with a typed error naming the file;
 * - a file with no integrity check (xz --check=none, zstd --no-check) may decode, damaged, to bytes other
 *   than the reference's (no check sees the damage, and two decoder builds may differ on it): allowed only
 *   when seekdata warned that the file has no check;
 * - hangs, crashes, untyped errors and anything else are violations.
 */
import { sha1, type CatOutcome, type ErrorInfo, type ReadOutcome } from './protocol.js';

export interface Reference {
  ok: boolean;
  out: Buffer;
  stderr: string;
}

export interface Verdict {
  /** The mutant's outcome: `correct`, `typed:CODE`, `ref-accepts+typed:CODE`, or `VIOLATION:...`. */
  outcome: string;
  /** Outcome of each random read. */
  reads: string[];
  violations: string[];
}

function errorViolation(error: ErrorInfo, what: string): string | undefined {
  if (!error.typed) return `${what}: untyped error: ${error.message.split('\n')[0]}`;
  if (!error.namesFile) return `${what}: error does not name the file: ${error.message}`;
  return undefined;
}

const hashOf = (bytes: Buffer, from: number, to: number): string | undefined => (to <= bytes.length ? sha1(bytes.subarray(from, to)) : undefined);

/**
 * The bytes a failing cat wrote before its error. Where both wrote, they must be the reference's (or the
 * original's, where the reference wrote bytes of a damaged unit before noticing). Past the end of the
 * reference's output they are classified, not judged: the reference tools buffer their output (bzip2
 * writes 5,000-byte pieces and drops the last one when a stream CRC fails at the end of the stream), so
 * seekdata, writing each block once it has passed its CRC, may have written more before the same error.
 */
function partialVerdict(partial: Buffer, ref: Reference, plain: Buffer): string {
  const common = Math.min(partial.length, ref.out.length);
  if (!partial.subarray(0, common).equals(ref.out.subarray(0, common))) {
    return !ref.ok && partial.equals(plain.subarray(0, partial.length)) ? '+partial-original-where-reference-differs' : 'bad';
  }
  if (partial.length <= ref.out.length) return '';
  return partial.equals(plain.subarray(0, partial.length)) ? '+partial-past-reference(original)' : '+partial-past-reference';
}

/** seekdata's warning that a file has units without any integrity check (xz --check=none, zstd --no-check). */
function warnedUnchecked(warnings: string[]): boolean {
  return warnings.some((w) => /no integrity check|no checksum/.test(w));
}

export function classify(
  ref: Reference,
  plain: Buffer,
  cat: CatOutcome,
  reads: ReadOutcome[],
  ranges: Array<[number, number]>,
  seekdataWarnings: string[],
  /** The file has no integrity check (xz --check=none): damage can pass unseen by both tools. */
  unchecked: boolean,
): Verdict {
  const violations: string[] = [];
  let outcome: string;
  if (cat.ok) {
    if (!ref.ok) {
      outcome = 'VIOLATION:accepted-rejected';
      violations.push(`cat returned ${cat.length} bytes but the reference rejects the file (${ref.stderr.trim().split('\n')[0]})`);
    } else if (cat.length !== ref.out.length || cat.hash !== sha1(ref.out)) {
      if (unchecked && warnedUnchecked(seekdataWarnings)) {
        // Damage in data no check covers passes both decoders, and two libzstd builds may decode it to
        // different garbage: allowed only where the format has no check and seekdata said so.
        outcome = 'unchecked:differs-from-reference(warned)';
      } else {
        outcome = 'VIOLATION:mismatch';
        violations.push(`cat returned ${cat.length} bytes that differ from the reference's ${ref.out.length}`);
      }
    } else {
      const garbage = /trailing garbage/.test(ref.stderr);
      const warned = seekdataWarnings.some((w) => /trailing garbage/.test(w));
      outcome = garbage ? (warned ? 'correct+trailing-garbage-warned' : 'correct+trailing-garbage-silent') : 'correct';
    }
  } else {
    const bad = errorViolation(cat.error, 'cat');
    if (bad !== undefined) violations.push(bad);
    let partial = partialVerdict(cat.partial, ref, plain);
    // Output of a unit no check covers, damaged: see the rule for files without a check above.
    if (partial === 'bad' && unchecked && warnedUnchecked(seekdataWarnings)) partial = '+partial-unchecked(warned)';
    if (partial === 'bad') violations.push(`cat wrote ${cat.partial.length} bytes before failing that differ from the reference's output where both wrote, and from the original`);
    const code = cat.error.code ?? 'untyped';
    outcome = violations.length > 0 ? `VIOLATION:${bad !== undefined ? 'error' : 'partial-output'}` : `${ref.ok ? 'ref-accepts+' : ''}typed:${code}${partial}`;
  }
  const readLabels = reads.map((r, k) => {
    const [offset, length] = ranges[k];
    if (!r.ok) {
      const bad = errorViolation(r.error, `read(${offset}, ${length})`);
      if (bad !== undefined) {
        violations.push(bad);
        return 'VIOLATION';
      }
      return `typed:${r.error.code ?? ''}`;
    }
    const isRef = r.length === length && hashOf(ref.out, offset, offset + length) === r.hash;
    const isPlain = r.length === length && hashOf(plain, offset, offset + length) === r.hash;
    if (ref.ok && isRef) return 'exact';
    // The reference rejects the file: only the original data may come out (what the reference wrote
    // before its error may be unchecked bytes of the damaged unit), except where the format has no check.
    if (!ref.ok && isPlain) return isRef ? 'exact' : 'original(reference-failed)';
    if (!ref.ok && isRef && unchecked) return 'reference-output(no-check)';
    if (unchecked && r.length === length && warnedUnchecked(seekdataWarnings)) return 'unchecked-differs(warned)';
    violations.push(
      `read(${offset}, ${length}) returned ${ref.ok ? "bytes that are not the reference's" : isRef ? "the reference's output of a file it rejects, which is not the original" : "bytes that are neither the reference's nor the original"}`,
    );
    return 'VIOLATION';
  });
  if (violations.length > 0 && !outcome.startsWith('VIOLATION')) outcome = 'VIOLATION:read';
  return { outcome, reads: readLabels, violations };
}
