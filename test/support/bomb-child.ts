/**
 * Run in a child process by the bomb tests and bench/bombs.ts: opens FILE (building its chunk map, no
 * index file), then `index` stops there, `read` reads 100 bytes at decompressed OFFSET, `cat` streams every
 * byte; prints one JSON line: { size, bytes, maxRssBytes, seconds, error? }. $MAX_DECODED_BYTES sets the limit.
 * Not a test file.
 */
import { openReader } from '../../src/index.js';
import { isSeekdataError } from '../../src/errors.js';

const [file, mode = 'index', offsetText = '0'] = process.argv.slice(2);
const limit = process.env.MAX_DECODED_BYTES;
const started = performance.now();
let size = 0;
let bytes = 0;
let error: string | undefined;
try {
  const reader = await openReader(file, { index: false, ...(limit === undefined ? {} : { maxDecodedBytes: Number(limit) }) });
  size = reader.size;
  if (mode === 'read') bytes = (await reader.read(Number(offsetText), 100)).length;
  if (mode === 'cat') for await (const piece of reader.stream()) bytes += piece.length;
  await reader.close();
} catch (e) {
  if (!isSeekdataError(e)) throw e;
  error = `${e.code}: ${e.message}`;
}
// maxRSS is in KiB.
const report = { size, bytes, maxRssBytes: process.resourceUsage().maxRSS * 1024, seconds: (performance.now() - started) / 1000, error };
process.stdout.write(JSON.stringify(report) + '\n');
process.exit(0);
