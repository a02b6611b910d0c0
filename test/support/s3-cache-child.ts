/**
 * One of several processes sharing a remote disk cache (test/s3-cache.test.ts): reads every 32 KiB range
 * of an object several times, in its own order, through a small shared cache that keeps evicting, and
 * checks each answer against the SHA-256 of the expected bytes. Prints "ok <downloaded> <cacheHits>".
 * argv: endpoint, s3 url, cache dir, cache bytes, seed, hashes file (one hex hash per range).
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { S3Source, closeS3Clients } from '../../src/index.js';

const [endpoint, url, dir, bytes, seed, hashesFile] = process.argv.slice(2);
const hashes = readFileSync(hashesFile, 'utf8').trim().split('\n');
const RANGE = 32_768;
const source = await S3Source.open(url, { endpoint, remoteCacheDir: dir, remoteCacheBytes: Number(bytes) });
let state = Number(seed);
const next = (): number => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31);
for (let pass = 0; pass < 4; pass++) {
  const order = hashes.map((_, i) => i).sort(() => (next() % 3) - 1);
  for (const i of order) {
    const length = Math.min(RANGE, source.size - i * RANGE);
    const got = await source.read(i * RANGE, length);
    const hash = createHash('sha256').update(got).digest('hex');
    if (hash !== hashes[i]) {
      console.error(`range ${i}: wrong bytes`);
      process.exit(1);
    }
  }
}
console.log(`ok ${source.stats.bytesDownloaded} ${source.stats.cacheHits}`);
await closeS3Clients();
