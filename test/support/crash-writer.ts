/**
 * Run as a child process by the index tests: starts writing an index file to argv[2] and dies with
 * SIGKILL at argv[3] ('before-rename': the new file is complete but not in place; 'mid-write': half of it
 * is written), the way a crash or a kill -9 would stop it.
 */
import { appendFileSync } from 'node:fs';
import { writeIndexFile, type SectionValue } from '../../src/index/index-file.js';

const [path, when] = process.argv.slice(2);
const sections = new Map<string, SectionValue>([
  ['meta', { json: { format: 'plain', note: 'written by a process that crashes' } }],
  ['big', new Float64Array(1 << 20).fill(7)],
]);
await writeIndexFile(path, sections, {
  beforeRename: (temp) => {
    if (when === 'mid-write') appendFileSync(temp, 'x'.repeat(10));
    process.kill(process.pid, 'SIGKILL');
  },
});
