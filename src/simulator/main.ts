// `npm run simulator`: the Scenario simulator alone, on 127.0.0.1:$SIMULATOR_PORT (CONTRACT.md §1, §2).
import { pino } from 'pino';
import { ConfigError, loadSimulatorConfig } from '../config.ts';
import { createSimulator } from './server.ts';

const log = pino({ base: undefined });

let env: ReturnType<typeof loadSimulatorConfig>;
try {
  env = loadSimulatorConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const simulator = createSimulator({ port: env.port, host: '127.0.0.1', jobSeconds: env.jobSeconds });
const url = await simulator.start();
log.info({ url, jobSeconds: env.jobSeconds }, `Scenario simulator listening on ${url}`);

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
