/**
 * Video probe for MP4 / MOV files: dimensions, duration and frame rate, read from the `moov` box only.
 *
 * From a path, only the top-level box headers and the `moov` box are read (with positioned FileHandle reads),
 * whether `moov` sits at the start of the file (faststart) or at the end. Everything is bounded and any
 * malformed, truncated or unsupported input yields null instead of an exception.
 */
import { open, type FileHandle } from 'node:fs/promises';

import { fits, u16be, u32be, u8 } from './bytes.ts';
import {
  type BoxHeader,
  MAX_SIBLING_BOXES,
  findChild,
  findPath,
  movieDurationSeconds,
  payloadStart,
  readBoxHeader,
  readTimeHeader,
  scanTopLevel,
  tracks,
} from './isobmff.ts';
import type { VideoProbe } from './types.ts';

export type { VideoProbe } from './types.ts';

/** `moov` holds sample tables; even hours of video stay far below this. Larger claims are treated as bogus. */
export const MAX_MOOV_BYTES = 64 * 1024 * 1024;

/** Probes an MP4 held in memory. Returns null unless it has a complete `moov` with a video track. */
export function probeMp4(bytes: Uint8Array): VideoProbe | null {
  try {
    const { boxes, truncated } = scanTopLevel(bytes);
    const moov = boxes.find((box) => box.type === 'moov');
    if (truncated || !moov || moov.size > MAX_MOOV_BYTES) return null;
    return parseMoov(bytes.subarray(moov.start, moov.end));
  } catch {
    return null;
  }
}

/** Up to `length` bytes from `position` of what is probed. */
export type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

/**
 * Probes an MP4 of `size` bytes through `readAt`, reading only box headers and the `moov` box (a stored video is
 * never read whole). Returns null if it cannot be read, is not an MP4 with a video track, or is truncated (a top-level
 * box runs past the end).
 */
export async function probeMp4Ranges(size: number, readAt: ReadAt): Promise<VideoProbe | null> {
  try {
    let moov: Uint8Array | null = null;
    let offset = 0;
    // Walk every top-level box header (not just up to moov) so that a cut-off mdat is noticed.
    for (let i = 0; i < MAX_SIBLING_BOXES && offset < size; i++) {
      const head = await readAt(offset, Math.min(16, size - offset));
      const box = readBoxHeader(head, 0, size - offset);
      if (!box) {
        // Fewer than 8 bytes left means a cut-off header; anything longer is trailing junk we can ignore.
        if (size - offset < 8) return null;
        break;
      }
      if (offset + box.size > size) return null;
      if (box.type === 'moov') {
        if (moov || box.size > MAX_MOOV_BYTES) return null;
        moov = await readAt(offset, box.size);
        if (moov.length !== box.size) return null;
      }
      offset += box.size;
    }
    return moov ? parseMoov(moov) : null;
  } catch {
    return null;
  }
}

/** Probes an MP4 file on disk (see probeMp4Ranges). */
export async function probeMp4File(path: string): Promise<VideoProbe | null> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const file = handle;
    return await probeMp4Ranges((await file.stat()).size, async (position, length) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      return buffer.subarray(0, bytesRead);
    });
  } catch {
    return null;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Parses a complete `moov` box (its header at offset 0 of `bytes`). */
function parseMoov(bytes: Uint8Array): VideoProbe | null {
  const moov = readBoxHeader(bytes, 0, bytes.length);
  if (!moov || moov.type !== 'moov' || moov.end > bytes.length) return null;

  let video: BoxHeader | null = null;
  for (const { trak, handler } of tracks(bytes, moov)) {
    if (handler === 'vide') {
      video = trak;
      break;
    }
  }
  if (!video) return null;

  const size = trackDimensions(bytes, video);
  if (!size) return null;

  const timing = trackTiming(bytes, video);
  const durationSeconds = movieDurationSeconds(bytes, moov) ?? timing?.durationSeconds ?? null;
  if (durationSeconds === null || !(durationSeconds > 0)) return null;

  return { width: size.width, height: size.height, durationSeconds, frameRate: timing?.frameRate ?? null };
}

/** Width and height from `tkhd` (16.16 fixed point), falling back to the visual sample entry in `stsd`. */
function trackDimensions(bytes: Uint8Array, trak: BoxHeader): { width: number; height: number } | null {
  const tkhd = findChild(bytes, trak, 'tkhd');
  if (tkhd) {
    const p = payloadStart(tkhd);
    const version = u8(bytes, p);
    // After version/flags: times, track id, reserved, duration (20 bytes in v0, 32 in v1), then reserved (8),
    // layer, alternate group, volume, reserved (2 each) and the 3x3 matrix (36) precede width and height.
    const at = p + 4 + (version === 1 ? 32 : 20) + 8 + 8 + 36;
    if (version <= 1 && at + 8 <= tkhd.end && fits(bytes, at, 8)) {
      const width = Math.round(u32be(bytes, at) / 65536);
      const height = Math.round(u32be(bytes, at + 4) / 65536);
      if (width > 0 && height > 0) return { width, height };
    }
  }
  const stsd = findPath(bytes, trak, ['mdia', 'minf', 'stbl', 'stsd']);
  if (stsd) {
    // stsd: version/flags (4), entry count (4), then the first sample entry. A visual sample entry has its
    // 8-byte box header, 6 reserved, data reference index (2), 16 bytes of pre-defined/reserved, width, height.
    const entry = payloadStart(stsd) + 8;
    const at = entry + 8 + 6 + 2 + 16;
    if (at + 4 <= stsd.end && fits(bytes, at, 4)) {
      const width = u16be(bytes, at);
      const height = u16be(bytes, at + 2);
      if (width > 0 && height > 0) return { width, height };
    }
  }
  return null;
}

/** Frame rate (sample count over the summed `stts` deltas) and the track's own duration, in the `mdhd` timescale. */
function trackTiming(bytes: Uint8Array, trak: BoxHeader): { frameRate: number | null; durationSeconds: number | null } | null {
  const mdia = findChild(bytes, trak, 'mdia');
  const mdhd = mdia ? findChild(bytes, mdia, 'mdhd') : null;
  const time = mdhd ? readTimeHeader(bytes, mdhd) : null;
  if (!mdia || !time) return null;

  let frameRate: number | null = null;
  let sttsSeconds: number | null = null;
  const stts = findPath(bytes, mdia, ['minf', 'stbl', 'stts']);
  if (stts) {
    const p = payloadStart(stts);
    const declared = u32be(bytes, p + 4);
    const firstEntry = p + 8;
    // Never trust the declared count beyond what the box (and buffer) can actually hold.
    const fitting = Math.floor((Math.min(stts.end, bytes.length) - firstEntry) / 8);
    const entries = Math.max(0, Math.min(declared, fitting));
    let samples = 0;
    let ticks = 0;
    for (let i = 0; i < entries; i++) {
      const count = u32be(bytes, firstEntry + i * 8);
      const delta = u32be(bytes, firstEntry + i * 8 + 4);
      samples += count;
      ticks += count * delta;
    }
    if (samples > 0 && ticks > 0) {
      frameRate = Math.round(((samples * time.timescale) / ticks) * 1000) / 1000;
      sttsSeconds = ticks / time.timescale;
    }
  }
  const durationSeconds = time.duration !== null ? time.duration / time.timescale : sttsSeconds;
  return { frameRate, durationSeconds };
}
