// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package/file, and inclusive time of
// the functions named on the command line. `npx tsx bench/lib/cpuprofile.ts <file.cpuprofile> [top] [name…]`
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  byFunction: Array<{ name: string; selfMs: number; share: number }>;
  byPackage: Array<{ name: string; selfMs: number; share: number }>;
}

function packageOf(url: string): string {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

export function summarise(profile: Profile, top = 30): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + dt);
  }
  const totalMs = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'} ${packageOf(url)}:${lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + ms);
    const p = functionName === '(garbage collector)' ? '(gc)' : functionName === '(idle)' ? '(idle)' : functionName === '(program)' ? '(program)' : packageOf(url);
    pkg.set(p, (pkg.get(p) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, selfMs]) => ({ name, selfMs: Math.round(selfMs), share: Math.round((selfMs / totalMs) * 1000) / 10 }));
  return { totalMs, byFunction: sorted(fn), byPackage: sorted(pkg) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: tsx bench/lib/cpuprofile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(topArg) || 30);
  process.stdout.write(`total ${Math.round(summary.totalMs)} ms\n\nby package/file (self):\n`);
  for (const row of summary.byPackage) process.stdout.write(`  ${String(row.share).padStart(5)} %  ${String(row.selfMs).padStart(6)} ms  ${row.name}\n`);
  process.stdout.write('\nby function (self):\n');
  for (const row of summary.byFunction) process.stdout.write(`  ${String(row.share).padStart(5)} %  ${String(row.selfMs).padStart(6)} ms  ${row.name}\n`);
}
