/**
 * Child of test/trust-process-listeners.test.ts: an application with its own unhandledRejection handler
 * (it logs and carries on) reads a .bz2 in this thread (parallelism 1, so libbzip2's WebAssembly module
 * loads here), then leaves a promise rejection unhandled. Prints what it saw as JSON.
 *   node --import tsx test/support/listeners-child.ts FILE.bz2
 */
import { openReader } from '../../src/index.js';

const file = process.argv[2];
const seen: string[] = [];
const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection') + 1];
process.on('unhandledRejection', (reason) => {
  seen.push(reason instanceof Error ? reason.message : String(reason));
});
const reader = await openReader(file, { parallelism: 1 });
const text = new TextDecoder().decode(await reader.read(0, 20));
const decoders = { ...reader.stats.decoders };
await reader.close();
void Promise.reject(new Error('left unhandled by the application'));
await new Promise((resolve) => setTimeout(resolve, 100));
const after = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
process.stdout.write(JSON.stringify({ text, decoders, seen, before, after }));
