// The body Scenario's Wan 2.5 model takes (SCENARIO-API.md §8.1), built from the gateway's job parameters.
import { VIDEO_SIZES, type VideoJobParams } from '../domain/video-job.ts';

export function buildWanRequest(params: VideoJobParams, audioUpstreamAssetId: string | null): Record<string, unknown> {
  const { width, height } = VIDEO_SIZES[params.size];
  const body: Record<string, unknown> = {
    prompt: params.prompt,
    size: `${width}*${height}`,
    duration: params.durationSeconds,
    enablePromptExpansion: params.enablePromptExpansion,
    seed: params.seed,
  };
  if (params.negativePrompt !== null) body.negativePrompt = params.negativePrompt;
  if (audioUpstreamAssetId !== null) body.audio = audioUpstreamAssetId;
  return body;
}

/** True when an upstream job's echoed input carries every field that was sent, with the same value. */
export function inputMatches(sent: Record<string, unknown>, echoed: Record<string, unknown> | null): boolean {
  if (!echoed) return false;
  return Object.entries(sent).every(([key, value]) => JSON.stringify(echoed[key]) === JSON.stringify(value));
}
