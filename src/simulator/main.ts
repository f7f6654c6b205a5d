// `npm run simulator`: the Scenario simulator alone, on 127.0.0.1:$SIMULATOR_PORT (CONTRACT.md §1, §2).
import { pino } from 'pino';
import { z } from 'zod';
import { createSimulator } from './server.ts';

const EnvSchema = z.object({
  SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  SIMULATOR_JOB_SECONDS: z.coerce.number().positive().max(86_400).default(30),
});

const log = pino({ base: undefined });

// An empty variable means "unset", as in `VAR= npm run simulator`.
const env = EnvSchema.safeParse(Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== '')));
if (!env.success) {
  const issue = env.error.issues[0]!;
  console.error(`invalid configuration: ${String(issue.path[0])} ${issue.message}`);
  process.exit(1);
}

const simulator = createSimulator({ port: env.data.SIMULATOR_PORT, host: '127.0.0.1', jobSeconds: env.data.SIMULATOR_JOB_SECONDS });
const url = await simulator.start();
log.info({ url, jobSeconds: env.data.SIMULATOR_JOB_SECONDS }, `Scenario simulator listening on ${url}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    simulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
