/**
 * One file of a collection as the collection sees it: what it knows of the file without opening it (its
 * record count, records per chunk, layout, statistics, time span — `MemberFacts`), and the file itself once
 * opened. A collection opened the normal way has every member open; one opened from a fresh collection
 * manifest (collection-manifest.ts) has none open, and a member opens (loads its index) the first time a
 * record or chunk of it is needed. A file opened late must be the file the manifest described: its counts
 * and layout are compared with the facts, and any difference is a STALE_INDEX error naming the file —
 * the collection's numbering came from the facts, so a file that changed is never read through it.
 */
import { SeekdataError } from '../errors.js';
import type { IndexedFile, IndexReport } from './indexed-file.js';
import type { RecordKind } from './records/analyze.js';
import type { ResolvedRecordOptions } from './records/options.js';
import type { ColumnStats } from './records/stats.js';
import type { TimeSummary } from './time-index.js';

/** What a collection knows of one file without opening it. */
export interface MemberFacts {
  name: string;
  records: number;
  /** Per chunk: its first record (length chunks + 1), as the file's record index has it. */
  firstRecord: Float64Array;
  /** The file's `layoutArrays()` (records per chunk, units, checks): what a saved dataset state hashes. */
  layout: Float64Array[];
  kind: RecordKind;
  columns: string[];
  stats: ColumnStats[];
  options: ResolvedRecordOptions;
  /** The file's time summary, undefined when it has no time index. */
  time: TimeSummary | undefined;
  timeReport: IndexReport['time'];
  status: IndexReport['status'];
  indexPath: string | undefined;
  format: string;
  compressedSize: number;
  size: number;
}

/** The array itself when it is a Float64Array (the file's arrays do not change once loaded), else a copy. */
const f64 = (a: ArrayLike<number>): Float64Array => (a instanceof Float64Array ? a : Float64Array.from(a));

/** The facts of an open file. */
export function factsOf(file: IndexedFile): MemberFacts {
  return {
    name: file.name,
    records: file.records.count,
    firstRecord: f64(file.records.firstRecord),
    layout: file.layoutArrays().map(f64),
    kind: file.records.kind,
    columns: file.columns,
    stats: file.stats,
    options: file.options,
    time: file.time?.summary,
    timeReport: file.report.time,
    status: file.report.status,
    indexPath: file.report.indexPath,
    format: file.reader.format,
    compressedSize: file.reader.compressedSize,
    size: file.reader.size,
  };
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** JSON with every object's keys sorted: equal for equal values whatever order their keys were set in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** How an opened file differs from the facts the collection was numbered by, if it does. */
export function factsDifference(facts: MemberFacts, file: IndexedFile): string | undefined {
  if (file.records.count !== facts.records) return `${file.records.count} records, the manifest says ${facts.records}`;
  if (!sameArray(file.records.firstRecord, facts.firstRecord)) return 'its records lie in other chunks than the manifest says';
  const layout = file.layoutArrays();
  if (layout.length !== facts.layout.length || layout.some((a, k) => !sameArray(a, facts.layout[k]))) return 'its chunk layout differs from the manifest';
  if (file.records.kind !== facts.kind || file.columns.join('\u0000') !== facts.columns.join('\u0000')) return 'its records or columns differ from the manifest';
  if ((file.time === undefined) !== (facts.time === undefined)) return 'its time index differs from the manifest';
  if (file.time !== undefined && facts.time !== undefined && (file.time.summary.first !== facts.time.first || file.time.summary.last !== facts.time.last || file.time.summary.count !== facts.time.count)) {
    return 'its time span differs from the manifest';
  }
  // Contents changed behind an unchanged size and mtime, counts and layout alike (its `.sdx` was rebuilt on the
  // first/last 64 KiB hashes): the collection's merged statistics came from the manifest and would be wrong.
  // Through JSON both ways, as the manifest holds them (keepManifest writes none JSON would change), keys sorted.
  if (canonicalJson(file.stats) !== canonicalJson(facts.stats)) return 'its column statistics differ from the manifest';
  return undefined;
}

export class CollectionMember {
  private opening: Promise<IndexedFile> | undefined;
  private openedFile: IndexedFile | undefined;
  private closed = false;

  constructor(
    readonly facts: MemberFacts,
    file: IndexedFile | undefined,
    /** Opens the file (a member opened from a manifest); unused when `file` is given. */
    private readonly opener: (() => Promise<IndexedFile>) | undefined,
    /** Where the facts came from, for messages (the manifest's path). */
    private readonly origin: string | undefined,
    /** Called once when a lazily opened member is open (counts for the collection's report). */
    private readonly onOpen?: () => void,
  ) {
    this.openedFile = file;
  }

  static of(file: IndexedFile): CollectionMember {
    return new CollectionMember(factsOf(file), file, undefined, undefined);
  }

  get name(): string {
    return this.facts.name;
  }

  /** The file when open. */
  get file(): IndexedFile | undefined {
    return this.openedFile;
  }

  /** The open file, opening it (loading its index) the first time. */
  open(): Promise<IndexedFile> {
    if (this.openedFile !== undefined) return Promise.resolve(this.openedFile);
    if (this.opening !== undefined) return this.opening;
    const opener = this.opener;
    // A closed collection opens nothing again (its open files were closed; they are not reopened either).
    if (opener === undefined || this.closed) return Promise.reject(new SeekdataError('CLOSED', `${this.name}: the collection is closed`, { file: this.name }));
    this.opening = (async () => {
      const file = await opener();
      const why = factsDifference(this.facts, file);
      if (why !== undefined) {
        await file.close();
        throw new SeekdataError('STALE_INDEX', `${this.name}: changed since the collection manifest ${this.origin ?? ''} was written (${why}); run \`seekdata index\` on the collection again`, { file: this.name });
      }
      this.openedFile = file;
      this.onOpen?.();
      return file;
    })();
    return this.opening;
  }

  /** The open file, for synchronous lookups: a member not open yet is a NOT_OPENED error saying what to do. */
  need(collection: string): IndexedFile {
    if (this.openedFile !== undefined) return this.openedFile;
    throw new SeekdataError(
      'NOT_OPENED',
      `${collection}: ${this.name} is not open yet (the collection was opened from its manifest, and opens files when first read): await collection.prepare() — or prepare({ from, to }) for a time range — before synchronous lookups`,
      { file: this.name },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.opening;
    this.opening = undefined;
    if (this.openedFile === undefined && pending !== undefined) await pending.catch(() => undefined);
    const file = this.openedFile;
    this.openedFile = undefined;
    await file?.close();
  }
}
