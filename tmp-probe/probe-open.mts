import { openReader } from '../src/index.js';
const f = process.argv[2];
let last = 0;
const r = await openReader(f, { index: false, onProgress: (p) => { const now = Date.now(); if (now - last > 2000) { last = now; const m = process.memoryUsage(); console.log(p.decodedBytes, 'rss', (m.rss/1e6).toFixed(0), 'ab', (m.arrayBuffers/1e6).toFixed(0), 'heap', (m.heapUsed/1e6).toFixed(0)); } } });
console.log('opened', r.size, process.resourceUsage().maxRSS);
await r.close();
process.exit(0);
