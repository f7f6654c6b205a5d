/**
 * Minimal ISO base media file format (MP4 / M4A / MOV) box reading, shared by the audio and video probes.
 * Only box headers and a handful of small full boxes are interpreted; nothing is allocated from declared sizes.
 */
import { ascii, fits, u32be, u64be, u8 } from './bytes.ts';

/** A box located in some buffer. `end` is the declared end and may lie beyond the buffer when the input is truncated. */
export interface BoxHeader {
  type: string;
  start: number;
  headerSize: number;
  size: number;
  end: number;
}

/** No sane file has more boxes than this at one level; it bounds every walk over siblings. */
export const MAX_SIBLING_BOXES = 4096;

/** Box types are four printable characters (Apple's metadata boxes also use '©'). */
function isPlausibleType(type: string): boolean {
  if (type.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const c = type.charCodeAt(i);
    if ((c < 0x20 || c > 0x7e) && c !== 0xa9) return false;
  }
  return true;
}

/**
 * Reads the box header at `offset`. `regionEnd` is the end of the enclosing region (the parent box, or the
 * whole file), used for boxes of size 0 ("extends to the end"). Returns null if the header itself does not
 * fit in `bytes` or is invalid. The returned `end` is NOT checked against `bytes.length` or `regionEnd`.
 */
export function readBoxHeader(bytes: Uint8Array, offset: number, regionEnd: number): BoxHeader | null {
  if (!fits(bytes, offset, 8)) return null;
  const type = ascii(bytes, offset + 4, 4);
  if (!isPlausibleType(type)) return null;
  let size = u32be(bytes, offset);
  let headerSize = 8;
  if (size === 1) {
    if (!fits(bytes, offset + 8, 8)) return null;
    size = u64be(bytes, offset + 8);
    headerSize = 16;
    if (!Number.isSafeInteger(size)) return null;
  } else if (size === 0) {
    size = regionEnd - offset;
  }
  if (size < headerSize) return null;
  return { type, start: offset, headerSize, size, end: offset + size };
}

/** The children of `parent` (or of the payload range given), stopping at the first malformed or overrunning child. */
export function* childBoxes(bytes: Uint8Array, start: number, end: number): Generator<BoxHeader> {
  const limit = Math.min(end, bytes.length);
  let offset = start;
  for (let i = 0; i < MAX_SIBLING_BOXES && offset + 8 <= limit; i++) {
    const box = readBoxHeader(bytes, offset, limit);
    if (!box || box.end > limit) return;
    yield box;
    offset = box.end;
  }
}

export function payloadStart(box: BoxHeader): number {
  return box.start + box.headerSize;
}

export function findChild(bytes: Uint8Array, parent: BoxHeader, type: string): BoxHeader | null {
  for (const child of childBoxes(bytes, payloadStart(parent), parent.end)) {
    if (child.type === type) return child;
  }
  return null;
}

/** Follows a path of box types down from `parent`, taking the first match at each level. */
export function findPath(bytes: Uint8Array, parent: BoxHeader, path: readonly string[]): BoxHeader | null {
  let current: BoxHeader | null = parent;
  for (const type of path) {
    if (!current) return null;
    current = findChild(bytes, current, type);
  }
  return current;
}

export interface TopLevelScan {
  boxes: BoxHeader[];
  /** A top-level box declares more bytes than the buffer holds: the input was cut short. */
  truncated: boolean;
}

/** Walks the top-level boxes of a whole file held in memory. Stops quietly at trailing bytes that are not a box. */
export function scanTopLevel(bytes: Uint8Array): TopLevelScan {
  const boxes: BoxHeader[] = [];
  let offset = 0;
  for (let i = 0; i < MAX_SIBLING_BOXES && offset + 8 <= bytes.length; i++) {
    const box = readBoxHeader(bytes, offset, bytes.length);
    if (!box) break;
    if (box.end > bytes.length) return { boxes, truncated: true };
    boxes.push(box);
    offset = box.end;
  }
  // A partial box header at the very end also means the file was cut.
  return { boxes, truncated: offset < bytes.length && offset + 8 > bytes.length && boxes.length > 0 };
}

export interface TimeHeader {
  timescale: number;
  /** Duration in timescale units, or null when unknown (0 or all ones). */
  duration: number | null;
}

/**
 * Timescale and duration of an `mvhd` or `mdhd` box: both start with creation time, modification time,
 * timescale and duration (32-bit times in version 0, 64-bit in version 1).
 */
export function readTimeHeader(bytes: Uint8Array, box: BoxHeader): TimeHeader | null {
  const p = payloadStart(box);
  const version = u8(bytes, p);
  const needed = version === 1 ? 32 : 20;
  if (version > 1 || p + needed > box.end || !fits(bytes, p, needed)) return null;
  const timescale = version === 1 ? u32be(bytes, p + 20) : u32be(bytes, p + 12);
  const raw = version === 1 ? u64be(bytes, p + 24) : u32be(bytes, p + 16);
  const unknown = raw === 0 || !Number.isSafeInteger(raw) || (version === 0 && raw === 0xffffffff);
  if (timescale === 0) return null;
  return { timescale, duration: unknown ? null : raw };
}

/** Duration of a fragmented file from `moov/mvex/mehd`, in the movie timescale. */
export function readFragmentDuration(bytes: Uint8Array, moov: BoxHeader): number | null {
  const mehd = findPath(bytes, moov, ['mvex', 'mehd']);
  if (!mehd) return null;
  const p = payloadStart(mehd);
  const version = u8(bytes, p);
  const needed = version === 1 ? 12 : 8;
  if (p + needed > mehd.end || !fits(bytes, p, needed)) return null;
  const raw = version === 1 ? u64be(bytes, p + 4) : u32be(bytes, p + 4);
  return raw > 0 && Number.isSafeInteger(raw) ? raw : null;
}

/** Movie duration in seconds from `mvhd`, falling back to `mvex/mehd` for fragmented files. */
export function movieDurationSeconds(bytes: Uint8Array, moov: BoxHeader): number | null {
  const mvhd = findChild(bytes, moov, 'mvhd');
  const header = mvhd ? readTimeHeader(bytes, mvhd) : null;
  if (!header) return null;
  const duration = header.duration ?? readFragmentDuration(bytes, moov);
  return duration === null ? null : duration / header.timescale;
}

/** The handler type of a `trak` ('vide', 'soun', 'text', ...), from `mdia/hdlr`. */
export function trackHandler(bytes: Uint8Array, trak: BoxHeader): string | null {
  const hdlr = findPath(bytes, trak, ['mdia', 'hdlr']);
  if (!hdlr) return null;
  const p = payloadStart(hdlr);
  // version/flags (4), pre_defined (4), handler_type (4)
  if (p + 12 > hdlr.end || !fits(bytes, p, 12)) return null;
  return ascii(bytes, p + 8, 4);
}

export function* tracks(bytes: Uint8Array, moov: BoxHeader): Generator<{ trak: BoxHeader; handler: string | null }> {
  for (const child of childBoxes(bytes, payloadStart(moov), moov.end)) {
    if (child.type === 'trak') yield { trak: child, handler: trackHandler(bytes, child) };
  }
}
