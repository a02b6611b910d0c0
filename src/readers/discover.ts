/**
 * Building a file's chunk map from the file itself: its format's discovery without decoding (xz footers
 * and indexes, arithmetic for plain files), or its decoding scan (bzip2), whose decoded chunks a caller
 * that wants all the bytes anyway receives on the way.
 */
import { SeekdataError, isSeekdataError } from '../errors.js';
import type { ByteSource } from '../sources/source.js';
import type { JobRunner } from '../workers/pool.js';
import type { StepCall } from '../workers/registry.js';
import { chunkLayout, DEFAULT_PIECES, isBigUnit, type PieceOptions } from './chunks.js';
import type { Discovery, DiscoveryOptions, ScannedChunk } from './format.js';
import { checkKnownSize, scanLimit } from './limit.js';
import { pieceCrcTable } from './pieces.js';
import { SizeCheck } from './size-check.js';
import { warnOnOpen } from './source-format.js';
import { formatOf, type Format } from './formats.js';
import { scanLookahead } from './scan.js';
import type { UnitTable } from './units.js';

export interface Progress {
  /** Compressed bytes processed. */
  bytesDone: number;
  /** Compressed bytes in all. */
  bytesTotal: number;
  /**
   * Decompressed bytes produced so far, when the task decodes (an indexing scan or pass, `cat`): with a
   * high ratio (a decompression bomb) this is what grows while `bytesDone` barely moves.
   */
  decodedBytes?: number | undefined;
}

export interface DiscoverOptions {
  runner: JobRunner;
  parallelism: number;
  /** Keep the chunk map of the intact part of a file damaged part-way (`damage` holds the error) instead of rejecting. */
  allowDamage: boolean;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: Progress) => void) | undefined;
  onWarning?: ((message: string) => void) | undefined;
  /** Sees every decoded chunk, in order, when discovery decodes the file. */
  onChunk?: ((chunk: ScannedChunk) => void | Promise<void>) | undefined;
  /** The step to run on each chunk decoded by a scan (see `ScanContext.stepFor`). */
  stepFor?: ((offset: number) => StepCall | undefined) | undefined;
  /** Decoded bytes per unit for formats that choose their units (gzip checkpoints). Default 1 MiB. */
  unitBytes?: number | undefined;
  /** The piece layout of big units, for decoding them (a size check). Default: DEFAULT_PIECES. */
  pieces?: PieceOptions | undefined;
  /** Refuse (LIMIT_EXCEEDED) a file that decodes to more bytes than this (see limit.ts). Default: no limit. */
  maxDecodedBytes?: number | undefined;
}

export interface Discovered {
  units: UnitTable;
  /** The error met where the intact part ends (with `allowDamage`). */
  damage: SeekdataError | undefined;
  /** True when the file was decoded to find its units and `onChunk` saw every chunk. */
  scanned: boolean;
  /** Decompressed bytes `onChunk` saw, from the start (all of them when `scanned`). */
  handedOut: number;
  /** True when the format's warnings about the file were given already (before a size check that hands out bytes). */
  warned?: boolean;
}

/** The chunk map of a file that needs no decoding to find its units, or undefined when it needs a scan. */
export async function unitsWithoutScan(source: ByteSource, format: Format, options: DiscoveryOptions = {}): Promise<UnitTable | undefined> {
  return formatOf(format).units?.(source, options);
}

