// The short crash tests (issue 6 §2): SIGKILLs of real gateway processes while users create jobs; every check of
// `npm run crashtest` (50 kills) must hold. One gateway on SQLite, 5 kills; three replicas on PostgreSQL and Redis
// (CONTRACT §9), 4 kills, each of a replica picked at random, whose jobs another replica must take over. See
// bench/crash/harness.ts.
import { describe, expect, it } from 'vitest';
import { formatCrashReport, runCrashTest, type CrashTestOptions } from '../bench/crash/harness.ts';
import { hasPostgres, hasRedis } from './helpers/services.ts';

async function expectEveryGoalMet(options: CrashTestOptions): Promise<void> {
  const result = await runCrashTest(options);
  const report = formatCrashReport(result);
  expect(result.jobsCreated, report).toBeGreaterThan(0);
  for (const goal of result.goals) expect([goal.name, goal.met, goal.detail ?? ''], report).toEqual([goal.name, true, goal.detail ?? '']);
}

describe('crash test', () => {
  it(
    'loses no job, submits nothing twice and keeps the database and files sound across 5 SIGKILLs',
    () => expectEveryGoalMet({ kills: 5, drainTimeoutMs: 80_000 }),
    // Typically 30–40 s; the drain may wait out a 60 s reconciliation window when a kill lands between a submit's
    // intent and its request (nothing sent: the job ends SUBMIT_UNCERTAIN after the window).
    150_000,
  );
});

describe.skipIf(!hasPostgres || !hasRedis)('crash test, three replicas on PostgreSQL and Redis', () => {
  it(
    'loses no job, submits nothing twice and takes over a killed replica’s jobs within 20 s across 4 SIGKILLs',
    // The harness creates its own database and Redis key prefix and drops both at the end.
    () => expectEveryGoalMet({ kills: 4, store: 'postgres', replicas: 3, drainTimeoutMs: 80_000 }),
    // Typically 40–50 s: the same 60 s window may apply, and a hung asset read holds its job for up to 30 s.
    150_000,
  );
});
