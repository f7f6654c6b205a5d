/**
 * M4A / MP4 audio (ISO base media file with an `ftyp` box at offset 4).
 *
 * Acceptance rule:
 * - a major brand that declares an audio file (`M4A `, `M4B `, `M4P `, `F4A `, `F4B `) is accepted as m4a
 *   whatever tracks it has — the file says it is audio;
 * - a generic brand (`isom`, `iso2`..`iso9`, `mp41`, `mp42`, `dash`, as major or compatible brand) is accepted
 *   only if `moov` is present and holds at least one sound track and no video track, so an ordinary MP4 video
 *   is never mistaken for audio;
 * - anything else (e.g. `qt  `, `avc1`-only, HEIF images) is rejected.
 * Duration comes from `moov/mvhd` (timescale and duration, versions 0 and 1), or `mvex/mehd` for fragmented
 * files. It is null when `moov` is missing or a top-level box runs past the end of the bytes (truncated input).
 */
import { ascii, fits } from './bytes.ts';
import { movieDurationSeconds, payloadStart, readBoxHeader, scanTopLevel, tracks } from './isobmff.ts';
import { AUDIO_MIME_TYPES, type AudioProbe } from './types.ts';

const AUDIO_BRANDS = new Set(['M4A ', 'M4B ', 'M4P ', 'F4A ', 'F4B ']);
const GENERIC_BRANDS = new Set([
  'isom', 'iso2', 'iso3', 'iso4', 'iso5', 'iso6', 'iso7', 'iso8', 'iso9', 'mp41', 'mp42', 'dash',
]);
/** Bounds the compatible-brand list (4 bytes each). */
const MAX_BRANDS = 64;

function readBrands(bytes: Uint8Array): { major: string; all: string[] } | null {
  if (!fits(bytes, 0, 16) || ascii(bytes, 4, 4) !== 'ftyp') return null;
  const ftyp = readBoxHeader(bytes, 0, bytes.length);
  if (!ftyp) return null;
  const major = ascii(bytes, payloadStart(ftyp), 4);
  const all = [major];
  // major brand (4), minor version (4), then compatible brands up to the end of the box
  const end = Math.min(ftyp.end, bytes.length);
  for (let offset = payloadStart(ftyp) + 8, i = 0; offset + 4 <= end && i < MAX_BRANDS; offset += 4, i++) {
    all.push(ascii(bytes, offset, 4));
  }
  return { major, all };
}

export function probeM4a(bytes: Uint8Array): AudioProbe | null {
  const brands = readBrands(bytes);
  if (!brands) return null;
  const declaredAudio = AUDIO_BRANDS.has(brands.major);
  if (!declaredAudio && !brands.all.some((brand) => GENERIC_BRANDS.has(brand))) return null;

  const { boxes, truncated } = scanTopLevel(bytes);
  const moov = boxes.find((box) => box.type === 'moov') ?? null;

  if (!declaredAudio) {
    if (!moov) return null;
    let sound = false;
    for (const { handler } of tracks(bytes, moov)) {
      if (handler === 'vide') return null;
      if (handler === 'soun') sound = true;
    }
    if (!sound) return null;
  }

  const durationSeconds = moov && !truncated ? movieDurationSeconds(bytes, moov) : null;
  return { format: 'm4a', mimeType: AUDIO_MIME_TYPES.m4a, durationSeconds };
}
