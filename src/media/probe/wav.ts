/**
 * WAV (RIFF/WAVE): duration = `data` chunk size / `fmt ` byte rate, walking the chunk list properly
 * (chunks may appear in any order, with LIST/JUNK/fact chunks in between, and are padded to even sizes).
 */
import { ascii, u16le, u32le } from './bytes.ts';
import { AUDIO_MIME_TYPES, type AudioProbe } from './types.ts';

const MAX_CHUNKS = 1024;
/** Streaming writers that cannot seek back leave the data size as 0 or 0xFFFFFFFF: the data runs to the end. */
const UNKNOWN_SIZES = new Set([0, 0xffffffff]);

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE';
}

export function probeWav(bytes: Uint8Array): AudioProbe | null {
  if (!isWav(bytes)) return null;
  const result = (durationSeconds: number | null): AudioProbe => ({
    format: 'wav',
    mimeType: AUDIO_MIME_TYPES.wav,
    durationSeconds,
  });

  let byteRate: number | null = null;
  let blockAlign = 1;
  let dataBytes: number | null = null;
  let offset = 12;
  for (let i = 0; i < MAX_CHUNKS && offset + 8 <= bytes.length; i++) {
    const id = ascii(bytes, offset, 4);
    const size = u32le(bytes, offset + 4);
    const body = offset + 8;
    const available = bytes.length - body;

    if (id === 'fmt ') {
      // format tag (2), channels (2), sample rate (4), byte rate (4), block align (2), bits per sample (2)
      if (size < 16 || available < 16) return result(null);
      byteRate = u32le(bytes, body + 8);
      blockAlign = Math.max(1, u16le(bytes, body + 12));
    } else if (id === 'data') {
      if (UNKNOWN_SIZES.has(size)) {
        dataBytes = available - (available % blockAlign);
        break; // by definition the data runs to the end of the file
      }
      if (size > available) return result(null); // truncated: the header promises more than we have
      dataBytes = size;
    }
    if (byteRate !== null && dataBytes !== null) break;
    offset = body + size + (size % 2); // chunks are word-aligned; an absurd size simply ends the walk
  }

  if (byteRate === null || byteRate === 0 || dataBytes === null) return result(null);
  return result(dataBytes / byteRate);
}
