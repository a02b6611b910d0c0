/** Markdown tables of fuzz outcomes: per format, mutation kind × outcome, and the random reads. */
import type { MutantRecord } from './harness.js';

function table(header: string[], rows: Array<Array<string | number>>): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** Outcome columns in a stable order: correct first, then typed errors, then the rest, violations last. */
function order(a: string, b: string): number {
  const rank = (s: string): number => (s.startsWith('correct') ? 0 : s.startsWith('typed') ? 1 : s.startsWith('ref-accepts') ? 2 : s === 'exact' ? 0 : s.startsWith('original') ? 0 : 3);
  return rank(a) - rank(b) || a.localeCompare(b);
}

export function summarize(records: MutantRecord[]): string {
  const out: string[] = [];
  for (const format of [...new Set(records.map((r) => r.format))]) {
    const mine = records.filter((r) => r.format === format);
    const outcomes = [...new Set(mine.map((r) => r.outcome))].sort(order);
    const kinds = [...new Set(mine.map((r) => r.kind))];
    const rows = kinds.map((kind): Array<string | number> => {
      const counts = countBy(
        mine.filter((r) => r.kind === kind),
        (r) => r.outcome,
      );
      return [kind, ...outcomes.map((o) => counts.get(o) ?? 0), mine.filter((r) => r.kind === kind).length];
    });
    const all = countBy(mine, (r) => r.outcome);
    rows.push(['**all**', ...outcomes.map((o) => all.get(o) ?? 0), mine.length]);
    out.push(`**${format}** (cat of each mutant)\n`, table(['kind', ...outcomes, 'mutants'], rows), '');
    const reads = mine.flatMap((r) => r.reads);
    const readCounts = countBy(reads, (r) => r);
    const readLabels = [...readCounts.keys()].sort(order);
    out.push(`**${format}** (random reads)\n`, table([...readLabels, 'reads'], [[...readLabels.map((l) => readCounts.get(l) ?? 0), reads.length]]), '');
    const slow = mine.filter((r) => r.ms > 5000).length;
    const pooled = mine.filter((r) => r.parallelism > 1).length;
    out.push(`${mine.length} mutants (${pooled} with the worker pool), ${slow} took over 5 s, slowest ${Math.max(...mine.map((r) => r.ms)).toFixed(0)} ms\n`);
  }
  return out.join('\n');
}
