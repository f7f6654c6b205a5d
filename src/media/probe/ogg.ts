/**
 * Ogg Vorbis and Ogg Opus.
 *
 * The first page must start a logical stream (BOS) whose first packet is a Vorbis identification header or an
 * OpusHead; any other codec (Theora video, FLAC, Speex...) is not accepted. The duration is the granule position
 * of the stream's last page divided by the sample rate (Vorbis) or, for Opus, minus the pre-skip, over 48 kHz.
 * Pages are walked forward from the start (each page header gives the page length), which is bounded and
 * notices a cut-off last page.
 */
import { ascii, fits, u16le, u32le, u64le, u8 } from './bytes.ts';
import { AUDIO_MIME_TYPES, type AudioProbe } from './types.ts';

/** Bounds the page walk (each page is at least 27 bytes, so the buffer length bounds it too). */
const MAX_PAGES = 1_000_000;
const HEADER_TYPE_BOS = 0x02;
const HEADER_TYPE_EOS = 0x04;

interface Page {
  headerType: number;
  /** Granule position, or null for -1 ("no packet ends on this page") or an unrepresentable value. */
  granule: number | null;
  serial: number;
  bodyStart: number;
  end: number;
}

/** Parses the page header at `offset`; null if there is no page there or its header is cut off. */
function readPage(bytes: Uint8Array, offset: number): Page | null {
  if (!fits(bytes, offset, 27) || ascii(bytes, offset, 4) !== 'OggS' || u8(bytes, offset + 4) !== 0) return null;
  const segments = u8(bytes, offset + 26);
  const bodyStart = offset + 27 + segments;
  if (bodyStart > bytes.length) return null;
  let bodyLength = 0;
  for (let i = 0; i < segments; i++) bodyLength += bytes[offset + 27 + i];
  const allOnes = u32le(bytes, offset + 6) === 0xffffffff && u32le(bytes, offset + 10) === 0xffffffff;
  const granule = u64le(bytes, offset + 6);
  return {
    headerType: u8(bytes, offset + 5),
    granule: allOnes || !Number.isSafeInteger(granule) ? null : granule,
    serial: u32le(bytes, offset + 14),
    bodyStart,
    end: bodyStart + bodyLength,
  };
}

type Codec = { name: 'vorbis'; sampleRate: number } | { name: 'opus'; preSkip: number };

function identifyCodec(bytes: Uint8Array, page: Page): Codec | null {
  const p = page.bodyStart;
  const available = Math.min(page.end, bytes.length) - p;
  // Vorbis identification header: type 1, "vorbis", version (4), channels (1), sample rate (4), ...
  if (available >= 16 && u8(bytes, p) === 1 && ascii(bytes, p + 1, 6) === 'vorbis') {
    const sampleRate = u32le(bytes, p + 12);
    return sampleRate > 0 ? { name: 'vorbis', sampleRate } : null;
  }
  // OpusHead: magic (8), version (1), channels (1), pre-skip (2), input sample rate (4), ...
  if (available >= 19 && ascii(bytes, p, 8) === 'OpusHead') {
    return { name: 'opus', preSkip: u16le(bytes, p + 10) };
  }
  return null;
}

export function probeOgg(bytes: Uint8Array): AudioProbe | null {
  const firstPage = readPage(bytes, 0);
  if (!firstPage || !(firstPage.headerType & HEADER_TYPE_BOS)) return null;
  const codec = identifyCodec(bytes, firstPage);
  if (!codec) return null;
  const result = (durationSeconds: number | null): AudioProbe => ({
    format: 'ogg',
    mimeType: AUDIO_MIME_TYPES.ogg,
    durationSeconds,
  });

  let lastGranule: number | null = null;
  let ended = false;
  let offset = 0;
  for (let i = 0; i < MAX_PAGES && offset < bytes.length; i++) {
    const page = readPage(bytes, offset);
    // A page cut short (or garbage before the stream's end) means we cannot know the real last granule.
    if (!page || page.end > bytes.length) return result(null);
    if (page.serial === firstPage.serial) {
      if (page.granule !== null) lastGranule = page.granule;
      if (page.headerType & HEADER_TYPE_EOS) {
        ended = true; // end of our stream; ignore anything chained after it
        break;
      }
    }
    offset = page.end;
  }
  // Reaching the end of the bytes exactly on a page boundary without an EOS page is accepted as the end of
  // the stream (some live recorders never write EOS); stopping anywhere else (page bound) leaves it unknown.
  if ((!ended && offset !== bytes.length) || lastGranule === null) return result(null);
  if (codec.name === 'vorbis') return result(lastGranule / codec.sampleRate);
  return result(Math.max(0, lastGranule - codec.preSkip) / 48000);
}
