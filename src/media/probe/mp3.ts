/**
 * MP3 (MPEG-1, MPEG-2 and MPEG-2.5 audio, layer III).
 *
 * Detection: leading ID3v2 tags are skipped using their synchsafe sizes, then an MPEG layer III frame header must
 * follow (directly at offset 0 when there is no tag), confirmed by the next frame header when the buffer holds it.
 * Duration: the frame count of a Xing/Info or VBRI header in the first frame if present, otherwise a bounded
 * walk over frame headers summing samples-per-frame / sample-rate.
 */
import { ascii, fits, u32be, u8 } from './bytes.ts';
import { AUDIO_MIME_TYPES, type AudioProbe } from './types.ts';

/** ~43 minutes of 44.1 kHz audio; longer streams get an estimate extrapolated from the walked part. */
const MAX_WALKED_FRAMES = 100_000;
/** Several ID3v2 tags in a row happen (e.g. re-tagging tools); more than this is not a real file. */
const MAX_ID3_TAGS = 8;
/** How far past the ID3v2 tag(s) we look for the first frame (some taggers leave unaccounted padding). */
const MAX_SYNC_SEARCH = 64 * 1024;

interface FrameHeader {
  mpeg1: boolean;
  mono: boolean;
  sampleRate: number;
  samplesPerFrame: number;
  frameLength: number;
}

// Layer III bitrates in kbit/s by bitrate index (0 = free format, unsupported; 15 = invalid).
const BITRATES_MPEG1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_MPEG2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES_MPEG1 = [44100, 48000, 32000];

/** Parses a layer III frame header at `offset`, or returns null if there is none. */
function readFrameHeader(bytes: Uint8Array, offset: number): FrameHeader | null {
  if (!fits(bytes, offset, 4)) return null;
  const b1 = bytes[offset + 1];
  const b2 = bytes[offset + 2];
  const b3 = bytes[offset + 3];
  if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return null; // 11-bit frame sync
  const versionBits = (b1 >> 3) & 0x03; // 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
  const layerBits = (b1 >> 1) & 0x03; // 1: layer III
  const bitrateIndex = b2 >> 4;
  const sampleRateIndex = (b2 >> 2) & 0x03;
  if (versionBits === 1 || layerBits !== 1 || bitrateIndex === 0 || bitrateIndex === 15) return null;
  if (sampleRateIndex === 3 || (b3 & 0x03) === 2) return null; // reserved sample rate / emphasis

  const mpeg1 = versionBits === 3;
  const divisor = mpeg1 ? 1 : versionBits === 2 ? 2 : 4;
  const sampleRate = SAMPLE_RATES_MPEG1[sampleRateIndex] / divisor;
  const bitrate = (mpeg1 ? BITRATES_MPEG1 : BITRATES_MPEG2)[bitrateIndex] * 1000;
  const padding = (b2 >> 1) & 0x01;
  const samplesPerFrame = mpeg1 ? 1152 : 576;
  const frameLength = Math.floor(((samplesPerFrame / 8) * bitrate) / sampleRate) + padding;
  return { mpeg1, mono: b3 >> 6 === 3, sampleRate, samplesPerFrame, frameLength };
}

/**
 * True if the frame at `offset` is followed by a compatible frame header, or ends exactly at the end of the
 * buffer (a one-frame file). A lone 0xFFE sync pattern in arbitrary data rarely passes this.
 */
function isConfirmedFrame(bytes: Uint8Array, offset: number, frame: FrameHeader): boolean {
  const next = offset + frame.frameLength;
  if (next === bytes.length) return true;
  const following = readFrameHeader(bytes, next);
  return following !== null && following.mpeg1 === frame.mpeg1 && following.sampleRate === frame.sampleRate;
}

/** Offset just past the leading ID3v2 tag(s); 0 if there is none; -1 if a tag is malformed or cut off. */
function skipId3v2(bytes: Uint8Array): number {
  let offset = 0;
  for (let i = 0; i < MAX_ID3_TAGS && ascii(bytes, offset, 3) === 'ID3'; i++) {
    if (!fits(bytes, offset, 10)) return -1;
    const major = u8(bytes, offset + 3);
    const flags = u8(bytes, offset + 5);
    const sizeBytes = bytes.subarray(offset + 6, offset + 10);
    if (major === 0xff || u8(bytes, offset + 4) === 0xff || sizeBytes.some((b) => b & 0x80)) return -1;
    // Synchsafe integer: 4 bytes of 7 bits each.
    const size = (sizeBytes[0] << 21) | (sizeBytes[1] << 14) | (sizeBytes[2] << 7) | sizeBytes[3];
    const footer = major >= 4 && flags & 0x10 ? 10 : 0;
    offset += 10 + size + footer;
    if (offset > bytes.length) return -1;
  }
  return offset;
}

