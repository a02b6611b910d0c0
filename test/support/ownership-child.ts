/**
 * One of two processes opening data files with one index place at once (test/index-ownership.test.ts).
 * argv: file, index (a directory or a file), rounds, mode.
 *  - mode `records`: opens FILE with its record index ROUNDS times; prints { records: [count per round] }.
 *  - mode `reader`: opens FILE with openReader once, reads it whole; prints { status, code, warnings, bytes }
 *    (`code`: the error code when opening failed).
 */
import { closeSharedPool, isSeekdataError, openIndexed, openReader } from '../../src/index.js';

const [file, index, rounds, mode] = process.argv.slice(2);
if (mode === 'reader') {
  const warnings: string[] = [];
  try {
    const reader = await openReader(file, { index, parallelism: 1, onWarning: (m) => warnings.push(m) });
    let bytes = 0;
    for await (const chunk of reader.stream()) bytes += chunk.length;
    console.log(JSON.stringify({ status: reader.indexStatus, code: null, warnings, bytes }));
    await reader.close();
  } catch (error) {
    if (!isSeekdataError(error)) throw error;
    console.log(JSON.stringify({ status: null, code: error.code, warnings, bytes: 0 }));
  }
} else {
  const records: number[] = [];
  for (let round = 0; round < Number(rounds); round++) {
    const opened = await openIndexed(file, { index, records: 'lines', parallelism: 1 });
    records.push(opened.report.records);
    await opened.close();
  }
  console.log(JSON.stringify({ records }));
}
await closeSharedPool();
