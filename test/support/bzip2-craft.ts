/**
 * Hand-made bzip2 blocks for the decoders' tests: any BWT vector (the column the decoder rebuilds, one byte a
 * position) with any origin pointer, whether or not it is the BWT of anything the bzip2 command would write.
 * The links such a vector makes are always a permutation (counting sort of its bytes), but of any cycle
 * structure: one cycle, many, fixed points, the walk's start on a cycle far shorter than the block. The truth
 * for such a block is computed here, apart from the decoders: bzip2's walk (n steps from the origin
 * pointer, round its cycle as often as that takes), the initial run-length stage, the block CRC.
 * The block is coded plainly (two identical groups of fixed-length codes, every selector 0), which both
 * decoders read like any other; `bzip2 -d` accepts the files too, but for a walk that ends with 4 equal bytes
 * and no count after them (`refused`), which it and our decoders refuse.
 */

const CRC_TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  CRC_TABLE[i] = c >>> 0;
}

/** The bzip2 block CRC of `bytes`. */
export function bzip2Crc(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = (crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff];
  return ~crc >>> 0;
}

/**
 * What a block of BWT vector `vector` and origin pointer `origPtr` decodes to (the reference's steps), and
 * whether libbzip2 refuses it: when the walk ends with 4 equal bytes and no count after them (libbzip2 reads
 * the count past the block's last symbol and reports a data error; the bytes are then what the walk gave).
 */
export function inverseVector(vector: Uint8Array, origPtr: number): { plain: Buffer; refused: boolean } {
  const n = vector.length;
  // next[i]: the position after i in the walk (LF mapping by a stable counting sort of the vector's bytes).
  const start = new Int32Array(257);
  for (const b of vector) start[b + 1]++;
  for (let i = 0; i < 256; i++) start[i + 1] += start[i];
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) next[start[vector[i]]++] = i;
  const walked = new Uint8Array(n);
  let t = next[origPtr];
  for (let k = 0; k < n; k++) {
    walked[k] = vector[t];
    t = next[t];
  }
  // The initial run-length stage: after 4 equal bytes, a count of more of them.
  let out = Buffer.alloc(n + 1024);
  let o = 0;
  let run = 0;
  let last = -1;
  for (const b of walked) {
    if (run === 4) {
      if (o + b > out.length) out = Buffer.concat([out.subarray(0, o), Buffer.alloc(out.length + b)]);
      out.fill(last, o, o + b);
      o += b;
      run = 0;
      continue;
    }
    run = b === last ? run + 1 : 1;
    last = b;
    if (o === out.length) out = Buffer.concat([out, Buffer.alloc(out.length)]);
    out[o++] = b;
  }
  return { plain: out.subarray(0, o), refused: run === 4 };
}

class BitWriter {
  private readonly bytes: number[] = [];
  private acc = 0;
  private count = 0;
  put(value: number, width: number): void {
    for (let i = width - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | (Math.floor(value / 2 ** i) & 1);
      if (++this.count === 8) {
        this.bytes.push(this.acc);
        this.acc = 0;
        this.count = 0;
      }
    }
  }
  done(): Uint8Array {
    if (this.count > 0) this.bytes.push(this.acc << (8 - this.count));
    return Uint8Array.from(this.bytes);
  }
}

export interface CraftedBlock {
  /** A whole bzip2 file (stream header, the block, end of stream); its block at bit 32. */
  file: Uint8Array;
  /** What the block decodes to (for a block libbzip2 refuses, the bytes of its walk). */
  plain: Buffer;
  /** Whether libbzip2 (`bzip2 -d`) refuses the block: it ends with 4 equal bytes and no count after them. */
  refused: boolean;
  /** The CRC stored in the block (that of `plain`, unless `crc` was given). */
  crc: number;
}

/** A one-block bzip2 file of BWT vector `vector` (1..level*100000 bytes) and origin pointer `origPtr`. */
export function craftBlock(vector: Uint8Array, origPtr: number, level = 9, crc?: number): CraftedBlock {
  const { plain, refused } = inverseVector(vector, origPtr);
  const stored = crc ?? bzip2Crc(plain);
  const w = new BitWriter();
  for (const b of [0x42, 0x5a, 0x68, 0x30 + level]) w.put(b, 8);
  w.put(0x314159, 24);
  w.put(0x265359, 24);
  w.put(stored, 32);
  w.put(0, 1);
  w.put(origPtr, 24);
  // Bytes in use.
  const used = new Array<boolean>(256).fill(false);
  for (const b of vector) used[b] = true;
  const unseq: number[] = [];
  let used16 = 0;
  for (let i = 0; i < 16; i++) if (used.slice(i * 16, i * 16 + 16).some(Boolean)) used16 |= 0x8000 >>> i;
  w.put(used16, 16);
  for (let i = 0; i < 16; i++) {
    if ((used16 & (0x8000 >>> i)) === 0) continue;
    let word = 0;
    for (let j = 0; j < 16; j++) {
      if (!used[i * 16 + j]) continue;
      word |= 0x8000 >>> j;
      unseq.push(i * 16 + j);
    }
    w.put(word, 16);
  }
  // Move-to-front, zero runs as RUNA/RUNB, then end of block.
  const symbols: number[] = [];
  const mtf = unseq.slice();
  let zeros = 0;
  const flush = (): void => {
    if (zeros === 0) return;
    let z = zeros - 1;
    for (;;) {
      symbols.push(z & 1);
      if (z < 2) break;
      z = (z - 2) >>> 1;
    }
    zeros = 0;
  };
  for (const b of vector) {
    const j = mtf.indexOf(b);
    if (j === 0) {
      zeros++;
      continue;
    }
    flush();
    mtf.splice(j, 1);
    mtf.unshift(b);
    symbols.push(j + 1);
  }
  flush();
  const alphaSize = unseq.length + 2;
  symbols.push(alphaSize - 1);
  // Two groups of the same fixed-length code; every selector picks group 0 ("0" in unary).
  const len = Math.max(1, Math.ceil(Math.log2(alphaSize)));
  w.put(2, 3);
  const selectors = Math.ceil(symbols.length / 50);
  w.put(selectors, 15);
  for (let i = 0; i < selectors; i++) w.put(0, 1);
  for (let g = 0; g < 2; g++) {
    w.put(len, 5);
    for (let s = 0; s < alphaSize; s++) w.put(0, 1);
  }
  for (const s of symbols) w.put(s, len);
  // End of stream, with the stream CRC of this one block.
  w.put(0x177245, 24);
  w.put(0x385090, 24);
  w.put(stored, 32);
  return { file: w.done(), plain, crc: stored, refused };
}

/**
 * The BWT vector and origin pointer of a block whose walk (before the initial run-length stage) is `walk`:
 * its rotations sorted, the byte before each (bzip2's forward transform, done plainly for small blocks).
 */
export function vectorOf(walk: Uint8Array): { vector: Uint8Array; origPtr: number } {
  const n = walk.length;
  const rotations = Array.from({ length: n }, (_, i) => i);
  rotations.sort((a, b) => {
    for (let k = 0; k < n; k++) {
      const d = walk[(a + k) % n] - walk[(b + k) % n];
      if (d !== 0) return d;
    }
    return 0;
  });
  return { vector: Uint8Array.from(rotations, (r) => walk[(r + n - 1) % n]), origPtr: rotations.indexOf(0) };
}
