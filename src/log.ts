// JSON logs on stdout. Secrets are redacted by path as a second line of defence: the code never logs them on purpose.
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'token',
  '*.token',
  'apiKey',
  'apiSecret',
  '*.apiKey',
  '*.apiSecret',
  'connectionParams',
  '*.connectionParams',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: undefined, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}
