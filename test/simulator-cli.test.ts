// `npm run simulator`: the simulator alone, as a process, speaking Scenario's API.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runTsx } from './helpers/run-cli.ts';

describe('npm run simulator', () => {
  it('listens on SIMULATOR_PORT, answers with Basic auth, and stops on SIGTERM', async () => {
    const child = spawn(join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['src/simulator/main.ts'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', SIMULATOR_PORT: '0', SIMULATOR_JOB_SECONDS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    try {
      const deadline = Date.now() + 15_000;
      let url: string | undefined;
      while (!url) {
        url = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.url)?.url;
        if (Date.now() > deadline) throw new Error(`simulator did not start: ${stdout}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const auth = `Basic ${Buffer.from('any-key:any-secret').toString('base64')}`;
      expect((await fetch(`${url}/jobs?pageSize=1`, { headers: { authorization: auth } })).status).toBe(200);
      expect((await fetch(`${url}/jobs?pageSize=1`)).status).toBe(401);
    } finally {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      clearTimeout(timer);
    }
  });

  it('refuses a bad SIMULATOR_PORT with one line naming it', async () => {
    const result = await runTsx('src/simulator/main.ts', [], { SIMULATOR_PORT: 'nope' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^invalid configuration: SIMULATOR_PORT /);
  });
});
