/**
 * Dependency-free audio probe: identifies WAV, MP3, Ogg (Vorbis/Opus) and M4A by their magic bytes — never by
 * file name — and reads the duration from the headers. Every loop is bounded, nothing is allocated from sizes
 * declared in the input, and malformed or truncated input yields null (not audio we recognise) or a probe with
 * `durationSeconds: null` (recognised, but the duration cannot be trusted) — never an exception.
 *
 * Truncation: when the container's own structure runs past the end of the bytes (a WAV data chunk, MP3 frame,
 * Ogg page or MP4 box that is cut off, or fewer bytes than an MP3 Xing/VBRI header records) the duration is null.
 * A cut that falls exactly on a frame/page boundary is indistinguishable from a shorter file and reports the
 * duration of the audio actually present.
 */
import { probeM4a } from './m4a.ts';
import { probeMp3 } from './mp3.ts';
import { probeOgg } from './ogg.ts';
import type { AudioProbe } from './types.ts';
import { probeWav } from './wav.ts';

export type { AudioFormat, AudioProbe } from './types.ts';
export { AUDIO_MIME_TYPES } from './types.ts';

/** Probers in the order tried; each returns null quickly unless its magic bytes are present. */
const PROBERS: ReadonlyArray<(bytes: Uint8Array) => AudioProbe | null> = [probeWav, probeOgg, probeM4a, probeMp3];

export function probeAudio(bytes: Uint8Array): AudioProbe | null {
  for (const probe of PROBERS) {
    try {
      const result = probe(bytes);
      if (result) return result;
    } catch {
      // The probers are written not to throw; this is only a last line of defence against surprises.
    }
  }
  return null;
}
