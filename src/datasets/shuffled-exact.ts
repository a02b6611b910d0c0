/**
 * One `exact` epoch of a ShuffledBatchDataset (shuffled.ts): the epoch's uniform random order (a keyed
 * permutation, order.ts) served in rounds (rounds.ts), each round a pass over the file that parses the
 * records of the next roundRows draws, batched in the order drawn; skipped records are counted as drawn.
 */
import { ExactOrder } from './order.js';
import { ExactRounds } from './rounds.js';
import { batchBuilder, finished, nextBatchDraws, type EpochContext, type EpochItem } from './shuffled-epoch.js';

export async function* exactEpoch(ds: EpochContext, epoch: number, start: number, signal: AbortSignal): AsyncGenerator<EpochItem> {
  const rounds = new ExactRounds(ds.file, ds.spec, new ExactOrder(ds.subset ?? ds.file.records.count, ds.params(epoch)), ds.roundRows, ds.lookahead);
  const rows = rounds.store;
  const counted = { rounds: 0, parsed: 0 };
  const tally = (): void => {
    ds.counts.passesMade += rounds.rounds - counted.rounds;
    ds.counts.recordsParsed += rows.parsed - counted.parsed;
    counted.rounds = rounds.rounds;
    counted.parsed = rows.parsed;
    ds.counts.peakRoundRows = Math.max(ds.counts.peakRoundRows, rounds.peakRows);
  };
  let position = start;
  try {
    for (;;) {
      const batch = nextBatchDraws(ds, position, rounds.length);
      if (batch === undefined) return;
      const builder = batchBuilder(ds);
      while (!builder.full && position < batch.end) {
        if (!rounds.holds(position)) {
          await rounds.load(position, signal);
          tally();
        }
        const slot = rounds.slot(position++);
        if (rows.valid[slot] === 1) {
          builder.add(rows, slot);
          ds.skips.addCounts(1, 0, undefined);
          continue;
        }
        // Skipped records are counted as they are drawn (a round is parsed ahead of its draws).
        const record = rows.records[slot];
        const reason = rows.reasons.get(record);
        const example = reason === undefined ? undefined : { record, reason };
        ds.skips.addCounts(1, 1, example);
        ds.counts.skipped++;
        if (example !== undefined && ds.counts.skippedExamples.length < 10) ds.counts.skippedExamples.push(example);
      }
      if (finished(ds, builder, batch.refill)) return;
      yield { batch: builder.build(), position };
    }
  } finally {
    tally();
  }
}
