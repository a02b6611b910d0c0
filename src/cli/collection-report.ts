/** What `seekdata index` and `seekdata info` print for a collection: its files, records, indexes and skips. */
import type { IndexedCollection } from '../index/indexed-collection.js';
import { formatBytes, noteNotSaved, writeOut, type CliIo } from './context.js';
import type { Flags } from './args.js';

function indexesLine(c: IndexedCollection): string {
  const i = c.report.indexes;
  const parts = [`${i.loaded} loaded`, `${i.built} built`, `${i.rebuilt} rebuilt`, `${i.none} not saved`].filter((p) => !p.startsWith('0 '));
  return parts.join(', ');
}

/** `seekdata index` on a collection. */
export async function printCollectionIndex(io: CliIo, flags: Flags, c: IndexedCollection): Promise<void> {
  const info = c.info();
  for (const { facts: f } of c.members) if (f.status === 'none') noteNotSaved(io, f.name);
  if (flags.json === true) {
    const files = c.members.map(({ facts: f }) => ({ file: f.name, records: f.records, status: f.status, indexPath: f.indexPath }));
    return writeOut(io.stdout, JSON.stringify({ ...info, report: c.report, fileReports: files }, null, 2) + '\n');
  }
  const lines = [
    `${c.name}: ${info.files} files, ${info.records} records (${c.options.kind}), ${formatBytes(info.size)} decompressed`,
    `  indexes: ${indexesLine(c)}, in ${c.report.seconds.toFixed(2)} s`,
  ];
  for (const { facts: f } of c.members) lines.push(`  ${f.name}: ${f.records} records, index ${f.status}${f.indexPath === undefined ? '' : ` (${f.indexPath})`}`);
  for (const s of c.report.skipped) lines.push(`  skipped ${s.file}: ${s.reason}`);
  if (c.report.manifestWritten !== undefined) lines.push(`  collection manifest: ${c.report.manifestWritten}`);
  if (c.columns.length > 0) lines.push(`  columns: ${c.columns.join(', ')}`);
  if (info.timeRange !== null) lines.push(`  time: ${info.timeRange.first} .. ${info.timeRange.last}, ${info.sorted === true ? 'sorted across files' : 'not sorted'}, ${info.unparsableTimes} unparsable`);
  return writeOut(io.stdout, lines.join('\n') + '\n');
}

/** `seekdata info` on a collection. */
export async function printCollectionInfo(io: CliIo, flags: Flags, c: IndexedCollection): Promise<void> {
  const info = c.info();
  if (flags.json === true) return writeOut(io.stdout, JSON.stringify({ ...info, fileNames: c.members.map((m) => m.name) }, null, 2) + '\n');
  const rows: Array<[string, string]> = [
    ['collection', c.name],
    ['files', `${info.files} (${Object.entries(info.formats).map(([f, n]) => `${n} ${f}`).join(', ')})`],
    ['compressed', `${formatBytes(info.compressedSize)} (${info.compressedSize} bytes)`],
    ['decompressed', `${formatBytes(info.size)} (${info.size} bytes)`],
    ['chunks', String(info.chunks)],
    ['indexes', indexesLine(c)],
    ['records', String(info.records)],
  ];
  if (c.report.manifest !== undefined) rows.push(['manifest', `${c.report.manifest} (${c.openedFiles} of ${info.files} files opened)`]);
  if (info.columns.length > 0) rows.push(['columns', info.columns.join(', ')]);
  if (info.timeRange !== null) rows.push(['time range', `${info.timeRange.first} .. ${info.timeRange.last} (${info.sorted === true ? 'sorted' : 'not sorted'}, ${info.unparsableTimes} unparsable)`]);
  if (info.skipped.length > 0) rows.push(['skipped', info.skipped.map((s) => s.file).join(', ')]);
  return writeOut(io.stdout, rows.map(([k, v]) => `${k.padEnd(13)}${v}`).join('\n') + '\n');
}
