/**
 * Worker thread used by test/decoders-*.test.ts: decodes one unit with a prototype decoder inside a
 * worker (WASM compiled there, native addons loaded there) and posts the bytes back. Not a test file.
 */
import { parentPort } from 'node:worker_threads';
import type { Bzip2BlockTask } from '../../src/readers/bzip2/block.js';
import { decodeBzip2BlockWasm, loadBzip2Wasm } from '../../src/readers/bzip2/wasm.js';
import { decodeXzBlockFast, loadFastXz, type XzFastTask } from '../../src/readers/xz/napi.js';

export type DecodersWorkerJob = { kind: 'bzip2'; task: Bzip2BlockTask } | { kind: 'xz'; task: XzFastTask };
export type DecodersWorkerReply = { ok: true; bytes: Uint8Array; decoder: string } | { ok: false; code: string; message: string };

const port = parentPort;
if (port === null) throw new Error('decoders-worker.ts runs in a worker thread');
port.on('message', (job: DecodersWorkerJob) => {
  void (async () => {
    try {
      if (job.kind === 'xz') await loadFastXz();
      const result = job.kind === 'bzip2' ? decodeBzip2BlockWasm(await loadBzip2Wasm(), job.task) : decodeXzBlockFast(job.task);
      port.postMessage({ ok: true, bytes: result.bytes, decoder: result.decoder } satisfies DecodersWorkerReply);
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : 'unknown';
      port.postMessage({ ok: false, code, message: error instanceof Error ? error.message : String(error) } satisfies DecodersWorkerReply);
    }
  })();
});
