/**
 * One place that turns order options into an epoch's plan, for every consumer of orders: the datasets and
 * `sampleBatches` (the `sample` command) validate the same options the same way, identify the plan the
 * same way (what a saved state must match), and draw from the same orders (order.ts, shard.ts).
 */
import { invalidOption, SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import { checkNonNegativeInt, checkOneOf, checkPositiveInt } from '../options.js';
import { ChunkedOrder, ExactOrder } from './order.js';
import { hashInts } from './permutation.js';
import { worldSizeProblem, type OrderParams, type Segment, type ShardPolicy, type ShuffleMode } from './shard.js';
import type { RecordSubset } from './subset.js';

/** The options that shape an epoch's order (see ShuffledBatchOptions for each). */
export interface PlanOptions {
  shuffle?: 'exact' | 'chunked' | false | undefined;
  seed?: number | undefined;
  epoch?: number | undefined;
  windowChunks?: number | undefined;
  rank?: number | undefined;
  worldSize?: number | undefined;
  shardPolicy?: ShardPolicy | undefined;
}

/**
 * Validated order parameters (for `epoch`; change it per epoch). Throws INVALID_OPTION naming the field.
 * `subset`: the records the epochs draw from, when not all of the file's.
 */
export function resolvePlan(file: Indexed, options: PlanOptions, subset?: RecordSubset): OrderParams {
  const shuffle = options.shuffle ?? 'chunked';
  if (shuffle !== 'exact' && shuffle !== 'chunked' && shuffle !== false) throw invalidOption('shuffle', "'exact', 'chunked' or false", shuffle);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw invalidOption('seed', 'an integer', seed);
  // Explicit options win; else the variables launchers set (SEEKDATA_RANK / SEEKDATA_WORLD_SIZE, RANK / WORLD_SIZE).
  const fromEnv = options.rank === undefined && options.worldSize === undefined ? environmentShard() : undefined;
  const worldSize = checkPositiveInt('worldSize', options.worldSize ?? fromEnv?.worldSize ?? 1);
  const rank = checkNonNegativeInt('rank', options.rank ?? fromEnv?.rank ?? 0);
  if (rank >= worldSize) throw invalidOption('rank', `below worldSize (${worldSize})`, rank);
  const name = subset === undefined || subset.isAll ? file.name : `${file.name} (${subset.description})`;
  const problem = worldSizeProblem(name, subset?.count ?? file.records.count, worldSize, 'options.worldSize');
  if (problem !== undefined) throw new SeekdataError('INVALID_OPTION', problem, { file: file.name });
  return {
    mode: shuffle === false ? 'none' : shuffle,
    seed,
    epoch: checkNonNegativeInt('epoch', options.epoch ?? 0),
    rank,
    worldSize,
    windowChunks: checkPositiveInt('windowChunks', options.windowChunks ?? 8),
    shardPolicy: checkOneOf('shardPolicy', options.shardPolicy ?? 'pad', ['pad', 'drop'] as const),
  };
}

/**
 * This process's shard from the environment, when a launcher set it: `SEEKDATA_RANK` and
 * `SEEKDATA_WORLD_SIZE`, else `RANK` and `WORLD_SIZE` (torchrun, Horovod, many schedulers). Each pair is
 * taken whole; one variable of a pair without the other, or a value that is not a fitting integer, is an
 * `INVALID_OPTION` naming the variable.
 */
export function environmentShard(env: NodeJS.ProcessEnv = process.env): { rank: number; worldSize: number } | undefined {
  for (const [rankName, sizeName] of [
    ['SEEKDATA_RANK', 'SEEKDATA_WORLD_SIZE'],
    ['RANK', 'WORLD_SIZE'],
  ] as const) {
    const rankText = env[rankName];
    const sizeText = env[sizeName];
    const hasRank = rankText !== undefined && rankText !== '';
    const hasSize = sizeText !== undefined && sizeText !== '';
    if (!hasRank && !hasSize) continue;
    if (!hasRank || !hasSize) {
      throw new SeekdataError('INVALID_OPTION', `the environment sets ${hasRank ? rankName : sizeName} without ${hasRank ? sizeName : rankName}: set both (or pass rank and worldSize as options, which win)`);
    }
    const int = (name: string, text: string, min: number): number => {
      const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
      if (!Number.isSafeInteger(value) || value < min) throw new SeekdataError('INVALID_OPTION', `environment variable ${name} must be an integer of at least ${min}, got ${JSON.stringify(text)}`);
      return value;
    };
    const worldSize = int(sizeName, sizeText, 1);
    const rank = int(rankName, rankText, 0);
    if (rank >= worldSize) throw new SeekdataError('INVALID_OPTION', `environment variable ${rankName} (${rank}) must be below ${sizeName} (${worldSize})`);
    return { rank, worldSize };
  }
  return undefined;
}

/**
 * What a saved `state` must match to resume: the options that shape the plan, and the file it was made
 * on (a hash of its layout: sizes, record counts per chunk, block checks). Small and JSON-able.
 */
export interface PlanIdentity {
  shuffle: ShuffleMode;
  worldSize: number;
  shardPolicy: ShardPolicy;
  /** Chunks in the window (chunked only; 0 otherwise). */
  windowChunks: number;
  /** Records in the file. */
  records: number;
  /** 8 hex digits identifying the file's layout. */
  file: string;
  /** 8 hex digits identifying the subset of records drawn from (a split side, take / skip); absent for all records. */
  subset?: string;
}

/** A hash of arrays of numbers, as 8 hex digits. */
function hashArrays(arrays: Array<ArrayLike<number>>): string {
  let h = 0x51ed;
  for (const array of arrays) {
    h = hashInts(h, array.length);
    for (let i = 0; i < array.length; i++) h = hashInts(h, array[i]);
  }
  return h.toString(16).padStart(8, '0');
}

/** The identity of a plan over a file (or a subset of its records): its options and the file's layout (what the plan is computed from). */
export function planIdentity(file: Indexed, params: OrderParams, subset?: RecordSubset): PlanIdentity {
  const identity: PlanIdentity = {
    shuffle: params.mode,
    worldSize: params.worldSize,
    shardPolicy: params.shardPolicy ?? 'pad',
    windowChunks: params.mode === 'chunked' ? params.windowChunks : 0,
    records: subset?.count ?? file.records.count,
    file: hashArrays(file.layoutArrays()),
  };
  if (subset !== undefined && !subset.isAll) identity.subset = subset.id;
  return identity;
}

/** Throws INVALID_OPTION naming the first field where a saved plan differs from this one. */
export function checkPlan(saved: unknown, current: PlanIdentity): void {
  if (typeof saved !== 'object' || saved === null) {
    throw new SeekdataError('INVALID_OPTION', `options.state.plan must be the plan object of a dataset's state(), got ${JSON.stringify(saved)}`);
  }
  // Both ways: a field only one plan has (the subset of a split side) differs too.
  const fields = new Set([...Object.keys(current), ...Object.keys(saved)]) as Set<keyof PlanIdentity>;
  for (const field of fields) {
    const was = (saved as Record<string, unknown>)[field];
    if (was !== current[field]) {
      const what = field === 'file' || field === 'records' ? 'another file (or another index of it, or another subset of its records)' : field === 'subset' ? 'another subset of the records' : `another ${field}`;
      throw new SeekdataError(
        'INVALID_OPTION',
        `options.state comes from ${what}: state.plan.${field} is ${JSON.stringify(was)}, this dataset's is ${JSON.stringify(current[field])}; a state resumes only the plan it was saved from`,
      );
    }
  }
}

/** The draws of an epoch in order, for any mode. `slot` is the draw's segment (-1 in exact mode). */
export interface EpochDraws {
  readonly length: number;
  /** The rank's segments (chunked and file order; empty in exact mode). */
  readonly segments: Segment[];
  next(): { record: number; slot: number } | undefined;
  /** Slots with records still in the window (chunked and file order). */
  pendingSlots(): Set<number>;
}

/** The epoch's draws for `params` (over `subset` when given); `onEnter(slot)` is called as each segment enters the window. */
export function epochDraws(file: Indexed, params: OrderParams, onEnter?: (slot: number) => void, subset?: RecordSubset): EpochDraws {
  if (params.mode !== 'exact') return new ChunkedOrder(file.records, params, onEnter, subset);
  const order = new ExactOrder(subset ?? file.records.count, params);
  let i = 0;
  return {
    length: order.length,
    segments: [],
    next: () => (i < order.length ? { record: order.at(i++), slot: -1 } : undefined),
    pendingSlots: () => new Set<number>(),
  };
}
