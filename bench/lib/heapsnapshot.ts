// Compares two V8 heap snapshots (node:v8 writeHeapSnapshot): objects and bytes added, by type and constructor name.
// `npx tsx bench/lib/heapsnapshot.ts <before.heapsnapshot> <after.heapsnapshot> [top] [per]` — `per` divides the
// differences (e.g. by the number of subscribers added between the two snapshots).
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function countByConstructor(file: string): Map<string, { count: number; bytes: number }> {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeIndex = fields.indexOf('type');
  const nameIndex = fields.indexOf('name');
  const sizeIndex = fields.indexOf('self_size');
  const totals = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeIndex]!]!;
    let name = snapshot.strings[snapshot.nodes[i + nameIndex]!]!;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    else if (type === 'code') name = '(code)';
    else if (name.length > 60) name = `${name.slice(0, 60)}…`;
    const key = `${type}:${name}`;
    const entry = totals.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snapshot.nodes[i + sizeIndex]!;
    totals.set(key, entry);
  }
  return totals;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [beforeFile, afterFile, topArg, perArg] = process.argv.slice(2);
  const before = countByConstructor(beforeFile!);
  const after = countByConstructor(afterFile!);
  const per = Number(perArg) || 1;
  const rows = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: (a.count - b.count) / per, bytes: (a.bytes - b.bytes) / per };
  });
  rows.sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((s, r) => s + r.bytes, 0);
  process.stdout.write(`added: ${Math.round(total)} bytes${per > 1 ? ` per unit (÷ ${per})` : ''}\n`);
  for (const row of rows.slice(0, Number(topArg) || 40)) {
    process.stdout.write(`${String(Math.round(row.bytes)).padStart(10)} B  ${row.count.toFixed(2).padStart(9)} objects  ${row.key}\n`);
  }
}
