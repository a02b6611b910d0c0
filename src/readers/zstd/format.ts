/**
 * zstd as a format module (format.ts): units are frames, found from the seek table (the seekable format)
 * or by walking frame and block headers (units.ts); a file whose frames do not say their size is scanned
 * once, decoding (discovery.ts). A frame is decoded whole by libzstd (native, else WebAssembly; an async
 * decode), or streamed in pieces when it is huge (a file written by plain `zstd` is one frame).
 *
 * What is verified when: a frame's own checksum (XXH64, present unless written with --no-check) and the
 * seek table's checksum on every decode; a frame with neither has only its length checked by its first
 * decode, which records the CRC-32 of its bytes (the indexing pass saves it) to verify every later decode.
 */
import type { ByteSource } from '../../sources/source.js';
import { decodeInput, type FormatModule, type StreamOptions, type UnitStream } from '../format.js';
import { viewsWhole } from '../post.js';
import { streamPrefix } from '../prefix.js';
import type { UnitTable } from '../units.js';
import { crc32 } from 'node:zlib';
import { SeekdataError } from '../../errors.js';
import { FRAME_HAS_CHECKSUM, FRAME_HAS_CONTENT_SIZE, FRAME_HAS_TABLE_CHECKSUM, isZstd } from './container.js';
import { ZstdDiscovery } from './discovery.js';
import { defaultZstdEngine } from './decode.js';
import { streamZstdFrame } from './stream.js';
import { crcOf, decodeZstdUnit, zstdUnitTask, type ZstdUnitTask } from './unit-task.js';
import { isSeekable, tableChecksums, unchecked, zstdUnits } from './units.js';
import { validateZstdUnits } from './validate.js';
import { walkFrames } from './walk.js';

const HEAD_BYTES = 1 << 20;
const PREFIX_STEPS: StreamOptions = { feedBytes: 16 << 10, outputBytes: 64 << 10 };

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

/**
 * Frame u decoded front to back (see `UnitStream`): its pieces, then null once the frame has passed its
 * checks (its checksum, its length, and for a frame without one the CRC-32 recorded for it, which a
 * first pass through the frame records).
 */
function zstdStream(source: ByteSource, units: UnitTable, u: number, options: StreamOptions): UnitStream {
  const kind = units.kind[u];
  const frame = {
    cStart: units.cStart[u],
    cEnd: units.cEnd[u],
    dLength: units.dStart[u + 1] - units.dStart[u],
    flags: kind,
    tableChecksum: tableChecksums(units)[u],
    sizeFrom: sizeFrom(units),
  };
  const pieces = streamZstdFrame(source, frame, Math.max(1, options.outputBytes));
  let crc = 0;
  return {
    async step() {
      const next = await pieces.next();
      if (next.done !== true) {
        if (unchecked(kind)) crc = crc32(next.value, crc);
        return [next.value];
      }
      if (unchecked(kind)) {
        const want = units.param[u];
        if (want >= 0 && want !== crc >>> 0) {
          throw new SeekdataError('CORRUPT_DATA', `${source.name}: zstd frame at byte ${frame.cStart} (it has no checksum) does not decode to the bytes whose CRC-32 the index recorded (corrupt data, or the file changed)`, {
            file: source.name,
            compressedOffset: frame.cStart,
          });
        }
        if (want < 0) units.param[u] = crc >>> 0;
      }
      return null;
    },
    dispose() {
      void pieces.return(undefined);
    },
  };
}

/** What gave the frames' decoded lengths, for messages: a seekable file's seek table, else the index. */
function sizeFrom(units: UnitTable): string | undefined {
  return isSeekable(units) ? 'the seek table' : undefined;
}

/** A frame without a checksum whose CRC-32 (recorded by its first full decode) is not known yet. */
function needsRecording(units: UnitTable, u: number): boolean {
  return unchecked(units.kind[u]) && units.param[u] < 0;
}

