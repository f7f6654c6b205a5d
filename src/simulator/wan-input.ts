// The simulator's copy of model_wan-2-5-t2v's input schema (SCENARIO-API.md §8.1, with the conservative limits of §8.2)
// and its price. Reasons are worded like Scenario's live 400s ("Input prompt is required").
// Deliberately strict about unknown inputs (the live behaviour is unknown): a stray field is a gateway bug worth seeing.

export const WAN_SIZES = ['1280*720', '720*1280', '1920*1080', '1080*1920'] as const;
export const WAN_DURATIONS = [5, 10] as const;
export const MAX_PROMPT_CHARS = 800;
export const MAX_NEGATIVE_PROMPT_CHARS = 500;
export const MAX_SEED = 2_147_483_647;

const KNOWN_INPUTS = new Set(['prompt', 'negativePrompt', 'size', 'duration', 'enablePromptExpansion', 'seed', 'audio']);

export interface WanInput {
  prompt: string;
  size: string;
  duration: number;
  audio: string | null;
}

export type WanInputCheck =
  | { ok: true; input: WanInput }
  | { ok: false; status: 400 | 404; reason: string };

/** Checks a submit body; `audioExists` says whether an asset id names an audio asset of the simulator. */
export function checkWanInput(body: Record<string, unknown>, audioExists: (assetId: string) => boolean): WanInputCheck {
  const bad = (reason: string): WanInputCheck => ({ ok: false, status: 400, reason });
  const unknown = Object.keys(body).find((key) => !KNOWN_INPUTS.has(key));
  if (unknown !== undefined) return bad(`Unknown input ${unknown}`);

  const { prompt, negativePrompt, size = '1280*720', duration = 5, enablePromptExpansion, seed, audio } = body;
  if (typeof prompt !== 'string' || prompt.trim() === '') return bad('Input prompt is required');
  if (prompt.length > MAX_PROMPT_CHARS) return bad(`Input prompt must be at most ${MAX_PROMPT_CHARS} characters`);
  if (negativePrompt !== undefined && typeof negativePrompt !== 'string') return bad('Input negativePrompt must be a string');
  if (typeof negativePrompt === 'string' && negativePrompt.length > MAX_NEGATIVE_PROMPT_CHARS) {
    return bad(`Input negativePrompt must be at most ${MAX_NEGATIVE_PROMPT_CHARS} characters`);
  }
  if (typeof size !== 'string' || !(WAN_SIZES as readonly string[]).includes(size)) {
    return bad(`Input size must be one of ${WAN_SIZES.join(', ')}`);
  }
  if (typeof duration !== 'number' || !(WAN_DURATIONS as readonly number[]).includes(duration)) {
    return bad(`Input duration must be one of ${WAN_DURATIONS.join(', ')}`);
  }
  if (enablePromptExpansion !== undefined && typeof enablePromptExpansion !== 'boolean') {
    return bad('Input enablePromptExpansion must be a boolean');
  }
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)) {
    return bad(`Input seed must be an integer between 0 and ${MAX_SEED}`);
  }
  if (audio !== undefined && (typeof audio !== 'string' || audio === '')) return bad('Input audio must be an asset id');
  // Unknown asset ids are a 404 upstream, not a 400 (SCENARIO-API.md §2).
  if (typeof audio === 'string' && !audioExists(audio)) return { ok: false, status: 404, reason: `Asset ${audio} not found` };
  return { ok: true, input: { prompt, size, duration, audio: typeof audio === 'string' ? audio : null } };
}

/**
 * Creative units of a run. Scenario's real price is unknown (SCENARIO-API.md §8.2) [I]; this one only has to grow
 * with size and duration like fal's per-second prices: 10 CU/s at 720p, 15 CU/s at 1080p.
 */
export function wanCost(size: string, duration: number): number {
  const is1080p = size.includes('1080');
  return (is1080p ? 15 : 10) * duration;
}
