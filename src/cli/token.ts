// `npm run token -- create <name> | revoke <name> | list`. For `create`, the token is the only line on stdout.
import { createTokenFor } from '../auth/tokens.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { openStore } from '../store/open.ts';

const USAGE = 'usage: npm run token -- create <name> | revoke <name> | list';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

async function main(args: string[]): Promise<number> {
  const [command, name, ...rest] = args;
  if (rest.length > 0 || !command || !['create', 'revoke', 'list'].includes(command)) return fail(USAGE);
  if (command !== 'list' && (!name || !NAME.test(name))) {
    return fail(`${USAGE}\n<name>: 1-64 letters, digits, '.', '_', '@' or '-'`);
  }
  const config = loadConfig();
  const store = await openStore(config.databaseUrl);
  try {
    if (command === 'create') {
      const { token } = await createTokenFor(store, name!);
      process.stdout.write(`${token}\n`);
      return 0;
    }
    if (command === 'revoke') {
      const user = await store.findUserByName(name!);
      if (!user) return fail(`no user named ${name}`);
      const revoked = await store.revokeTokens(user.id);
      process.stderr.write(`revoked ${revoked} token(s) of ${name}\n`);
      return 0;
    }
    for (const user of await store.listUsers()) {
      process.stdout.write(`${user.name}\t${user.activeTokens} active token(s)\tcreated ${new Date(user.createdAt).toISOString()}\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return 2;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
