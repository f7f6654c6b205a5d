// Entry point of `npm start`: configuration, the app, and signals. Everything else is in buildApp.
import { ConfigError, loadConfig, type Config } from './config.ts';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

// Loaded only once the configuration is known to be good: a bad variable fails fast, before the database opens.
const { buildApp } = await import('./app.ts');
const app = buildApp(config);
const running = await app.start();
if (running.bootstrapToken) {
  // Once, on stderr and outside the JSON log stream, like Jupyter's startup link. The logs never carry it.
  const link = `${running.publicUrl}/?token=${encodeURIComponent(running.bootstrapToken)}`;
  process.stderr.write(
    `\nFirst start: created user "local".\n  API token (shown once): ${running.bootstrapToken}\n  Studio: ${link}\n\n`,
  );
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // a second signal exits at once
    stopping = true;
    void app.stop().then(() => process.exit(0));
  });
}
