/**
 * The format contract. Each format lives in its own folder under src/readers/ and answers, as python-xz's
 * layers do, only "is this me", "where are my units" and "decode this unit"; everything above (the chunk
 * layout, the cache, parallel decoding, the index file, records) is generic. formats.ts lists the formats.
 *
 * A unit is an independently decodable piece of the file (a bzip2 block, an xz block, a span of a plain
 * file, a gzip span or member run, a zstd frame). Units are found either without decoding (`units`:
 * headers, footers, arithmetic) or by a decoding scan (`scan`: bzip2, ordinary gzip), which hands every
 * decoded chunk to its caller so that an indexing pass decodes the file only once.
 */
import type { ByteSource } from '../sources/source.js';
import type { JobInput } from '../workers/jobs.js';
import type { JobRunner } from '../workers/pool.js';
import type { DecodeOutput, StepCall } from '../workers/registry.js';
import type { Settled } from '../util.js';
import type { PieceOptions } from './chunks.js';
import type { UnitTable } from './units.js';

/** Magic bytes and header size, for detection and for telling a truncated file from a text file. */
export interface Signature {
  /** Leading bytes; a pair is an inclusive range. */
  magic: ReadonlyArray<number | readonly [number, number]>;
  /** Bytes of the smallest header the format can start with (a file named so but shorter is TRUNCATED). */
  header: number;
  /** File name endings that say the format. */
  extensions: readonly string[];
}

/** A decoded chunk met by a scan, in file order. */
export interface ScannedChunk {
  /** Decompressed offset of the first byte. */
  offset: number;
  bytes: Uint8Array;
  /** Compressed bytes of the file consumed so far (for progress). */
  compressedDone: number;
  /** What the scan's step returned for this chunk, when it asked for one (see `ScanContext.stepFor`). */
  step?: unknown;
  /**
   * Decodes the chunk again and gives all its bytes: for a consumer of a scan whose jobs kept the bytes
   * (`ScanContext.keepBytes`, scanKnown's `keepBytes`) that finds it needs them after all. Given by the
   * scans that can leave bytes in their jobs.
   */
  whole?: (() => Promise<Uint8Array>) | undefined;
  /**
   * False when the chunk has not passed an integrity check yet (a span of a gzip member, whose CRC32
   * comes at the member's end; the pieces of a zstd frame before its checksum): the scan rejects before
   * yielding anything more when the check then fails, so a caller that fails as a whole (the indexing
   * pass) may use it, but one that hands bytes out must wait for a verified chunk, which vouches for all
   * before it. Default true.
   */
  verified?: boolean;
}

/** What a format that chooses its own units (gzip checkpoints, runs of small members) is told. */
export interface DiscoveryOptions {
  /** Decoded bytes a unit should hold (gzip: the checkpoint spacing). Default 1 MiB. */
  unitBytes?: number | undefined;
  /** Non-fatal findings (trailing garbage, a BGZF file without its end-of-file block). */
  onWarning?: ((message: string) => void) | undefined;
  /**
   * The decoded-size limit (limit.ts): a scan whose unit can grow past it before it is yielded (one huge
   * deflate block of a gzip member) stops there itself (LIMIT_EXCEEDED). Default: none.
   */
  maxDecodedBytes?: number | undefined;
}

/** What `info` says about a file beyond the common facts (see `FormatModule.describe`). */
export interface FormatDetails {
  /** The kind of file within its format ("single-member", "bgzf", "seekable", "one frame"). */
  kind: string;
  /** What a random read costs, in one line. */
  randomRead: string;
  /** What is verified when, in one line. */
  verified: string;
  /** The same as plain values, for `info --json` (units, checkpoints, frames with checksums, ...). */
  facts: Record<string, string | number | boolean>;
}

export interface ScanContext extends DiscoveryOptions {
  runner: JobRunner;
  /** Decodes in flight ahead of the consumer. */
  lookahead: number;
  signal?: AbortSignal | undefined;
  /**
   * The step to run, in the same job as the decode, on the chunk at decompressed `offset`. A scan that
   * does not know a chunk's offset when it starts the job passes -1 for every chunk but the first (0).
   */
  stepFor?: ((offset: number) => StepCall | undefined) | undefined;
  /**
   * Whether the job started now returns its chunk's bytes (default: always). A discovery that can do without
   * them (`FormatModule.scanLeavesBytes`) then yields empty `bytes` and a `whole` to decode the chunk again;
   * others return the bytes anyway.
   */
  keepBytes?: (() => boolean) | undefined;
  /**
   * What `head` decoded before the scan (the first unit, checked): a scan that meets that unit again takes
   * it from here instead of decoding it twice, and runs only the step on its bytes.
   */
  head?: HeadChunk | undefined;
  /**
   * The piece layout the chunk map will be read with: a scan that decodes units in this thread records the
   * CRC32 of each piece of those over `bigUnitBytes` (`Discovery.pieceCrcs`). Default: none recorded.
   */
  pieces?: PieceOptions | undefined;
}

