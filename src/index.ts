/** seekdata's public API: named exports only. */
export { SeekdataError, isSeekdataError, ERROR_CODES } from './errors.js';
export type { SeekdataErrorCode } from './errors.js';

export type { ByteSource } from './sources/source.js';
export { MemorySource } from './sources/source.js';
export { FileSource } from './sources/file-source.js';
export { HttpSource } from './sources/http-source.js';
export type { HttpSourceOptions } from './sources/http-source.js';

export { detectFormat } from './readers/detect.js';
export type { Format, UnsupportedFormat, Detected } from './readers/detect.js';
export { openReader, READER_DEFAULTS } from './readers/open.js';
export type { ReaderOptions, Progress, Input } from './readers/open.js';
export { SeekableReader } from './readers/reader.js';
export type { ReaderInfo, ReaderStats, IndexStatus } from './readers/reader.js';
export type { ScannedChunk } from './readers/scan.js';
export type { UnitTable } from './readers/units.js';

export { WorkerPool, configureSharedPool, closeSharedPool } from './workers/pool.js';
export type { WorkerPoolOptions } from './workers/pool.js';

export { cacheDir } from './index/location.js';
