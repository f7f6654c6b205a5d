// What every scenario receives from bench/run.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioResult } from '../lib/report.ts';

export interface ScenarioContext {
  /** Progress lines on stderr (the table goes to stdout at the end). */
  log(message: string): void;
  /** A fresh temporary directory, removed when the scenario ends. */
  tempDir(prefix: string): string;
  /** Runs per figure; the median is kept. */
  runs: number;
}

export type Scenario = (ctx: ScenarioContext) => Promise<Omit<ScenarioResult, 'scenario' | 'at' | 'seconds'>>;

export function createContext(name: string, runs: number): { ctx: ScenarioContext; cleanup: () => void } {
  const dirs: string[] = [];
  const started = Date.now();
  return {
    ctx: {
      runs,
      log: (message) => process.stderr.write(`[${name} +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`),
      tempDir: (prefix) => {
        const dir = mkdtempSync(join(tmpdir(), `bench-${prefix}-`));
        dirs.push(dir);
        return dir;
      },
    },
    cleanup: () => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
