/**
 * CRC-32 (the gzip / zlib polynomial) of byte ranges, and the combination of two CRCs without the bytes.
 * `zlib.crc32` is native in Node >= 20.15; older Node gets a table-driven fallback. Combining is zlib's
 * `crc32_combine` (multiplication modulo the CRC polynomial by x^(8 * len2)): it turns the CRCs of the
 * spans of a member into the member's CRC, and BGZF trailers into the CRC of a run of blocks, so no byte
 * is checksummed twice.
 */
import zlib from 'node:zlib';

const POLY = 0xedb88320;

type Crc32Fn = (data: Uint8Array, value?: number) => number;

/** Native when this Node has it (the typings declare it unconditionally; Node < 20.15 lacks it). */
const nativeCrc32 = (zlib as { crc32?: Crc32Fn }).crc32;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function tableCrc32(data: Uint8Array, value = 0): number {
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of `data`, continuing from `value` (the CRC of the bytes before it; 0 to start). */
export function crc32(data: Uint8Array, value = 0): number {
  return nativeCrc32 === undefined ? tableCrc32(data, value) : nativeCrc32(data, value) >>> 0;
}

/** Exposed for tests: the fallback used on Node < 20.15. */
export const crc32Fallback = tableCrc32;

/** a * b modulo the CRC polynomial (bit-reflected, as in zlib's multmodp). */
function multmodp(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  let bb = b >>> 0;
  for (;;) {
    if ((a & m) >>> 0 !== 0) {
      p ^= bb;
      if ((a & (m - 1)) >>> 0 === 0) break;
    }
    m >>>= 1;
    bb = bb & 1 ? (bb >>> 1) ^ POLY : bb >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N = (() => {
  const t = new Uint32Array(32);
  let p = 0x40000000; // x^1
  t[0] = p;
  for (let n = 1; n < 32; n++) t[n] = p = multmodp(p, p);
  return t;
})();

/** x^(n * 2^k) modulo the polynomial; n may exceed 2^32 (any safe integer). */
function x2nmodp(n: number, k: number): number {
  let p = 0x80000000; // x^0
  let rest = n;
  let j = k;
  while (rest > 0) {
    if (rest % 2 === 1) p = multmodp(X2N[j & 31], p);
    rest = Math.floor(rest / 2);
    j++;
  }
  return p;
}

/** CRC-32 of A followed by B, from crc(A), crc(B) and the length of B in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB === 0) return crcA >>> 0;
  return (multmodp(x2nmodp(lengthB, 3), crcA >>> 0) ^ (crcB >>> 0)) >>> 0;
}

/**
 * The CRC-32 of each `piece`-byte piece of `data` (the last may be shorter), and of the whole, from the
 * pieces' CRCs combined (every byte is checksummed once). The operator that shifts a CRC by `piece` bytes
 * is computed once per call, so combining costs one multiplication per piece.
 */
export function crc32Pieces(data: Uint8Array, piece: number): { crc: number; pieces: Uint32Array } {
  const n = Math.ceil(data.length / piece);
  const pieces = new Uint32Array(n);
  const shift = x2nmodp(piece, 3);
  let crc = 0;
  for (let k = 0; k < n; k++) {
    const c = crc32(data.subarray(k * piece, Math.min(data.length, (k + 1) * piece)));
    pieces[k] = c;
    const length = Math.min(piece, data.length - k * piece);
    crc = length === piece ? (multmodp(shift, crc) ^ c) >>> 0 : crc32Combine(crc, c, length);
  }
  return { crc, pieces };
}