/** The decoded bytes at the start of a scanned file (`FormatModule.head`). */
export interface HeadChunk {
  bytes: Uint8Array;
  /**
   * Units `head` decoded (each checked by its decoder, as a scan's decode is), by where they start in the
   * format's own terms (bzip2: the bit of the block magic), with what their decode gave (facts in absolute
   * terms), for the scan to take instead of decoding them again (`ScanContext.head`): the first unit when
   * `bytes` are it whole, and units decoded beside it by otherwise idle workers. Settled: a unit that
   * failed is decoded again by the scan, which reports its failure its own way.
   */
  units?: ReadonlyMap<number, Promise<Settled<DecodeOutput>>> | undefined;
}

/** Discovery by a decoding scan: the chunks in order, and the chunk map they make. */
export interface Discovery {
  /** Every decoded chunk in order; rejects with the first damage met (TRUNCATED / CORRUPT_DATA) after the intact chunks before it. */
  chunks(): AsyncGenerator<ScannedChunk>;
  /** The chunk map of what was scanned: complete once `chunks()` has ended, else its trusted part. */
  table(): UnitTable;
  /**
   * For unit `u` of `table()` over `ScanContext.pieces.bigUnitBytes`: the CRC32 of each of its
   * `pieceBytes` pieces (the last one shorter), from the bytes the scan decoded, which passed the unit's
   * check (a unit without one: its first decode, which also records the unit's own CRC-32). Undefined when
   * not recorded (the unit was decoded in a worker).
   */
  pieceCrcs?(u: number): readonly number[] | undefined;
}

/**
 * A unit decoded front to back in steps (for units too big to decode at once, for prefixes, for 'lazy'
 * reads). Output handed out before the end has NOT passed the unit's integrity check: `step()` returns
 * null only once the unit has ended and its check has passed (it rejects when the check fails).
 */
export interface UnitStream {
  /** The output of the next step (possibly none), or null after the end (the unit verified). */
  step(): Promise<Uint8Array[] | null>;
  /** Stops early (no verification) and frees the decoder. */
  dispose(): void;
}

export interface StreamOptions {
  /** Compressed bytes read and fed per step. */
  feedBytes: number;
  /** Size of the decoder's output pieces (a hint). */
  outputBytes: number;
}

/** A unit's decode job input, and the buffers of it that may be moved to a worker. */
export interface UnitTask {
  input: JobInput;
  transfer: ArrayBuffer[];
}

/** What a decode job says about a unit, for `FormatModule.check`. */
export interface DecodedFacts {
  /** Decoded length (also when the bytes stayed in the worker). */
  length: number;
  /** The format decoder's `DecodeOutput.info`. */
  info?: unknown;
}

export interface FormatModule<N extends string = string, T = unknown> {
  /** Format name: in the chunk map, the index file, `info`, and the worker's decoder registry. */
  name: N;
  /** What a unit is called in messages ("xz block"). */
  unitName: string;
  /** Magic and header size; undefined for plain (what detection falls back to). */
  signature: Signature | undefined;
  /** Whether the first bytes of a file (up to DETECT_BYTES) are this format. Default: the magic matches. */
  detect?(head: Uint8Array): boolean;
  /** Whether `cStart` / `cEnd` of the chunk map count bits (bzip2, gzip) rather than bytes. */
  offsetsInBits: boolean;

  /** Discovery without decoding; undefined when the file needs a decoding scan (`scan`). */
  units?(source: ByteSource, options?: DiscoveryOptions): Promise<UnitTable | undefined>;
  /**
   * Whether the sizes `units` found rest on fields no checksum covers (BGZF ISIZE, a zstd content size said
   * once): then discovery decodes every unit once to check them (size-check.ts), since one damaged size
   * would shift every later unit. Default false.
   */
  sizesUnverified?(units: UnitTable): boolean;
  /** Discovery by a decoding scan (required when `units` can answer undefined). */
  scan?(source: ByteSource, context: ScanContext): Discovery;
  /** Whether `scan`'s jobs leave a chunk's bytes where they are when told to (`ScanContext.keepBytes`). Default false. */
  scanLeavesBytes?: boolean;
  /**
   * The decoded bytes at the start of the file before any chunk map exists (a CSV header), for scanned
   * formats; `runner` decodes them where the format decodes fastest (a pool worker), and up to `alongside`
   * further units at the same time where the format can find them (see `HeadChunk.units`).
   */
  head?(source: ByteSource, runner: JobRunner, alongside: number): Promise<HeadChunk>;
  /**
   * Checks a chunk map loaded from an index file against the data (it is untrusted): `fail(what)` makes the
   * CORRUPT_INDEX error to throw. The generic checks (lengths, ascending dStart, extras present) ran before.
   */
  validate(units: UnitTable, source: ByteSource, fail: (what: string) => Error): Promise<void>;
  /** Names of the per-format extra columns and blobs (`UnitTable.extra`) a table of this format must have. */
  extra?: { columns?: readonly string[]; blobs?: readonly string[] } | undefined;
  /** Warnings to give once when a file is opened (e.g. xz blocks without an integrity check). */
  warnings?(units: UnitTable, file: string): string[];
  /** What `info` tells about a file of this format: its kind, the cost of a random read, what is verified when. */
  describe?(units: UnitTable): FormatDetails;

