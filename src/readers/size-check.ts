/**
 * Unit sizes read from fields no checksum covers — a BGZF block's ISIZE, a zstd frame's content size or its
 * seek-table entry (when said only once) — are checked before any random read relies on them: a damaged
 * one would shift every later unit, and a read there would hand out intact bytes of another place. So a
 * chunk map found from such headers (`FormatModule.sizesUnverified`) is checked by decoding every unit once,
 * in parallel, as a scan does: the caller gets the decoded chunks (and the step's results) on the way, and
 * a unit that does not decode to its size ends the intact part (CORRUPT_DATA).
 */
import { SeekdataError, isSeekdataError } from '../errors.js';
import type { ByteSource } from '../sources/source.js';
import { chunkAt, chunkLayout, ChunkDecoder, DEFAULT_PIECES, type PieceOptions } from './chunks.js';
import type { Discovery, ScanContext, ScannedChunk } from './format.js';
import { formatOf } from './formats.js';
import { scanKnown } from './scan.js';
import { unitsPrefix, type UnitTable } from './units.js';

export class SizeCheck implements Discovery {
  /** Units decoded to their size, from the first. */
  private checked = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly units: UnitTable,
    private readonly context: ScanContext,
    private readonly pieces: PieceOptions = DEFAULT_PIECES,
  ) {}

  async *chunks(): AsyncGenerator<ScannedChunk> {
    const layout = chunkLayout(this.units, this.pieces);
    // 'lazy': a piece of a unit read in pieces comes before the unit's check (it says so: verified false).
    const decoder = new ChunkDecoder(this.source, this.units, layout, this.context.runner, { verify: 'lazy' });
    try {
      for await (const chunk of scanKnown(decoder, { lookahead: this.context.lookahead, signal: this.context.signal, stepFor: this.context.stepFor })) {
        const c = chunkAt(layout, chunk.offset);
        const u = layout.unit[c];
        const last = c + 1 === layout.count || layout.unit[c + 1] !== u;
        if (last) this.checked = u + 1;
        yield { ...chunk, verified: last };
      }
    } catch (error) {
      // The chunk map is the file's own headers here: a unit of another size is damaged data.
      if (isSeekdataError(error, 'CORRUPT_INDEX')) {
        const file = this.source.name;
        const format = formatOf(this.units.format);
        const at = this.units.cStart[this.checked];
        const byte = format.offsetsInBits ? Math.floor(at / 8) : at;
        throw new SeekdataError('CORRUPT_DATA', `${file}: ${format.unitName} at compressed byte ${byte} does not decode to the size its header gives (a damaged size field)`, {
          file,
          compressedOffset: byte,
          cause: error,
        });
      }
      throw error;
    } finally {
      decoder.close();
    }
  }

  /** The units checked so far (all of them once `chunks()` has ended). */
  table(): UnitTable {
    return this.checked === this.units.count ? this.units : unitsPrefix(this.units, this.checked);
  }
}
