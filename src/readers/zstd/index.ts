/**
 * The zstd format, as one self-contained folder: detect, discover the units (frames), decode a unit,
 * stream a huge unit in pieces, and write the seekable format. See each module's opening comment.
 */
export { FRAME_HAS_CHECKSUM, FRAME_HAS_CONTENT_SIZE, FRAME_HAS_TABLE_CHECKSUM, isZstd } from './container.js';
export { scanZstd, scanZstdFrames, type ZstdScanItem, type ZstdScanOptions } from './scan.js';
export { frameAt, frameOf, zstdAccessInfo, type ZstdAccessInfo, type ZstdFrame, type ZstdFrameTable } from './table.js';
export { decodeZstdFrame, defaultZstdEngine, type ZstdEngine, type ZstdFrameTask } from './decode.js';
export { streamZstdFrame, type StreamFrame } from './stream.js';
export { ZstdPieceReader, type ZstdPieceOptions } from './pieces.js';
export { compressSeekableFrame, writeZstdSeekable, type SeekableFrame, type SeekableWriteOptions, type SeekableWriteResult } from './write.js';
export { readSeekTable, seekTableFrame, type SeekTable, type SeekTableEntry } from './seekable.js';