  /**
   * The decode job input of unit `u`: its compressed bytes read from the source as plain data. With
   * `inThread` the job runs in the calling thread (`inline`) and nothing is posted: the task may view the
   * source's bytes and the chunk map instead of copying them out, and its output need not own its buffer.
   */
  task(source: ByteSource, units: UnitTable, u: number, inThread?: boolean): Promise<UnitTask>;
  /**
   * Decodes one task (a pure function over plain data; runs in a worker; registered by `name`). `lend`: the
   * job keeps no bytes (only its step reads them), so the decoder may lend a buffer it reuses
   * (DecodeOutput.release).
   */
  decode?(task: T, lend?: boolean): DecodeOutput | Promise<DecodeOutput>;
  /**
   * Loads what `decode` needs in a thread (a WebAssembly module, a native addon), once per thread before
   * its first decode there; never rejects (a backend that does not load gives way to a fallback).
   */
  prepare?(): Promise<void>;
  /** What decodes this format's units in this thread, after `prepare` (for `info()`): "node-liblzma (liblzma 5.8.2)". */
  decoderName?(): string;
  /**
   * Whether the calling thread may decode unit `u` itself, skipping a worker round trip, when the unit is
   * small (`ReaderOptions.inlineDecodeBytes`): 'off-thread' when its decode runs on libuv's thread pool (a
   * native async binding: the calling thread only waits, so decodes started together still run in
   * parallel), 'blocking' when it is a fast native synchronous decode that holds the calling thread while
   * it runs (then only a read waiting on that one unit takes it). Undefined: always the job runner.
   * Either way the same `decode` runs, with every check it makes.
   */
  inline?(units: UnitTable, u: number): InlineDecode | undefined;
  /** Checks a decode result against the chunk map (CORRUPT_INDEX when it disagrees). */
  check?(units: UnitTable, u: number, result: DecodedFacts, file: string): void;
  /**
   * True when unit `u` is checked only by a value its first full decode records (`check`), and none is
   * recorded yet (zstd frames written with --no-check): an index built with `recordChecks` decodes it.
   */
  needsRecording?(units: UnitTable, u: number): boolean;

  /** Decodes unit `u` front to back in steps (see `UnitStream`). */
  stream?(source: ByteSource, units: UnitTable, u: number, options: StreamOptions): UnitStream;
  /** Units over `bigUnitBytes` are read in pieces through `stream` (pieces.ts). */
  bigUnits?: boolean;
  /**
   * The first `length` decoded bytes of unit `u`, as cheaply as the format can give them, NOT verified by
   * the unit's check: for comparing with bytes verified before.
   */
  prefix?(source: ByteSource, units: UnitTable, u: number, length: number): Promise<Uint8Array>;
  /**
   * Decoded bytes [0, n) of unit `u` with n >= `end`, decoding only a prefix of the unit, every byte of
   * it checked against a CRC-32 the index recorded for it (gzip spans, xz blocks: one per 64 KiB sub-span);
   * undefined when the unit has no such CRCs or n would be the whole unit (decode it whole then). Runs
   * in the calling thread. CORRUPT_DATA when the bytes asked for are damaged.
   */
  verifiedPrefix?(source: ByteSource, units: UnitTable, u: number, end: number): Promise<Uint8Array | undefined>;
  /**
   * Decoded bytes [at, at + bytes.length) ⊇ [from, to) of unit `u`, decoding only the independently checked
   * parts of it that hold them (BGZF runs: the blocks, each a gzip member with its own CRC-32 and ISIZE);
   * undefined when the unit has no such parts or they would be all of it. Runs in the calling thread, under
   * the same conditions as `verifiedPrefix`, which it comes before. CORRUPT_DATA when a part needed is damaged.
   */
  verifiedPart?(source: ByteSource, units: UnitTable, u: number, from: number, to: number): Promise<{ at: number; bytes: Uint8Array } | undefined>;
  /**
   * Sub-span bytes, when the indexing pass is to record the CRC-32 of every such piece of each unit it
   * decodes whole (sub-crcs.ts `setSubCrcs`), for `verifiedPrefix`: formats whose discovery does not decode
   * (xz). Undefined: the pass records none.
   */
  passSubCrcs?: number | undefined;
}

/** How a small unit can be decoded in the calling thread (see `FormatModule.inline`). */
export type InlineDecode = 'off-thread' | 'blocking';

/** A format that decodes units front to back in steps. */
export type StreamingFormat = FormatModule & Required<Pick<FormatModule, 'stream'>>;

export function streams(format: FormatModule): format is StreamingFormat {
  return format.stream !== undefined;
}

/** The decode job input of a task of `format` (the task is plain data the format's `decode` takes). */
export function decodeInput<T>(format: FormatModule<string, T>, task: T): JobInput {
  return { kind: 'decode', format: format.name, task };
}
