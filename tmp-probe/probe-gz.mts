import { scanGzip } from '../src/readers/gzip/scan.js';
import { openSource } from '../src/readers/input.js';
const src = await openSource('/tmp/bombs/z.gz');
let n = 0, max = 0;
for await (const u of scanGzip(src, {})) { n++; max = Math.max(max, u.data.length); if (n % 200 === 0) console.log(n, u.data.length, (process.memoryUsage().rss/1e6).toFixed(0), (process.memoryUsage().arrayBuffers/1e6).toFixed(0)); }
console.log('units', n, 'max', max, process.resourceUsage().maxRSS);
