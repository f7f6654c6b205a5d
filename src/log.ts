// JSON logs on stdout (pino). The code never logs a secret on purpose; three lines of defence catch mistakes:
// redaction by path (authorization headers, tokens, the Scenario credentials), a scrub of every written line for
// the configured secret values and for anything shaped like an API token, and request logs that never carry headers
// and redact secret query parameters (see src/http/traffic.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
  'token',
  '*.token',
  'apiKey',
  'apiSecret',
  '*.apiKey',
  '*.apiSecret',
  'scenario.apiKey',
  'scenario.apiSecret',
  '*.scenario.apiKey',
  '*.scenario.apiSecret',
  'mediaSigningSecret',
  '*.mediaSigningSecret',
  'connectionParams',
  '*.connectionParams',
];

const CENSOR = '[redacted]';
/** API tokens (src/auth/tokens.ts): `vgt_` and 43 base64url characters. Shorter runs are left alone. */
const TOKEN_PATTERN = /vgt_[A-Za-z0-9_-]{16,}/g;

/** Fields added to every log line written inside a request (request id, user id, operation name). */
const logContext = new AsyncLocalStorage<Record<string, unknown>>();

/** Runs `fn` with `fields` added to every log line it writes, across awaits. The object may be filled in later. */
export function runWithLogFields<T>(fields: Record<string, unknown>, fn: () => T): T {
  return logContext.run(fields, fn);
}

/** The fields of the surrounding request, if any (mutable: the API fills in the user and the operation). */
export function currentLogFields(): Record<string, unknown> | undefined {
  return logContext.getStore();
}

export interface LoggerOptions {
  /** Values that must never be written, whatever path they come by (Scenario key and secret, signing secret). */
  secrets?: ReadonlyArray<string | null | undefined>;
}

/** Every form a secret could take in a JSON line: as is, JSON-escaped, and inside a Basic authorization value. */
function secretForms(secrets: ReadonlyArray<string | null | undefined>): string[] {
  const values = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const forms = new Set<string>();
  for (const value of values) {
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
  }
  // The Scenario key and secret travel together as `Basic base64(key:secret)`.
  for (const a of values) for (const b of values) if (a !== b) forms.add(Buffer.from(`${a}:${b}`).toString('base64'));
  // Longest first, so a form that contains another is replaced whole.
  return [...forms].sort((x, y) => y.length - x.length);
}

export function scrubSecrets(line: string, forms: readonly string[]): string {
  let out = line;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(CENSOR);
  return out.replace(TOKEN_PATTERN, `vgt_${CENSOR}`);
}

export function createLogger(level: string, destination?: DestinationStream, options: LoggerOptions = {}): Logger {
  const forms = secretForms(options.secrets ?? []);
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACTED_PATHS, censor: CENSOR },
      // A copy: pino merges each line's own fields into the object the mixin returns.
      mixin: () => ({ ...logContext.getStore() }),
      hooks: { streamWrite: (line) => scrubSecrets(line, forms) },
    },
    destination,
  );
}
