// `npm start` as a user runs it: a real process, a fresh data directory, no keys.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function spawnGateway(): ChildProcess {
  return spawn(join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      DATABASE_URL: `file:${join(dir, 'gateway.db')}`,
      MEDIA_DIR: join(dir, 'media'),
      SIMULATOR_JOB_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function startGateway(): Promise<Started> {
  const child = spawnGateway();
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const line = stdout.split('\n').find((l) => l.includes('"gateway listening"'));
    if (line) return { child, url: JSON.parse(line).url, stdout: () => stdout, stderr: () => stderr, exited };
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not start:\n${stdout}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Until the process is gone (bounded). */
async function waitForExit(pid: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function stopGateway(started: Started): Promise<number | null> {
  const timer = setTimeout(() => started.child.kill('SIGKILL'), 10_000);
  started.child.kill('SIGTERM');
  const code = await started.exited;
  clearTimeout(timer);
  return code;
}

describe('npm start', () => {
  it('runs against the simulator without keys, prints the first token once, and stops on SIGTERM', async () => {
    const first = await startGateway();
    try {
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
      const logs = first.stdout().trim().split('\n').map((line) => JSON.parse(line));
      expect(logs.some((l) => l.level === 40 && /NO SCENARIO KEYS/.test(l.msg))).toBe(true);
      const token = /API token \(shown once\): (\S+)/.exec(first.stderr())?.[1];
      expect(token).toMatch(/^vgt_/);
      expect(first.stderr()).toContain(`/?token=${token}`);
      // The token is on stderr only, never in the JSON log stream.
      expect(first.stdout()).not.toContain(token!);
    } finally {
      expect(await stopGateway(first)).toBe(0);
    }

    const second = await startGateway();
    try {
      expect(second.stderr()).not.toContain('API token');
    } finally {
      expect(await stopGateway(second)).toBe(0);
    }
  });

  it('refuses a second gateway on the same SQLite file with one line, and starts at once after a SIGKILL', async () => {
    const first = await startGateway();
    let firstStopped = false;
    try {
      const second = spawnGateway();
      let stderr = '';
      second.stderr!.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => second.on('exit', resolve));
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^another gateway \(pid \d+\) is running on .*gateway\.db: SQLite serves one gateway process/);
      // A gateway killed outright frees its lock with its process; the next start takes it without waiting. The gateway
      // is tsx's child: the pid the lock names, not the wrapper's.
      const gatewayPid = Number(readFileSync(join(dir, 'gateway.db.gateway-lock.pid'), 'utf8'));
      process.kill(gatewayPid, 'SIGKILL');
      first.child.kill('SIGKILL');
      await first.exited;
      firstStopped = true;
      await waitForExit(gatewayPid);
      const third = await startGateway();
      expect(await stopGateway(third)).toBe(0);
    } finally {
      if (!firstStopped) await stopGateway(first);
    }
  });
});
