/**
 * Where the main thread's time goes during training: a V8 CPU profile (`node --cpu-prof`, or the
 * inspector's Profiler around one `fitDataset` call) summarised by kind of work — tfjs training, batch
 * assembly (seekdata's dataset code), tensor creation (the tfjs adapter's `tf.tensor` calls), worker
 * messaging, garbage collection, and idle (the main thread waiting: for worker results, or descheduled
 * while waiting on the event loop).
 *
 *   npx tsx bench/fit-profile.ts PROFILE.cpuprofile [--top 15]
 *
 * The profiler samples wall-clock time: on a loaded machine, time a thread spends descheduled is charged
 * to the frame it was in, so compare shares within one profile, not absolute milliseconds across runs.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export const CATEGORIES = ['tfjs training', 'batch assembly (seekdata)', 'tensor creation (adapter)', 'worker messaging', 'garbage collection', 'idle (waiting)', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface ProfileSummary {
  totalMs: number;
  byCategory: Record<Category, number>;
  /** The heaviest leaf frames of the seekdata and messaging categories, ms. */
  topFrames: Array<{ category: Category; frame: string; ms: number }>;
}

const SEEKDATA = ['/src/datasets/', '/src/index/', '/src/readers/', '/src/sources/'];
const MESSAGING = ['piscina', '/src/workers/', 'internal/worker', 'messageport', 'worker_threads'];

function shortUrl(url: string): string {
  return url.replace(/^.*\/(src|node_modules|bench)\//, '$1/');
}

function categorise(leaf: ProfileNode, urls: string[]): Category {
  const fn = leaf.callFrame.functionName;
  if (fn === '(idle)') return 'idle (waiting)';
  if (fn === '(garbage collector)') return 'garbage collection';
  const leafUrl = leaf.callFrame.url;
  const inAdapter = urls.some((u) => u.includes('/src/datasets/tfjs.ts'));
  if (inAdapter && leafUrl.includes('@tensorflow')) return 'tensor creation (adapter)';
  if (urls.some((u) => MESSAGING.some((m) => u.includes(m))) && !SEEKDATA.some((s) => leafUrl.includes(s))) return 'worker messaging';
  if (urls.some((u) => SEEKDATA.some((s) => u.includes(s)))) return 'batch assembly (seekdata)';
  if (urls.some((u) => u.includes('@tensorflow'))) return 'tfjs training';
  return 'other';
}

export function summariseProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  const frames = new Map<string, { category: Category; frame: string; ms: number }>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(profile.samples[i]);
    if (leaf === undefined) continue;
    total += ms;
    const urls: string[] = [];
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) urls.push(byId.get(id)?.callFrame.url ?? '');
    const category = categorise(leaf, urls);
    byCategory[category] += ms;
    if (category === 'batch assembly (seekdata)' || category === 'worker messaging' || category === 'tensor creation (adapter)') {
      const frame = `${leaf.callFrame.functionName || '(anonymous)'} ${shortUrl(leaf.callFrame.url)}`.trim();
      const key = `${category}\u0000${frame}`;
      const entry = frames.get(key) ?? { category, frame, ms: 0 };
      entry.ms += ms;
      frames.set(key, entry);
    }
  }
  const topFrames = [...frames.values()].sort((a, b) => b.ms - a.ms);
  return { totalMs: total, byCategory, topFrames };
}

export function formatSummary(s: ProfileSummary, top = 12): string {
  const pct = (ms: number): string => `${((100 * ms) / Math.max(s.totalMs, 1e-9)).toFixed(1).padStart(5)}%`;
  const lines = [`main thread, ${s.totalMs.toFixed(0)} ms sampled:`];
  for (const c of CATEGORIES) lines.push(`  ${pct(s.byCategory[c])} ${s.byCategory[c].toFixed(0).padStart(7)} ms  ${c}`);
  lines.push('  heaviest seekdata / messaging / tensor frames (self time):');
  for (const f of s.topFrames.slice(0, top)) lines.push(`  ${pct(f.ms)} ${f.ms.toFixed(0).padStart(7)} ms  ${f.frame}  [${f.category}]`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--top');
  const top = at >= 0 ? Number(args[at + 1]) : 12;
  for (const path of args.filter((a, k) => !a.startsWith('--') && (at < 0 || k !== at + 1))) {
    console.log(`${path}\n${formatSummary(summariseProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile), top)}\n`);
  }
}
