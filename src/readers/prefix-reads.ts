/**
 * Reads that decode only a verified prefix of a unit (`FormatModule.verifiedPrefix`: gzip spans and xz
 * blocks whose sub-span CRC-32s the index holds), or only its verified parts that hold the bytes
 * (`FormatModule.verifiedPart`: the blocks of a BGZF run): a read inside one unit that is not cached decodes the unit's start
 * through the end of the sub-span holding its last byte — on average about half the unit — and every
 * byte of that is checked against a CRC-32 before the read returns.
 *
 * Repeated reads into one unit (small reads marching through it) must not decode growing prefixes over
 * and over: a second read into a unit touched recently decodes it whole instead, through the reader's
 * ordinary path, which caches it. When the cache cannot hold the unit, caching gains nothing, and each
 * read decodes its own prefix. The record of recent touches is bounded (`MAX_TOUCHED` units).
 */
import type { ByteSource } from '../sources/source.js';
import type { FormatModule } from './format.js';
import type { UnitTable } from './units.js';

/** Units remembered as touched by a prefix read (most recent kept). */
const MAX_TOUCHED = 64;

export class PrefixReads {
  private readonly touched = new Map<number, true>();
  /** Prefix reads in progress (their compressed bytes being read, or decoding). */
  busy = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly units: UnitTable,
    private readonly format: Pick<FormatModule, 'verifiedPrefix' | 'verifiedPart'>,
    /** The reader's cache budget: a unit larger than this cannot be cached, so it is never decoded whole for caching. */
    private readonly cacheBytes: number,
  ) {}

  /** Whether a read of unit `u` should decode a prefix (rather than the whole unit, to cache it); notes the touch. */
  take(u: number): boolean {
    const seen = this.touched.delete(u);
    this.touched.set(u, true);
    if (this.touched.size > MAX_TOUCHED) {
      for (const oldest of this.touched.keys()) {
        this.touched.delete(oldest);
        break;
      }
    }
    return !(seen && this.units.dStart[u + 1] - this.units.dStart[u] <= this.cacheBytes);
  }

  /**
   * Verified bytes [at, at + bytes.length) ⊇ [from, to) of unit `u` (offsets within the unit): the parts of it
   * that hold them (`verifiedPart`: BGZF blocks), else its prefix (`verifiedPrefix`); undefined when only a
   * whole decode can give them.
   */
  async read(u: number, from: number, to: number): Promise<{ at: number; bytes: Uint8Array } | undefined> {
    this.busy++;
    try {
      const part = await this.format.verifiedPart?.(this.source, this.units, u, from, to);
      if (part !== undefined) return part;
      const bytes = await this.format.verifiedPrefix?.(this.source, this.units, u, to);
      return bytes === undefined ? undefined : { at: 0, bytes };
    } finally {
      this.busy--;
    }
  }
}