/** Locates the first audio frame: at `start` exactly without a tag, or the first confirmed frame after it. */
function findFirstFrame(bytes: Uint8Array, start: number, searchable: boolean): number {
  const last = searchable ? Math.min(bytes.length - 4, start + MAX_SYNC_SEARCH) : start;
  for (let offset = start; offset <= last; offset++) {
    if (bytes[offset] !== 0xff) continue;
    const frame = readFrameHeader(bytes, offset);
    if (frame && isConfirmedFrame(bytes, offset, frame)) return offset;
  }
  return -1;
}

interface VbrInfo {
  frames: number;
  /** Byte count of the stream starting at this frame, when the header records it. */
  bytes: number | null;
}

/** Size of the layer III side information that follows the 4-byte header (a Xing/Info tag comes right after it). */
function sideInfoSize(frame: FrameHeader): number {
  if (frame.mpeg1) return frame.mono ? 17 : 32;
  return frame.mono ? 9 : 17;
}

/** Reads a Xing/Info header (after the side information) or a VBRI header (32 bytes after the frame header). */
function readVbrHeader(bytes: Uint8Array, offset: number, frame: FrameHeader): VbrInfo | null {
  const frameEnd = Math.min(offset + frame.frameLength, bytes.length);
  const xing = offset + 4 + sideInfoSize(frame);
  const tag = ascii(bytes, xing, 4);
  if ((tag === 'Xing' || tag === 'Info') && xing + 8 <= frameEnd) {
    const flags = u32be(bytes, xing + 4);
    let field = xing + 8;
    let frames: number | null = null;
    let byteCount: number | null = null;
    if (flags & 0x1) {
      if (field + 4 > frameEnd) return null;
      frames = u32be(bytes, field);
      field += 4;
    }
    if (flags & 0x2 && field + 4 <= frameEnd) byteCount = u32be(bytes, field);
    return frames ? { frames, bytes: byteCount || null } : null;
  }
  const vbri = offset + 4 + 32;
  if (ascii(bytes, vbri, 4) === 'VBRI' && vbri + 18 <= frameEnd) {
    // VBRI: id (4), version (2), delay (2), quality (2), bytes (4), frames (4)
    const frames = u32be(bytes, vbri + 14);
    return frames ? { frames, bytes: u32be(bytes, vbri + 10) || null } : null;
  }
  return null;
}

/** True if the first frame is a Xing/Info/VBRI header frame (carries no audio of its own). */
function isHeaderFrame(bytes: Uint8Array, offset: number, frame: FrameHeader): boolean {
  const tag = ascii(bytes, offset + 4 + sideInfoSize(frame), 4);
  return tag === 'Xing' || tag === 'Info' || ascii(bytes, offset + 36, 4) === 'VBRI';
}

/**
 * Sums frame durations from `start`. Returns null if the last frame runs past the end of the buffer (truncated).
 * Stops at the first non-frame bytes (e.g. an ID3v1 or APE tag at the end).
 */
function walkFrames(bytes: Uint8Array, start: number): number | null {
  let offset = start;
  let seconds = 0;
  for (let i = 0; i < MAX_WALKED_FRAMES; i++) {
    const frame = readFrameHeader(bytes, offset);
    if (!frame) return seconds;
    if (offset + frame.frameLength > bytes.length) return null;
    seconds += frame.samplesPerFrame / frame.sampleRate;
    offset += frame.frameLength;
  }
  // Bound reached: extrapolate over the remaining bytes at the average rate seen so far.
  return (seconds * (bytes.length - start)) / (offset - start);
}

export function probeMp3(bytes: Uint8Array): AudioProbe | null {
  const tagEnd = skipId3v2(bytes);
  if (tagEnd < 0) return null;
  const first = findFirstFrame(bytes, tagEnd, tagEnd > 0);
  if (first < 0) return null;
  const frame = readFrameHeader(bytes, first);
  if (!frame) return null;

  let durationSeconds: number | null;
  const firstFrameEnd = first + frame.frameLength;
  const vbr = readVbrHeader(bytes, first, frame);
  if (vbr) {
    // The header's byte count covers the stream from this frame on; fewer bytes than that means a cut-off file.
    const truncated = firstFrameEnd > bytes.length || (vbr.bytes !== null && vbr.bytes > bytes.length - first);
    durationSeconds = truncated ? null : (vbr.frames * frame.samplesPerFrame) / frame.sampleRate;
  } else {
    // A header frame without a usable frame count carries no audio: skip it, unless it is itself cut off.
    const headerFrame = isHeaderFrame(bytes, first, frame);
    if (headerFrame && firstFrameEnd > bytes.length) durationSeconds = null;
    else durationSeconds = walkFrames(bytes, headerFrame ? firstFrameEnd : first);
  }
  return { format: 'mp3', mimeType: AUDIO_MIME_TYPES.mp3, durationSeconds };
}
