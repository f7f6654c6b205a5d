// The short crash test (issue 6 §2): 5 SIGKILLs of a real gateway process while users create jobs; every check of
// `npm run crashtest` (50 kills) must hold. See bench/crash/harness.ts.
import { describe, expect, it } from 'vitest';
import { formatCrashReport, runCrashTest } from '../bench/crash/harness.ts';

describe('crash test', () => {
  it(
    'loses no job, submits nothing twice and keeps the database and files sound across 5 SIGKILLs',
    async () => {
      const result = await runCrashTest({ kills: 5, drainTimeoutMs: 80_000 });
      const report = formatCrashReport(result);
      expect(result.jobsCreated, report).toBeGreaterThan(0);
      for (const goal of result.goals) expect([goal.name, goal.met, goal.detail ?? ''], report).toEqual([goal.name, true, goal.detail ?? '']);
    },
    // Typically 30–40 s; the drain may wait out a 60 s reconciliation window when a kill lands between a submit's
    // intent and its request (nothing sent: the job ends SUBMIT_UNCERTAIN after the window).
    150_000,
  );
});