export const zstdFormat: FormatModule<'zstd', ZstdUnitTask> = {
  name: 'zstd',
  unitName: 'zstd frame',
  signature: { magic: [0x28, 0xb5, 0x2f, 0xfd], header: 6, extensions: ['.zst', '.tzst', '.zstd'] },
  // pzstd output starts with a skippable frame.
  detect: (head) => isZstd(head),
  offsetsInBits: false,

  units: (source) => zstdUnits(source),
  /**
   * A frame's size is checked by decoding it once unless it is said twice (the seek table and the frame's
   * content size, compared when the table is read); one frame alone shifts nothing.
   */
  sizesUnverified(units) {
    if (units.count <= 1) return false;
    if (!isSeekable(units)) return true;
    for (let u = 0; u < units.count; u++) if ((units.kind[u] & FRAME_HAS_CONTENT_SIZE) === 0) return true;
    return false;
  },
  scan: (source, context) => new ZstdDiscovery(source, context),
  /** The first MiB of the first frame that holds data (what the CSV header is read from before the pass). */
  async head(source) {
    for await (const walked of walkFrames(source)) {
      if (walked.kind !== 'frame') continue;
      // Leaving the loop early ends the frame's stream (its generator's return frees the decoder).
      for await (const piece of streamZstdFrame(source, { cStart: walked.start, cEnd: walked.end, dLength: -1, flags: 0, tableChecksum: 0 }, HEAD_BYTES)) return { bytes: piece };
    }
    return { bytes: new Uint8Array(0) };
  },
  extra: { columns: ['tableChecksum'] },
  validate: validateZstdUnits,

  warnings(units, file) {
    let bare = 0;
    for (let u = 0; u < units.count; u++) if (needsRecording(units, u)) bare++;
    if (bare === 0) return [];
    return [
      `${file}: ${bare} of ${units.count} zstd frames have no checksum (written with --no-check) and no CRC-32 recorded yet: damage inside them is not detected by their first decode (\`seekdata index\`, or the recordChecks option, records one for every later read)`,
    ];
  },
  needsRecording,

  async task(source, units, u, inThread) {
    const offset = units.cStart[u];
    const read = await source.read(offset, units.cEnd[u] - offset);
    // For a worker an array of its own, moved there: the read itself when the source says nobody else holds
    // it, else a copy (the source's array may be shared, or a view of a larger one).
    const data = inThread === true || (source.ownsReads === true && viewsWhole(read)) ? read : new Uint8Array(read);
    const task = zstdUnitTask({
      data,
      expectedLength: units.dStart[u + 1] - units.dStart[u],
      kind: units.kind[u],
      tableChecksum: tableChecksums(units)[u],
      crc: units.param[u],
      offset,
      file: source.name,
      sizeFrom: sizeFrom(units),
    });
    return { input: decodeInput(zstdFormat, task), transfer: inThread === true ? [] : [data.buffer as ArrayBuffer] };
  },
  decode: decodeZstdUnit,
  // A frame that states its size goes to the native binding, which decodes on libuv's thread pool; one that
  // does not (or without the binding) is decoded by WebAssembly in the calling thread.
  inline: (units, u) => (defaultZstdEngine() === 'native' && (units.kind[u] & FRAME_HAS_CONTENT_SIZE) !== 0 ? 'off-thread' : 'blocking'),
  decoderName: () => (defaultZstdEngine() === 'native' ? 'libzstd (native, @mongodb-js/zstd)' : 'libzstd (WebAssembly, zstddec)'),
  /** A frame without a checksum: the first decode records the CRC-32 of its bytes (saved by the indexing pass). */
  check(units, u, result) {
    const crc = crcOf(result.info);
    if (crc !== undefined && unchecked(units.kind[u]) && units.param[u] < 0) units.param[u] = crc;
  },

  stream: zstdStream,
  bigUnits: true,
  prefix: (source, units, u, length) => streamPrefix(zstdStream(source, units, u, PREFIX_STEPS), length),

  describe(units) {
    let largest = 0;
    let withChecksum = 0;
    let withTable = 0;
    let bare = 0;
    let recorded = 0;
    for (let u = 0; u < units.count; u++) {
      largest = Math.max(largest, units.dStart[u + 1] - units.dStart[u]);
      if ((units.kind[u] & FRAME_HAS_CHECKSUM) !== 0) withChecksum++;
      if ((units.kind[u] & FRAME_HAS_TABLE_CHECKSUM) !== 0) withTable++;
      if (unchecked(units.kind[u])) {
        bare++;
        if (units.param[u] >= 0) recorded++;
      }
    }
    const seekable = isSeekable(units);
    const total = units.dStart[units.count];
    const randomRead =
      units.count <= 1
        ? `one frame of ${mb(total)}: random access inside it costs decoding from the start of the frame (re-compress in frames for fast random access, e.g. \`seekdata recompress IN OUT --format zstd\`)`
        : `${units.count} frames, the largest ${mb(largest)}: a random read decodes from the start of its frame`;
    const checks: string[] = [];
    if (withChecksum > 0) checks.push(`${withChecksum} frame(s) by their own checksum`);
    if (withTable > 0) checks.push(`${withTable} frame(s) by the seek table's checksum`);
    if (bare > 0) checks.push(`${bare} frame(s) without a checksum by the CRC-32 the first full decode recorded (${recorded} recorded so far; not their first decode)`);
    return {
      kind: seekable ? 'seekable' : units.count <= 1 ? 'one frame' : 'multi-frame',
      randomRead,
      verified: checks.length === 0 ? 'nothing to verify (empty)' : `on every decode: ${checks.join('; ')}`,
      facts: { frames: units.count, seekable, framesWithChecksum: withChecksum, framesWithTableChecksum: withTable, framesWithoutChecksum: bare, crcRecorded: recorded },
    };
  },
};
