/** The gzip format: units (spans from checkpoints, runs of whole members), discovery, decoding, writing. */
export { crc32, crc32Combine } from './crc.js';
export { isGzipMagic, parseGzipHeader, type GzipHeader } from './header.js';
export { type GzipWarning, type GzipWarningCode } from './cursor.js';
export {
  deserializeWindows,
  GzipTableBuilder,
  KIND_MEMBERS,
  KIND_SPAN,
  packedWindowOf,
  packWindow,
  serializeWindows,
  unitAt,
  unitByteRange,
  unpackWindow,
  WINDOW_BYTES,
  type GzipUnit,
  type GzipUnitTable,
} from './units.js';
export { decodeGzipUnit, gzipUnitTask, type GzipDecodeTask } from './decode.js';
export { BGZF_EOF, discoverBgzf, type BgzfOptions } from './bgzf.js';
export { scanGzip, type GzipScannedUnit, type GzipScanOptions, type GzipScanSummary } from './scan.js';
export { describeGzip, sniffGzip, type GzipDescription, type GzipLayout } from './describe.js';
export { bgzfBlock, BGZF_BLOCK_INPUT, compressBgzf } from './write.js';
