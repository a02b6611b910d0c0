/**
 * The sharding plan of an epoch: which records each of `worldSize` ranks draws. As PyTorch's
 * DistributedSampler does, every rank draws the same number of records: ceil(N / worldSize) with
 * `shardPolicy: 'pad'` (a rank one short repeats one record), floor(N / worldSize) with `'drop'` (a rank
 * one over leaves its last record out of the epoch). In `exact` mode rank r takes positions r, r + W,
 * r + 2W, ... of the epoch's permutation, positions past the end wrapping to its start (DistributedSampler's
 * padding). In `chunked` and file order the sequence of records in the epoch's chunk order is cut into
 * W contiguous runs at record boundaries (a chunk can be split between two neighbouring ranks), of
 * floor or ceil N / W records; a run one short of ceil repeats its own first record. So shards are equal
 * however unequal the chunks are. The plan is a pure function of the index and (seed, epoch, options). */
import { FeistelPermutation, hashInts } from './permutation.js';

export type ShuffleMode = 'exact' | 'chunked' | 'none';
export type ShardPolicy = 'pad' | 'drop';

export interface OrderParams {
  mode: ShuffleMode;
  seed: number;
  epoch: number;
  rank: number;
  worldSize: number;
  /** Window of chunks for `chunked`. */
  windowChunks: number;
  /** How unequal shards are made equal. Default 'pad'. */
  shardPolicy?: ShardPolicy | undefined;
}

/** Records every rank draws per epoch. */
export function recordsPerRank(records: number, worldSize: number, policy: ShardPolicy = 'pad'): number {
  return policy === 'drop' ? Math.floor(records / worldSize) : Math.ceil(records / worldSize);
}

/**
 * Why a world size cannot be served, or undefined: with fewer records than ranks some rank would have no
 * record of its own. `name` is how the caller's user spells the option (`options.worldSize`, `--world-size`).
 */
export function worldSizeProblem(file: string, records: number, worldSize: number, name: string): string | undefined {
  if (worldSize <= 1 || records >= worldSize) return undefined;
  return `${name} ${worldSize} is more than the ${records} records of ${file}: some rank would get no record of its own`;
}

/** Records [first, end) of one chunk, drawn together (a chunk's share of a rank's shard). */
export interface Segment {
  chunk: number;
  first: number;
  end: number;
}

/** The chunk at place j of an epoch's chunk sequence (`none`: file order). */
function chunkSequence(chunks: number, params: OrderParams): (j: number) => number {
  if (params.mode !== 'chunked') return (j) => j;
  const permutation = new FeistelPermutation(chunks, hashInts(params.seed, params.epoch, 0xc4));
  return (j) => permutation.at(j);
}

/**
 * This rank's segments of a `chunked` or file-order epoch, in the order it reads them: its run
 * [floor(rank N / W), floor((rank + 1) N / W)) of the sequence of records in the epoch's chunk order,
 * then (pad) its first record once more, or (drop) without its last record, to `recordsPerRank`.
 * `firstRecord[c]` is the first record of chunk c (length chunks + 1).
 */
export function shardSegments(firstRecord: ArrayLike<number>, params: OrderParams): Segment[] {
  const chunks = Math.max(0, firstRecord.length - 1);
  const total = chunks === 0 ? 0 : firstRecord[chunks];
  const { rank, worldSize } = params;
  const per = recordsPerRank(total, worldSize, params.shardPolicy);
  const from = Math.floor((rank * total) / worldSize);
  const to = Math.min(Math.floor(((rank + 1) * total) / worldSize), from + per);
  const chunkAt = chunkSequence(chunks, params);
  const out: Segment[] = [];
  let pos = 0;
  for (let j = 0; j < chunks && pos < to; j++) {
    const c = chunkAt(j);
    const count = firstRecord[c + 1] - firstRecord[c];
    const lo = Math.max(from, pos);
    const hi = Math.min(to, pos + count);
    if (hi > lo) out.push({ chunk: c, first: firstRecord[c] + lo - pos, end: firstRecord[c] + hi - pos });
    pos += count;
  }
  if (to - from < per && out.length > 0) out.push({ chunk: out[0].chunk, first: out[0].first, end: out[0].first + 1 });
  return out;
}

/** The sequence position of draw i of this rank in an `exact` epoch (positions past the end wrap: padding). */
export function exactPosition(i: number, records: number, params: OrderParams): number {
  const p = params.rank + i * params.worldSize;
  return p < records ? p : p - records;
}
