/**
 * One of two processes opening data files of the same name with one `index` directory at once
 * (test/index-ownership.test.ts): opens FILE with its record index ROUNDS times and prints one JSON line,
 * { records: [count per round] }. argv: file, index directory, rounds.
 */
import { closeSharedPool, openIndexed } from '../../src/index.js';

const [file, dir, rounds] = process.argv.slice(2);
const records: number[] = [];
for (let round = 0; round < Number(rounds); round++) {
  const opened = await openIndexed(file, { index: dir, records: 'lines', parallelism: 1 });
  records.push(opened.report.records);
  await opened.close();
}
console.log(JSON.stringify({ records }));
await closeSharedPool();
