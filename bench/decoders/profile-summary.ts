/**
 * Summarises V8 .cpuprofile files (node --cpu-prof): the top frames by self time, and by inclusive
 * time, with file:line, as percentages of the profile's sampled time.
 *
 *   npx tsx bench/decoders/profile-summary.ts PROFILE.cpuprofile [--top 20]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function label(n: ProfileNode): string {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(src|bench|node_modules)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${url === '' ? '' : `${url}:${n.callFrame.lineNumber + 1}`}`.trim();
}

export function summarise(path: string, top = 20): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const selfByLabel = new Map<string, number>();
  const inclByLabel = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id);
    if (n === undefined) continue;
    selfByLabel.set(label(n), (selfByLabel.get(label(n)) ?? 0) + t);
    // Inclusive: every distinct frame on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (node === undefined) break;
      const l = label(node);
      if (seen.has(l)) continue;
      seen.add(l);
      inclByLabel.set(l, (inclByLabel.get(l) ?? 0) + t);
    }
  }
  const pct = (t: number): string => `${((100 * t) / total).toFixed(1)}%`;
  const lines = [`${path}: ${(total / 1000).toFixed(0)} ms sampled over ${((p.endTime - p.startTime) / 1000).toFixed(0)} ms`];
  lines.push('self time:');
  for (const [l, t] of [...selfByLabel].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(t).padStart(6)} ${(t / 1000).toFixed(0).padStart(6)} ms  ${l}`);
  lines.push('inclusive time:');
  for (const [l, t] of [...inclByLabel].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(t).padStart(6)} ${(t / 1000).toFixed(0).padStart(6)} ms  ${l}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--top');
  const top = i >= 0 ? Number(args[i + 1]) : 20;
  for (const path of args.filter((a, k) => !a.startsWith('--') && (i < 0 || k !== i + 1))) console.log(summarise(path, top) + '\n');
}
