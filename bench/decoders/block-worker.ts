/** Worker side of bench/decoders/blocks.ts: decodes the block it is asked for and reports its wall and CPU time. */
import { parentPort } from 'node:worker_threads';
import type { XzBlockTask } from '../../src/readers/xz/block.js';
import { decodeBz, decodeXz, measure, prepare, type BzBlock, type BzCandidate, type XzCandidate } from './candidates.js';

export type BlockRequest =
  | { type: 'init'; bz: BzBlock[]; xz: XzBlockTask[] }
  | { type: 'run'; format: 'bz'; candidate: BzCandidate; i: number }
  | { type: 'run'; format: 'xz'; candidate: XzCandidate; i: number };

export interface BlockReply {
  wall: number;
  cpu: number;
  length: number;
}

let bz: BzBlock[] = [];
let xz: XzBlockTask[] = [];
const port = parentPort;
if (port === null) throw new Error('block-worker.ts runs in a worker thread');
port.on('message', (req: BlockRequest) => {
  void (async () => {
    if (req.type === 'init') {
      bz = req.bz;
      xz = req.xz;
      await prepare();
      port.postMessage({ wall: 0, cpu: 0, length: 0 } satisfies BlockReply);
      return;
    }
    const m =
      req.format === 'bz' ? await measure(() => decodeBz(req.candidate, bz[req.i])) : await measure(() => decodeXz(req.candidate, xz[req.i]));
    port.postMessage({ wall: m.wall, cpu: m.cpu, length: (m.result as Uint8Array).length } satisfies BlockReply);
  })();
});
