// bench/RESULTS.md is generated from bench/results/latest.json (npm run bench), bench/results/crashtest.json
// (npm run crashtest) and the hand-written bench/results/notes.md; both commands rewrite it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CrashTestResult } from '../crash/harness.ts';
import { renderMarkdown, type ResultsFile } from './report.ts';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
export const RESULTS_JSON = `${RESULTS_DIR}latest.json`;
export const CRASHTEST_JSON = `${RESULTS_DIR}crashtest.json`;
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

export function writeResultsMarkdown(): void {
  const bench = readJson<ResultsFile>(RESULTS_JSON);
  const crash = readJson<CrashTestRecord>(CRASHTEST_JSON);
  const notes = existsSync(NOTES_MD) ? readFileSync(NOTES_MD, 'utf8') : '';
  let crashSection = '';
  if (crash) {
    crashSection = [
      '## Crash test (`npm run crashtest`)',
      '',
      `${crash.date}, Node ${crash.node}: ${crash.kills} SIGKILLs, seed ${crash.seed}, ${Math.round(crash.seconds)} s.`,
      '',
      '| check | value | goal | verdict |',
      '|---|---|---|---|',
      ...crash.goals.map((g) => `| ${g.name} | ${g.value}${g.detail ? ` (${g.detail})` : ''} | ${g.goal} | ${g.met ? 'met' : 'MISSED'} |`),
      '',
      `Jobs by status: ${JSON.stringify(crash.jobsByStatus)}; failures by code: ${JSON.stringify(crash.failuresByCode)}.`,
      `Kills that found jobs in each phase (database read right after the kill): ${JSON.stringify(crash.killsWithPhase)}.`,
      `Upstream faults queued between kills: ${JSON.stringify(crash.faultsQueued)}.`,
      '',
    ].join('\n');
  }
  if (!bench) return;
  writeFileSync(RESULTS_MD, renderMarkdown(bench, `${crashSection}\n${notes}`));
}
