/**
 * Finding bzip2 block and end-of-stream magics at any bit position. Each 48-bit magic, shifted by s bits
 * (0..7), covers 7 bytes of which 5 or 6 are whole: we search those whole bytes with Buffer.indexOf (a
 * fast byte-wise search) once per shift, then check the partial bytes at both ends.
 */

export const BLOCK_MAGIC = 0x314159265359n;
export const EOS_MAGIC = 0x177245385090n;

interface ShiftPattern {
  /** 7 pattern bytes and the mask of magic bits in each. */
  bytes: Uint8Array;
  masks: Uint8Array;
  /** The run of whole bytes searched with indexOf, and where it starts within the 7. */
  needle: Buffer;
  needleAt: number;
}

function patternsFor(magic: bigint): ShiftPattern[] {
  const out: ShiftPattern[] = [];
  for (let s = 0; s < 8; s++) {
    const value = magic << BigInt(8 - s);
    const mask = ((1n << 48n) - 1n) << BigInt(8 - s);
    const bytes = new Uint8Array(7);
    const masks = new Uint8Array(7);
    for (let i = 0; i < 7; i++) {
      bytes[i] = Number((value >> BigInt(48 - 8 * i)) & 0xffn);
      masks[i] = Number((mask >> BigInt(48 - 8 * i)) & 0xffn);
    }
    const needleAt = s === 0 ? 0 : 1;
    out.push({ bytes, masks, needle: Buffer.from(bytes.subarray(needleAt, needleAt + (s === 0 ? 6 : 5))), needleAt });
  }
  return out;
}

const BLOCK_PATTERNS = patternsFor(BLOCK_MAGIC);
const EOS_PATTERNS = patternsFor(EOS_MAGIC);

export interface MagicHit {
  /** Bit position of the first magic bit, relative to the start of the searched bytes. */
  bit: number;
  eos: boolean;
}

/**
 * All magics whose first bit lies in [0, limitBit) of `data` (data may extend past limitBit so that magics
 * starting near the limit are seen whole). Sorted by position.
 */
export function findMagics(data: Uint8Array, limitBit = data.length * 8): MagicHit[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const hits: MagicHit[] = [];
  for (const [patterns, eos] of [
    [BLOCK_PATTERNS, false],
    [EOS_PATTERNS, true],
  ] as const) {
    for (let s = 0; s < 8; s++) {
      const p = patterns[s];
      let from = 0;
      for (;;) {
        const found = buf.indexOf(p.needle, from);
        if (found < 0) break;
        from = found + 1;
        const b = found - p.needleAt;
        if (b < 0) continue;
        const bit = b * 8 + s;
        if (bit >= limitBit) break;
        if ((buf[b] & p.masks[0]) !== p.bytes[0]) continue;
        if (p.masks[6] !== 0 && (b + 6 >= buf.length || (buf[b + 6] & p.masks[6]) !== p.bytes[6])) continue;
        hits.push({ bit, eos });
      }
    }
  }
  hits.sort((a, b) => a.bit - b.bit);
  return hits;
}
