// bench/RESULTS.md is generated from bench/results/latest.json (npm run bench), bench/results/crashtest.json
// (npm run crashtest), bench/results/crashtest-replicas.json (npm run crashtest -- --replicas 3 --store postgres) and
// the hand-written bench/results/notes.md; each of these commands rewrites it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { POSTGRES_INTEGRITY_NOTE, type CrashTestResult } from '../crash/harness.ts';
import { formatValue, renderMarkdown, type ResultsFile } from './report.ts';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
export const RESULTS_JSON = `${RESULTS_DIR}latest.json`;
export const CRASHTEST_JSON = `${RESULTS_DIR}crashtest.json`;
export const CRASHTEST_REPLICAS_JSON = `${RESULTS_DIR}crashtest-replicas.json`;
const NOTES_MD = `${RESULTS_DIR}notes.md`;
const RESULTS_MD = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

export function readJson<T>(file: string): T | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null;
}

export function writeJson(file: string, value: unknown): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

export interface CrashTestRecord extends CrashTestResult {
  date: string;
  node: string;
  report: string;
}

function crashSection(crash: CrashTestRecord): string {
  const replicas = crash.replicas;
  const title = replicas
    ? `## Crash test, ${replicas.count} PostgreSQL replicas (\`npm run crashtest -- --replicas ${replicas.count} --store postgres\`)`
    : '## Crash test (`npm run crashtest`)';
  return [
    title,
    '',
    `${crash.date}, Node ${crash.node}: ${crash.kills} SIGKILLs${replicas ? `, each of a replica picked at random and restarted` : ''}, seed ${crash.seed}, ${Math.round(crash.seconds)} s.`,
    ...(replicas ? ['', `From \`bench/results/crashtest-replicas.json\`. ${POSTGRES_INTEGRITY_NOTE}.`] : []),
    '',
    '| check | value | goal | verdict |',
    '|---|---|---|---|',
    ...crash.goals.map((g) => `| ${g.name} | ${g.value}${g.detail ? ` (${g.detail})` : ''} | ${g.goal} | ${g.met ? 'met' : 'MISSED'} |`),
    '',
    `Jobs by status: ${JSON.stringify(crash.jobsByStatus)}; failures by code: ${JSON.stringify(crash.failuresByCode)}.`,
    replicas
      ? `Kills that found the killed replica holding jobs in each phase (database read right after the kill): ${JSON.stringify(crash.killsWithPhase)}.`
      : `Kills that found jobs in each phase (database read right after the kill): ${JSON.stringify(crash.killsWithPhase)}.`,
    `Upstream faults queued between kills: ${JSON.stringify(crash.faultsQueued)}.`,
    '',
  ].join('\n');
}

export function writeResultsMarkdown(): void {
  const bench = readJson<ResultsFile>(RESULTS_JSON);
  const crashRuns = [CRASHTEST_JSON, CRASHTEST_REPLICAS_JSON].map((file) => readJson<CrashTestRecord>(file)).filter((run) => run !== null);
  const notes = existsSync(NOTES_MD) ? readFileSync(NOTES_MD, 'utf8') : '';
  if (!bench) return;
  writeFileSync(RESULTS_MD, renderMarkdown(bench, `${unlistedSections(bench)}${crashRuns.map(crashSection).join('\n')}\n${notes}`));
}

/** Scenarios given a section of their own for as long as report.ts's main table (its ORDER) does not list them. */
const OWN_SECTIONS: Array<{ scenario: string; title: string }> = [
  { scenario: 'mirror-s3', title: 'mirror-s3: a video mirrored into the bucket (`npm run bench -- mirror-s3`, issue 13)' },
];

function unlistedSections(bench: ResultsFile): string {
  // Rendered without them first: a scenario the main table lists already has its rows and notes there.
  const listed = renderMarkdown(bench, '');
  const verdict = (met: boolean | null) => (met === null ? '—' : met ? 'met' : 'MISSED');
  return OWN_SECTIONS.filter(({ scenario }) => bench.scenarios[scenario] && !listed.includes(`| ${scenario} |`))
    .map(({ scenario, title }) => {
      const result = bench.scenarios[scenario]!;
      return [
        `## ${title}`,
        '',
        `${result.at}, Node ${result.environment?.node ?? bench.environment.node}, ${Math.round(result.seconds)} s.`,
        '',
        '| measure | value | baseline (same run) | goal | verdict |',
        '|---|---|---|---|---|',
        ...result.figures.map((f) => {
          const runs = f.runs && f.runs.length > 1 ? ` (runs: ${f.runs.map((r) => formatValue(r, '')).join(', ')})` : '';
          return `| ${f.measure} | ${formatValue(f.value, f.unit)}${runs} | ${f.baseline} | ${f.goal} | ${verdict(f.met)} |`;
        }),
        '',
        ...result.notes.map((note) => `- ${note}`),
        '',
      ].join('\n');
    })
    .map((section) => `${section}\n`)
    .join('');
}
