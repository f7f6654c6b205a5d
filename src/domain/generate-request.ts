// Checks and normalises a generate request before anything is stored or sent: a refused request costs nothing.
import { VIDEO_SIZES, WAN_T2V, type VideoJobParams, type VideoSize } from './video-job.ts';

export interface GenerateVideoRequest {
  prompt: string;
  negativePrompt?: string | null;
  size?: VideoSize | null;
  durationSeconds?: number | null;
  enablePromptExpansion?: boolean | null;
  seed?: number | null;
  audioId?: string | null;
  idempotencyKey?: string | null;
}

export interface FieldError {
  /** Input path of the bad value, e.g. ["input", "durationSeconds"]. */
  path: string[];
  message: string;
}

/** PostgreSQL cannot store U+0000 in text; refused on every store alike, so that the stores accept the same input. */
export function hasNul(text: string): boolean {
  return text.includes('\u0000');
}
const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

export const DEFAULTS = { size: 'LANDSCAPE_720P', durationSeconds: 5, enablePromptExpansion: true } as const;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

export type NormalizedRequest =
  | { ok: true; params: VideoJobParams; idempotencyKey: string | null }
  | { ok: false; fieldErrors: FieldError[] };

/**
 * Applies defaults (an explicit null means the default) and reports every bad field at once.
 * `drawSeed` is called only when the client gave no seed, so every job records the seed that made it.
 */
export function normalizeGenerateRequest(
  input: GenerateVideoRequest,
  drawSeed: () => number,
  path: string[] = ['input'],
): NormalizedRequest {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ path: [...path, field], message });

  const prompt = input.prompt ?? '';
  if (prompt.trim() === '') fail('prompt', 'must not be empty');
  else if (prompt.length > WAN_T2V.maxPromptLength) fail('prompt', `must be at most ${WAN_T2V.maxPromptLength} characters`);
  else if (hasNul(prompt)) fail('prompt', NUL_MESSAGE);

  const negativePrompt = input.negativePrompt?.trim() ? input.negativePrompt : null;
  if (negativePrompt && negativePrompt.length > WAN_T2V.maxNegativePromptLength) {
    fail('negativePrompt', `must be at most ${WAN_T2V.maxNegativePromptLength} characters`);
  } else if (negativePrompt && hasNul(negativePrompt)) {
    fail('negativePrompt', NUL_MESSAGE);
  }

  const size = input.size ?? DEFAULTS.size;
  if (!(size in VIDEO_SIZES)) fail('size', `must be one of ${Object.keys(VIDEO_SIZES).join(', ')}`);

  const durationSeconds = input.durationSeconds ?? DEFAULTS.durationSeconds;
  if (!WAN_T2V.durationsSeconds.includes(durationSeconds)) {
    fail('durationSeconds', `must be one of ${WAN_T2V.durationsSeconds.join(', ')}`);
  }

  const seedGiven = input.seed !== null && input.seed !== undefined;
  if (seedGiven && !(Number.isInteger(input.seed) && input.seed! >= 0 && input.seed! <= WAN_T2V.maxSeed)) {
    fail('seed', `must be an integer from 0 to ${WAN_T2V.maxSeed}`);
  }

  const idempotencyKey = input.idempotencyKey ?? null;
  if (idempotencyKey !== null && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    fail('idempotencyKey', `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  } else if (idempotencyKey !== null && hasNul(idempotencyKey)) {
    fail('idempotencyKey', NUL_MESSAGE);
  }

  if (errors.length > 0) return { ok: false, fieldErrors: errors };
  return {
    ok: true,
    idempotencyKey,
    params: {
      prompt,
      negativePrompt,
      size,
      durationSeconds,
      enablePromptExpansion: input.enablePromptExpansion ?? DEFAULTS.enablePromptExpansion,
      seed: seedGiven ? input.seed! : drawSeed(),
      seedDrawn: !seedGiven,
      audioId: input.audioId ?? null,
    },
  };
}
