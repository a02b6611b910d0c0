/**
 * The CRC32s of a big unit's pieces (pieces.ts) recorded by the scan that decodes the unit anyway, instead
 * of by a later pass through it: a scan that decodes units in this thread (zstd frames that do not say their
 * size) feeds each unit's output here in the cuts it decodes it in, and gets the CRC32 of every `pieceBytes`
 * piece of it, whatever the cuts. The scan hands them out only for units that then passed their check
 * (`Discovery.pieceCrcs`); discover.ts puts them in the chunk map's PieceCrcTable, which an index saves.
 */
import { crc32 } from 'node:zlib';

/** The CRC32 of each `pieceBytes` piece of one unit's decoded bytes, fed in order in cuts of any size. */
export class PieceCrcRecorder {
  private readonly crcs: number[] = [];
  private crc = 0;
  private filled = 0;

  constructor(private readonly pieceBytes: number) {}

  add(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(bytes.length - at, this.pieceBytes - this.filled);
      // A view (crc32 only reads it): the bytes are the scan's, on their way to a worker.
      this.crc = crc32(bytes.subarray(at, at + take), this.crc);
      this.filled += take;
      at += take;
      if (this.filled === this.pieceBytes) this.endPiece();
    }
  }

  /** The CRC32 of every piece, the last (shorter) one included: once the unit's last byte was added. */
  done(): number[] {
    if (this.filled > 0) this.endPiece();
    return this.crcs;
  }

  private endPiece(): void {
    this.crcs.push(this.crc >>> 0);
    this.crc = 0;
    this.filled = 0;
  }
}
