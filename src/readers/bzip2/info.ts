/** What decoding a bzip2 block tells besides its bytes, as it crosses the worker boundary. */
import { SeekdataError } from '../../errors.js';

export interface Bzip2Info {
  /** Bit position just past the block, relative to the task's data. */
  endBit: number;
  /** The stored (and verified) block CRC. */
  crc: number;
}

/** The info of a bzip2 decode result (WORKER_ERROR when a job came back without it). */
export function bzip2Info(info: unknown): Bzip2Info {
  if (typeof info === 'object' && info !== null && 'endBit' in info && 'crc' in info && typeof info.endBit === 'number' && typeof info.crc === 'number') {
    return { endBit: info.endBit, crc: info.crc };
  }
  throw new SeekdataError('WORKER_ERROR', 'a bzip2 decode job came back without its end bit and CRC');
}
