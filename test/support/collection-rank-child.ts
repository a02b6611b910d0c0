/**
 * One rank of a multi-host run (test/collections-s3.test.ts): opens an `s3://` collection and draws one
 * epoch of a ShuffledBatchDataset, its rank and world size from SEEKDATA_RANK / SEEKDATA_WORLD_SIZE (set by
 * the test as a launcher would). Prints one JSON line: { rank, worldSize, batches, records }.
 * argv: endpoint, collection glob, shuffle mode, seed.
 */
import { closeS3Clients, closeSharedPool, openCollection, ShuffledBatchDataset } from '../../src/index.js';

const [endpoint, glob, shuffle, seed] = process.argv.slice(2);
const data = await openCollection(glob, { endpoint, records: 'csv', parallelism: 1 });
const ds = new ShuffledBatchDataset(data, { features: ['b'], labels: 'label', batchSize: 128, seed: Number(seed), shuffle: shuffle === 'exact' ? 'exact' : 'chunked' });
const records: number[] = [];
let batches = 0;
for await (const batch of ds) {
  batches++;
  records.push(...batch.records);
}
console.log(JSON.stringify({ rank: ds.rank, worldSize: ds.worldSize, batches, records }));
await data.close();
await closeSharedPool();
await closeS3Clients();