/** Builds the chunk map of a source: without decoding when the format can, else by its decoding scan. */
export async function discoverUnits(source: ByteSource, format: Format, options: DiscoverOptions): Promise<Discovered> {
  const known = await unitsWithoutScan(source, format, { unitBytes: options.unitBytes, onWarning: options.onWarning });
  const module = formatOf(format);
  if (known !== undefined) checkKnownSize(known, source.name, options.maxDecodedBytes, `its ${module.unitName} headers`);
  if (known !== undefined && module.sizesUnverified?.(known) !== true) {
    options.onProgress?.({ bytesDone: source.size, bytesTotal: source.size });
    return { units: known, damage: undefined, scanned: false, handedOut: 0 };
  }
  const context = {
    runner: options.runner,
    lookahead: scanLookahead(options.parallelism),
    signal: options.signal,
    onWarning: options.onWarning,
    stepFor: options.stepFor,
    unitBytes: options.unitBytes,
    maxDecodedBytes: options.maxDecodedBytes,
    pieces: options.pieces ?? DEFAULT_PIECES,
  };
  let discovery: Discovery;
  let warned = false;
  if (known !== undefined) {
    // Said before any byte is handed out (e.g. zstd frames without a checksum).
    warnOnOpen(known, source.name, options.onWarning);
    warned = true;
    discovery = new SizeCheck(source, known, context, options.pieces);
  } else {
    if (module.scan === undefined) throw new Error(`internal: format ${format} found no units and has no scan`);
    discovery = module.scan(source, context);
  }
  // Chunks go to `onChunk` only while every one has passed its check: from the first that has not (a
  // span of a gzip member before its CRC-32), none does, and the caller reads the file through the chunk
  // map instead (each unit then checked on its own).
  let handing = true;
  let handedOut = 0;
  const limit = scanLimit(source.name, options.maxDecodedBytes);
  try {
    for await (const chunk of discovery.chunks()) {
      const end = chunk.offset + chunk.bytes.length;
      limit(end, chunk.compressedDone);
      if (chunk.verified === false) handing = false;
      if (handing) {
        await options.onChunk?.(chunk);
        handedOut = chunk.offset + chunk.bytes.length;
      }
      options.onProgress?.({ bytesDone: chunk.compressedDone, bytesTotal: source.size, decodedBytes: end });
    }
  } catch (error) {
    const damaged = isSeekdataError(error, 'CORRUPT_DATA') || isSeekdataError(error, 'TRUNCATED');
    if (!damaged || !options.allowDamage) {
      if (damaged && error instanceof SeekdataError && intactBytes(discovery.table()) > 0) {
        throw new SeekdataError(error.code, `${error.message} (the intact part before it can be read with the allowDamage option, or --allow-damage)`, {
          file: error.file,
          compressedOffset: error.compressedOffset,
          cause: error,
        });
      }
      throw error;
    }
    return { units: scannedUnits(discovery, context.pieces), damage: error as SeekdataError, scanned: handing, handedOut, warned };
  }
  const table = scannedUnits(discovery, context.pieces);
  options.onProgress?.({ bytesDone: source.size, bytesTotal: source.size, decodedBytes: table.dStart[table.count] });
  return { units: table, damage: undefined, scanned: handing, handedOut, warned };
}

/**
 * The chunk map a discovery found, with the CRC32s of the pieces of its units read in pieces (with `pieces`)
 * that it recorded while it decoded them (`Discovery.pieceCrcs`), in the map's PieceCrcTable, which an index
 * saves: no pass through those units is needed to learn them. A unit's CRCs that are not exactly its pieces
 * are left out.
 */
export function scannedUnits(discovery: Discovery, pieces: PieceOptions): UnitTable {
  const units = discovery.table();
  if (discovery.pieceCrcs === undefined) return units;
  const layout = chunkLayout(units, pieces);
  let table: Float64Array | undefined;
  for (let u = 0; u < units.count; u++) {
    const crcs = discovery.pieceCrcs(u);
    if (crcs === undefined || !isBigUnit(units, u, layout.big)) continue;
    const first = layout.firstChunk[u];
    const end = u + 1 < units.count ? layout.firstChunk[u + 1] : layout.count;
    if (crcs.length !== end - first) continue;
    // The chunk map's table, made (and kept with it) once a unit has CRCs to put in.
    table ??= pieceCrcTable(units, layout).crc;
    table.set(crcs, first);
  }
  return units;
}

/** Decoded bytes of the units a discovery kept (the intact part of a damaged file). */
function intactBytes(units: UnitTable): number {
  return units.dStart[units.count] ?? 0;
}
