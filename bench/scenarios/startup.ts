// startup: a fresh `npm start` (npm → tsx → the gateway) to a 200 from /readyz, on an existing install: node_modules
// in place and a database from an earlier start (the first, unmeasured start creates it and warms tsx's cache).
// Baseline in the same run: a bare `node` HTTP server spawned the same way to its first answer.
import { join } from 'node:path';
import { freePort, sleep, spawnCommand, type Child } from '../lib/proc.ts';
import { median } from '../lib/stats.ts';
import type { Scenario } from './context.ts';

const READY_TIMEOUT_MS = 30_000;

async function timeToReady(child: Child, url: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return Date.now() - started;
    } catch {
      // not listening yet
    }
    if (!child.alive) throw new Error(`exited before ready\n${child.tail()}`);
    if (Date.now() - started > READY_TIMEOUT_MS) throw new Error(`not ready within ${READY_TIMEOUT_MS} ms\n${child.tail()}`);
    await sleep(10);
  }
}

export const startup: Scenario = async (ctx) => {
  const dir = ctx.tempDir('startup');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const startGateway = async () => {
    const port = await freePort();
    const spawnedAt = Date.now();
    const child = spawnCommand(npm, ['start', '--silent'], {
      env: { PORT: String(port), DATABASE_URL: `file:${join(dir, 'gateway.db')}`, MEDIA_DIR: join(dir, 'media'), LOG_LEVEL: 'info' },
      core: null,
      detached: true,
    });
    try {
      await timeToReady(child, `http://127.0.0.1:${port}/readyz`);
      return Date.now() - spawnedAt;
    } finally {
      await child.stop('SIGTERM', 10_000);
    }
  };
  const startBare = async () => {
    const port = await freePort();
    const spawnedAt = Date.now();
    const child = spawnCommand(process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`], { core: null, detached: true });
    try {
      await timeToReady(child, `http://127.0.0.1:${port}/`);
      return Date.now() - spawnedAt;
    } finally {
      await child.stop('SIGTERM', 5_000);
    }
  };

  ctx.log('first start (creates the database; not measured)');
  await startGateway();
  const gatewayRuns: number[] = [];
  const bareRuns: number[] = [];
  for (let run = 0; run < ctx.runs; run++) {
    bareRuns.push(await startBare());
    gatewayRuns.push(await startGateway());
    ctx.log(`run ${run + 1}: npm start ready in ${gatewayRuns.at(-1)} ms; bare node server in ${bareRuns.at(-1)} ms`);
  }
  const value = median(gatewayRuns);
  return {
    figures: [
      {
        measure: 'npm start → /readyz 200, existing install and database',
        value,
        unit: 'ms',
        baseline: `bare node HTTP server spawned the same way: ${median(bareRuns)} ms`,
        goal: '≤ 2000 ms',
        met: value <= 2000,
        runs: gatewayRuns,
      },
    ],
    notes: [
      'Not pinned (a user\'s start); simulator mode, as `npm start` without keys. The time includes npm and tsx (which compiles TypeScript on the fly, with its cache warm after the first start).',
      'The gateways npm starts are reaped by init, not by the bench, so their CPU counts as "other processes" below.',
    ],
    details: { gatewayRuns, bareRuns },
  };
};
