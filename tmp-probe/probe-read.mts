import { openReader } from '../src/index.js';
const f = process.argv[2];
const mode = process.argv[3];
const r = await openReader(f, { index: false, parallelism: Number(process.env.P ?? 2) });
let last = 0;
const mem = (tag: unknown) => { const now = Date.now(); if (now - last > 2000) { last = now; const m = process.memoryUsage(); console.log(tag, 'rss', (m.rss/1e6).toFixed(0), 'ab', (m.arrayBuffers/1e6).toFixed(0)); } };
const t = setInterval(() => mem('tick'), 2000);
if (mode === 'read') { const b = await r.read(1_500_000_000, 100); console.log('read', b.length); }
else { let n = 0; for await (const p of r.stream()) { n += p.length; mem(n); } console.log('streamed', n); }
clearInterval(t);
console.log('maxRSS', process.resourceUsage().maxRSS);
await r.close(); process.exit(0);
