import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../src/auth/authenticator.ts';
import { bootstrapLocalUser, hashToken } from '../src/auth/tokens.ts';
import type { Store } from '../src/store/store.ts';

const userOf = async (store: Store, token: string) => (await new Authenticator(store).authenticate(token))?.user ?? null;
import { openSqliteStore } from '../src/store/sqlite/open.ts';
import { runTsx } from './helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'token-cli-'));
const env = { DATABASE_URL: `file:${join(dir, 'gateway.db')}` };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run token', () => {
  it('creates, lists and revokes tokens; create prints only the token', async () => {
    const first = await runTsx('src/cli/token.ts', ['create', 'alice'], env);
    expect(first.code).toBe(0);
    const lines = first.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const token = lines[0]!;
    expect(token).toMatch(/^vgt_[A-Za-z0-9_-]{43}$/);

    const second = await runTsx('src/cli/token.ts', ['create', 'alice'], env);
    expect(second.stdout.trim()).not.toBe(token);

    const listed = await runTsx('src/cli/token.ts', ['list'], env);
    expect(listed.stdout).toMatch(/^alice\t2 active token\(s\)/m);
    expect(listed.stdout).not.toContain(token);

    const store = await openSqliteStore(env.DATABASE_URL);
    try {
      expect((await userOf(store, token))?.name).toBe('alice');
      expect(await userOf(store, `${token}x`)).toBeNull();
    } finally {
      await store.close();
    }

    const revoked = await runTsx('src/cli/token.ts', ['revoke', 'alice'], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stderr).toContain('revoked 2 token(s)');

    const after = await openSqliteStore(env.DATABASE_URL);
    try {
      expect(await userOf(after, token)).toBeNull();
    } finally {
      await after.close();
    }
  });

  it('refuses bad usage and unknown users with a non-zero exit', async () => {
    expect((await runTsx('src/cli/token.ts', [], env)).code).toBe(2);
    expect((await runTsx('src/cli/token.ts', ['create', 'bad name!'], env)).code).toBe(2);
    const unknown = await runTsx('src/cli/token.ts', ['revoke', 'nobody'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no user named nobody');
  });

  it('stores tokens only as hashes', async () => {
    const { stdout } = await runTsx('src/cli/token.ts', ['create', 'carol'], env);
    const token = stdout.trim();
    expect(token).toMatch(/^vgt_/);
    const files = readdirSync(dir).filter((name) => name.startsWith('gateway.db'));
    for (const file of files) expect(readFileSync(join(dir, file)).toString('latin1')).not.toContain(token);
    // The hash is there: what is stored is sha256(token).
    const all = files.map((file) => readFileSync(join(dir, file)).toString('latin1')).join('');
    expect(all).toContain(hashToken(token));
  });
});

describe('first start', () => {
  it('creates user local with one token on an empty database, and never again', async () => {
    const store = await openSqliteStore(`file:${join(dir, 'bootstrap.db')}`);
    try {
      const token = await bootstrapLocalUser(store);
      expect(token).not.toBeNull();
      expect((await userOf(store, token!))?.name).toBe('local');
      expect(await bootstrapLocalUser(store)).toBeNull();
    } finally {
      await store.close();
    }
  });
});
