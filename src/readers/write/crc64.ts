/**
 * CRC-64 as xz uses it for a block's check (ECMA-182 polynomial, reflected: 0xC96C5795D7870F42, initial
 * and final value all ones). Neither Node nor lzma-native exposes liblzma's CRC-64, so it is computed here,
 * slicing by 4 over two 32-bit halves (no BigInt in the loop). Compressing a block costs far more than
 * checking it: at a few hundred MB/s this is noise next to LZMA2's few MB/s.
 */

const POLY_LO = 0xd7870f42;
const POLY_HI = 0xc96c5795;

/** tables[k][b]: the CRC of byte b followed by k zero bytes, as low and high 32-bit halves. */
const LO: Uint32Array[] = [];
const HI: Uint32Array[] = [];
for (let k = 0; k < 4; k++) {
  LO.push(new Uint32Array(256));
  HI.push(new Uint32Array(256));
}
for (let b = 0; b < 256; b++) {
  let lo = b;
  let hi = 0;
  for (let i = 0; i < 8; i++) {
    const odd = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (odd !== 0) {
      lo = (lo ^ POLY_LO) >>> 0;
      hi = (hi ^ POLY_HI) >>> 0;
    }
  }
  LO[0][b] = lo;
  HI[0][b] = hi;
}
for (let k = 1; k < 4; k++) {
  for (let b = 0; b < 256; b++) {
    const lo = LO[k - 1][b];
    const hi = HI[k - 1][b];
    // One more zero byte: shift right by 8 and fold in the table entry of the byte shifted out.
    const out = lo & 0xff;
    LO[k][b] = (((lo >>> 8) | (hi << 24)) ^ LO[0][out]) >>> 0;
    HI[k][b] = ((hi >>> 8) ^ HI[0][out]) >>> 0;
  }
}

/** CRC-64 (xz) of `bytes`, as 8 little-endian bytes: the form stored after an xz block. */
export function crc64(bytes: Uint8Array): Uint8Array {
  const [l0, l1, l2, l3] = LO;
  const [h0, h1, h2, h3] = HI;
  let lo = 0xffffffff;
  let hi = 0xffffffff;
  const n = bytes.length;
  const end4 = n - (n % 4);
  let i = 0;
  for (; i < end4; i += 4) {
    const x = lo ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    const a = x & 0xff;
    const b = (x >>> 8) & 0xff;
    const c = (x >>> 16) & 0xff;
    const d = x >>> 24;
    // Four bytes shift the whole low half out: what stays of the register is its high half.
    lo = (hi ^ l3[a] ^ l2[b] ^ l1[c] ^ l0[d]) >>> 0;
    hi = (h3[a] ^ h2[b] ^ h1[c] ^ h0[d]) >>> 0;
  }
  for (; i < n; i++) {
    const t = (lo ^ bytes[i]) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ l0[t]) >>> 0;
    hi = ((hi >>> 8) ^ h0[t]) >>> 0;
  }
  lo = ~lo >>> 0;
  hi = ~hi >>> 0;
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, lo, true);
  view.setUint32(4, hi, true);
  return out;
}
