/**
 * The order of a weighted draw without replacement, as an exponential race (Efraimidis-Spirakis): record r
 * runs with key -ln(u) / weight[r], u uniform and a pure function of (seed, epoch, r); the first k to
 * finish are the draw, in that order. WeightedSampleDataset's epochs without replacement (weighted.ts).
 */
import { hashInts } from './permutation.js';

/** A uniform number in (0, 1) with 53 random bits, a pure function of (seed, epoch, record). */
function uniform(seed: number, epoch: number, record: number): number {
  const hi = hashInts(seed, epoch, record, 0x5a17e);
  const lo = hashInts(seed, epoch, record, 0x0c0ffee);
  return ((hi >>> 0) * 2097152 + (lo >>> 11) + 0.5) / 9007199254740992;
}

/** Record numbers carried in a coarse key's low mantissa bits (raceOrder); larger files sort with a comparator. */
const RECORD_BITS = 27;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Record r's key in the epoch's race (finite: a key too large for a double is the largest one). */
function raceKey(weight: number, seed: number, epoch: number, record: number): number {
  return Math.min(Number.MAX_VALUE, -Math.log(uniform(seed, epoch, record)) / weight);
}

/**
 * The first `k` records of the epoch's exponential race over `weights` (records of weight 0 never run): by
 * increasing key -ln(u) / weight, ties (of probability ~0) by record. A numeric sort of coarse keys — each
 * key with the low `recordBits` bits of its mantissa replaced by its record, so the order is by key to
 * 52 - recordBits bits, then record — then each run of equal coarse keys put in the exact order (their keys
 * computed again). `recordBits` is for tests (fewer mantissa bits: more runs to put in order).
 */
export function raceOrder(weights: Float64Array, k: number, seed: number, epoch: number, recordBits = RECORD_BITS): Float64Array {
  if (!LITTLE_ENDIAN || weights.length > 2 ** recordBits || recordBits > 32) return raceOrderByComparator(weights, k, seed, epoch);
  let m = 0;
  for (let r = 0; r < weights.length; r++) if (weights[r] > 0) m++;
  const coarse = new Float64Array(m);
  const words = new Uint32Array(coarse.buffer);
  const low = recordBits === 32 ? 0 : 0xffffffff << recordBits;
  for (let r = 0, i = 0; r < weights.length; r++) {
    if (!(weights[r] > 0)) continue;
    coarse[i] = raceKey(weights[r], seed, epoch, r);
    words[2 * i] = ((words[2 * i] & low) | r) >>> 0;
    i++;
  }
  coarse.sort();
  const mask = ~low >>> 0;
  const out = new Float64Array(k);
  for (let i = 0; i < k; ) {
    let j = i + 1;
    while (j < m && words[2 * j + 1] === words[2 * i + 1] && (words[2 * j] & low) === (words[2 * i] & low)) j++;
    if (j === i + 1) {
      out[i] = (words[2 * i] & mask) >>> 0;
      i = j;
      continue;
    }
    const run: number[] = [];
    for (let x = i; x < j; x++) run.push((words[2 * x] & mask) >>> 0);
    const keys = new Map(run.map((r) => [r, raceKey(weights[r], seed, epoch, r)]));
    run.sort((a, b) => (keys.get(a) ?? 0) - (keys.get(b) ?? 0) || a - b);
    for (const r of run) if (i < k) out[i++] = r;
    i = j;
  }
  return out;
}

/** raceOrder by a comparator sort of the records of the k smallest keys (any file size and byte order). */
export function raceOrderByComparator(weights: Float64Array, k: number, seed: number, epoch: number): Float64Array {
  const keys = new Float64Array(weights.length);
  for (let r = 0; r < weights.length; r++) keys[r] = weights[r] > 0 ? raceKey(weights[r], seed, epoch, r) : Infinity;
  const bound = Float64Array.from(keys).sort()[k - 1];
  const picked: number[] = [];
  for (let r = 0; r < keys.length; r++) if (keys[r] <= bound && weights[r] > 0) picked.push(r);
  picked.sort((a, b) => keys[a] - keys[b] || a - b);
  return Float64Array.from(picked.slice(0, k));
}
