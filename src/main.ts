// Entry point of `npm start`: configuration, the app, and signals. Everything else is in buildApp.
import { ConfigError, loadConfig, type Config } from './config.ts';

/** A shutdown that has not finished by then is cut short (the app's own deadlines end well before). */
const SHUTDOWN_WATCHDOG_MS = 9_500;

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
const { DatabaseInUseError } = await import('./store/store.ts');
const { MediaStorageError } = await import('./media/storage/index.ts');
const app = buildApp(config);
const { log } = app;

// Crashes are logged as JSON like everything else before the process ends, as Node would end it.
process.on('uncaughtException', (error) => {
  log.fatal({ err: error }, 'uncaught exception');
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  log.fatal({ err: reason }, 'unhandled promise rejection');
  process.exit(1);
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      // A second signal: the operator does not want to wait.
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'signal received: stopping gracefully');
    setTimeout(() => {
      log.error('shutdown did not finish in time; exiting (unfinished engine steps are repeated on restart)');
      process.exit(1);
    }, SHUTDOWN_WATCHDOG_MS).unref();
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

let running: Awaited<ReturnType<typeof app.start>>;
try {
  running = await app.start();
} catch (error) {
  // A refusal the operator must act on is one line, as a bad variable is; anything else is logged as a crash.
  if (!(error instanceof DatabaseInUseError) && !(error instanceof MediaStorageError)) throw error;
  process.stderr.write(`${error.message}\n`);
  await app.stop();
  process.exit(1);
}
if (running.bootstrapToken) {
  // Once, on stderr and outside the JSON log stream, like Jupyter's startup link. The logs never carry it.
  const link = `${running.publicUrl}/?token=${encodeURIComponent(running.bootstrapToken)}`;
  process.stderr.write(
    `\nFirst start: created user "local".\n  API token (shown once): ${running.bootstrapToken}\n  Studio: ${link}\n\n`,
  );
}
