import { readFileSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { probeAudio, type AudioFormat } from '../src/media/probe/audio.ts';
import { probeMp4, probeMp4File } from '../src/media/probe/mp4.ts';

const AUDIO_DIR = fileURLToPath(new URL('./fixtures/audio/', import.meta.url));
const VIDEO_DIR = fileURLToPath(new URL('./fixtures/video/', import.meta.url));

/** Durations measured with `ffprobe -show_entries format=duration` (see test/fixtures/audio/README.md). */
const AUDIO_FIXTURES: ReadonlyArray<{ file: string; format: AudioFormat; mimeType: string; ffprobeSeconds: number }> = [
  { file: 'tone-4s.wav', format: 'wav', mimeType: 'audio/wav', ffprobeSeconds: 4.0 },
  { file: 'tone-2s.wav', format: 'wav', mimeType: 'audio/wav', ffprobeSeconds: 2.0 },
  { file: 'tone-4s-cbr.mp3', format: 'mp3', mimeType: 'audio/mpeg', ffprobeSeconds: 4.049 },
  { file: 'tone-4s-vbr.mp3', format: 'mp3', mimeType: 'audio/mpeg', ffprobeSeconds: 4.075102 },
  { file: 'tone-4s-id3.mp3', format: 'mp3', mimeType: 'audio/mpeg', ffprobeSeconds: 4.04898 },
  { file: 'tone-40s.mp3', format: 'mp3', mimeType: 'audio/mpeg', ffprobeSeconds: 40.176 },
  { file: 'tone-4s-vorbis.ogg', format: 'ogg', mimeType: 'audio/ogg', ffprobeSeconds: 4.0 },
  // ffprobe reports the Opus pre-skip (312 samples) as part of the duration; the probe subtracts it (4.000 s).
  { file: 'tone-4s-opus.ogg', format: 'ogg', mimeType: 'audio/ogg', ffprobeSeconds: 4.0065 },
  { file: 'tone-4s.m4a', format: 'm4a', mimeType: 'audio/mp4', ffprobeSeconds: 4.0 },
];

/** Measured with `ffprobe -show_entries format=duration:stream=width,height,avg_frame_rate`. */
const VIDEO_FIXTURES = [
  { file: 'clip-faststart.mp4', moovFirst: true, width: 320, height: 180, durationSeconds: 2, frameRate: 24 },
  { file: 'clip-moov-at-end.mp4', moovFirst: false, width: 320, height: 180, durationSeconds: 2, frameRate: 24 },
  { file: 'clip-29.97fps.mp4', moovFirst: true, width: 320, height: 180, durationSeconds: 2.002, frameRate: 29.97 },
];

const audio = (file: string): Uint8Array => new Uint8Array(readFileSync(join(AUDIO_DIR, file)));
const video = (file: string): Uint8Array => new Uint8Array(readFileSync(join(VIDEO_DIR, file)));

/** Deterministic pseudo-random bytes (xorshift32), so failures are reproducible. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function concat(...parts: Array<Uint8Array | number[] | string>): Uint8Array {
  const arrays = parts.map((part) =>
    typeof part === 'string' ? new TextEncoder().encode(part) : part instanceof Uint8Array ? part : Uint8Array.from(part),
  );
  const out = new Uint8Array(arrays.reduce((sum, a) => sum + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

const u32le = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const u16le = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff];
const u32be = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** A PCM `fmt ` chunk: 8 kHz, mono, 8-bit (byte rate 8000). */
const FMT_8K_MONO_U8 = concat('fmt ', u32le(16), u16le(1), u16le(1), u32le(8000), u32le(8000), u16le(1), u16le(8));

/** Top-level MP4 boxes as [type, start, end] (test-side helper, independent of the implementation). */
function topLevelBoxes(bytes: Uint8Array): Array<{ type: string; start: number; end: number }> {
  const boxes = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = 0; offset + 8 <= bytes.length; ) {
    const size = view.getUint32(offset);
    const type = new TextDecoder('latin1').decode(bytes.subarray(offset + 4, offset + 8));
    boxes.push({ type, start: offset, end: offset + size });
    offset += size;
  }
  return boxes;
}

/** Cut points: the first header bytes one by one-ish, then fractions of the file, then the very end. */
function cutPoints(length: number): number[] {
  const points = [0, 1, 2, 3, 4, 5, 7, 8, 10, 11, 12, 16, 20, 24, 27, 28, 36, 40, 44, 48, 64, 100, 128, 200, 256, 512];
  for (let tenth = 1; tenth < 10; tenth++) points.push(Math.floor((length * tenth) / 10));
  points.push(length - 1000, length - 100, length - 2, length - 1);
  return [...new Set(points)].filter((n) => n >= 0 && n < length).sort((a, b) => a - b);
}

describe('probeAudio', () => {
  it.each(AUDIO_FIXTURES)('detects $file as $format with the ffprobe duration', ({ file, format, mimeType, ffprobeSeconds }) => {
    const result = probeAudio(audio(file));
    expect(result).not.toBeNull();
    expect(result?.format).toBe(format);
    expect(result?.mimeType).toBe(mimeType);
    expect(result?.durationSeconds).not.toBeNull();
    expect(Math.abs((result?.durationSeconds ?? NaN) - ffprobeSeconds)).toBeLessThanOrEqual(0.1);
  });

  it('keeps the fixture folder small', () => {
    const total = AUDIO_FIXTURES.reduce((sum, { file }) => sum + audio(file).length, 0);
    expect(total).toBeLessThan(600 * 1024);
  });

  it('returns null for empty input, a PNG header and random bytes', () => {
    expect(probeAudio(new Uint8Array(0))).toBeNull();
    const png = concat([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], u32be(13), 'IHDR', u32be(1), u32be(1), [8, 6, 0, 0, 0]);
    expect(probeAudio(png)).toBeNull();
    for (let seed = 1; seed <= 200; seed++) {
      expect(probeAudio(randomBytes(1 + ((seed * 37) % 5000), seed))).toBeNull();
    }
  });

  it('never throws on random bytes behind each magic number', () => {
    const prefixes = [
      concat('RIFF', u32le(100), 'WAVE'),
      concat('RIFF', u32le(100), 'WAVE', 'fmt ', u32le(16)),
      concat('OggS', [0, 2]),
      concat('ID3', [4, 0, 0, 0, 0, 0, 10]),
      Uint8Array.from([0xff, 0xfb, 0x10, 0xc4]),
      Uint8Array.from([0xff, 0xe3, 0x18, 0xc4]),
      concat(u32be(24), 'ftypM4A ', u32be(0), 'M4A isom'),
      concat(u32be(20), 'ftypisom', u32be(0), 'mp42'),
    ];
    for (const prefix of prefixes) {
      for (let seed = 1; seed <= 100; seed++) {
        const bytes = concat(prefix, randomBytes(seed * 13, seed));
        expect(() => probeAudio(bytes)).not.toThrow();
        const result = probeAudio(bytes);
        if (result?.durationSeconds != null) expect(Number.isFinite(result.durationSeconds)).toBe(true);
      }
    }
  });

  it.each(AUDIO_FIXTURES)('handles truncated copies of $file without throwing or overstating', ({ file, format, ffprobeSeconds }) => {
    const bytes = audio(file);
    for (const cut of cutPoints(bytes.length)) {
      const result = probeAudio(bytes.subarray(0, cut));
      if (result === null || result.durationSeconds === null) continue;
      // Recognised: same format, and never more audio than the bytes that are left can hold.
      expect(result.format, `cut at ${cut}`).toBe(format);
      expect(result.durationSeconds, `cut at ${cut}`).toBeLessThanOrEqual((ffprobeSeconds * cut) / bytes.length + 0.2);
    }
    // Losing even the last byte cuts a frame/page/chunk/box short, which every format notices.
    expect(probeAudio(bytes.subarray(0, bytes.length - 1))).toMatchObject({ format, durationSeconds: null });
  });

  it('does not loop or allocate on a WAV chunk claiming ~4 GiB', () => {
    const wav = concat('RIFF', u32le(0xffffffff), 'WAVE', FMT_8K_MONO_U8, 'JUNK', u32le(0xfffffff0), 'data', u32le(16), new Uint8Array(16));
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    expect(probeAudio(wav)).toEqual({ format: 'wav', mimeType: 'audio/wav', durationSeconds: null });
    expect(performance.now() - started).toBeLessThan(50);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('treats a WAV data chunk larger than the input as truncated', () => {
    const wav = concat('RIFF', u32le(0x7fffffff), 'WAVE', FMT_8K_MONO_U8, 'data', u32le(0x7fffffff), new Uint8Array(100));
    expect(probeAudio(wav)?.durationSeconds).toBeNull();
  });

  it('bounds the WAV chunk walk', () => {
    const junk = new Uint8Array(200_000 * 8); // 200 000 empty chunks before any data chunk
    for (let i = 0; i < junk.length; i += 8) junk.set([0x4a, 0x55, 0x4e, 0x4b], i); // 'JUNK', size 0
    const wav = concat('RIFF', u32le(0), 'WAVE', FMT_8K_MONO_U8, junk, 'data', u32le(8000), new Uint8Array(8000));
    const started = performance.now();
    expect(probeAudio(wav)).toEqual({ format: 'wav', mimeType: 'audio/wav', durationSeconds: null });
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('reads a streamed WAV (data size unknown) to the end of the input', () => {
    const wav = concat('RIFF', u32le(0xffffffff), 'WAVE', FMT_8K_MONO_U8, 'data', u32le(0xffffffff), new Uint8Array(12_000));
    expect(probeAudio(wav)?.durationSeconds).toBeCloseTo(1.5, 6);
  });

  it('walks chunks in any order (data before fmt)', () => {
    const wav = concat('RIFF', u32le(0), 'WAVE', 'data', u32le(24_000), new Uint8Array(24_000), FMT_8K_MONO_U8);
    expect(probeAudio(wav)?.durationSeconds).toBeCloseTo(3, 6);
  });

  it('rejects an ID3v2 tag that is not followed by MPEG audio, and one whose size runs past the input', () => {
    expect(probeAudio(concat('ID3', [4, 0, 0, 0, 0, 0, 4], new Uint8Array(4), randomBytes(2000, 7)))).toBeNull();
    expect(probeAudio(concat('ID3', [4, 0, 0, 0x7f, 0x7f, 0x7f, 0x7f], new Uint8Array(100)))).toBeNull();
  });

  it('bounds the MP3 frame walk and extrapolates past it', () => {
    // 150 000 MPEG-2.5 layer III frames, 8 kHz, 8 kbit/s, mono: 72 bytes and 0.072 s each (3 hours).
    const frame = new Uint8Array(72);
    frame.set([0xff, 0xe3, 0x18, 0xc4]);
    const frames = 150_000;
    const bytes = new Uint8Array(frame.length * frames);
    for (let i = 0; i < frames; i++) bytes.set(frame, i * frame.length);
    const started = performance.now();
    const result = probeAudio(bytes);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result?.format).toBe('mp3');
    expect(result?.durationSeconds).toBeCloseTo(frames * 0.072, 3);
  });

  it('ignores the file name entirely (works on bytes) and rejects MP4 video unless branded M4A', () => {
    const clip = video('clip-faststart.mp4');
    expect(probeAudio(clip)).toBeNull(); // brand isom with a video track
    const branded = clip.slice();
    branded.set(new TextEncoder().encode('M4A '), 8); // major brand
    expect(probeAudio(branded)).toEqual({ format: 'm4a', mimeType: 'audio/mp4', durationSeconds: 2 });
  });
});

describe('probeMp4 / probeMp4File', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'media-probe-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(VIDEO_FIXTURES)('reads $file (moov first: $moovFirst)', async ({ file, moovFirst, ...expected }) => {
    const bytes = video(file);
    expect(bytes.length).toBeLessThanOrEqual(60 * 1024);
    const types = topLevelBoxes(bytes).map((box) => box.type);
    expect(types.indexOf('moov') < types.indexOf('mdat')).toBe(moovFirst);

    expect(await probeMp4File(join(VIDEO_DIR, file))).toEqual(expected);
    expect(probeMp4(bytes)).toEqual(expected);
  });

  it('returns null for audio, non-MP4 files, directories and missing paths', async () => {
    expect(await probeMp4File(join(AUDIO_DIR, 'tone-4s.m4a'))).toBeNull(); // no video track
    expect(await probeMp4File(join(AUDIO_DIR, 'tone-4s.wav'))).toBeNull();
    expect(await probeMp4File(join(AUDIO_DIR, 'README.md'))).toBeNull();
    expect(await probeMp4File(AUDIO_DIR)).toBeNull();
    expect(await probeMp4File(join(dir, 'does-not-exist.mp4'))).toBeNull();
    expect(probeMp4(new Uint8Array(0))).toBeNull();
    expect(probeMp4(randomBytes(4096, 42))).toBeNull();
  });

  it.each(VIDEO_FIXTURES)('returns null for truncated copies of $file', async ({ file }) => {
    const bytes = video(file);
    const path = join(dir, `cut-${file}`);
    for (const cut of cutPoints(bytes.length)) {
      const copy = bytes.subarray(0, cut);
      await writeFile(path, copy);
      expect(await probeMp4File(path), `cut at ${cut}`).toBeNull();
      expect(probeMp4(copy), `cut at ${cut}`).toBeNull();
    }
  });

  it('reads only box headers and moov, even behind a 1 GiB mdat', async () => {
    const boxes = topLevelBoxes(video('clip-faststart.mp4'));
    const bytes = video('clip-faststart.mp4');
    const ftyp = boxes.find((box) => box.type === 'ftyp')!;
    const moov = boxes.find((box) => box.type === 'moov')!;
    const mdatSize = 2 ** 30 + 8;
    const path = join(dir, 'sparse.mp4');
    const handle = await open(path, 'w');
    try {
      // ftyp, then a sparse 1 GiB mdat (never written, so it costs no disk), then moov at the end.
      await handle.write(bytes.subarray(ftyp.start, ftyp.end), 0, ftyp.end - ftyp.start, 0);
      await handle.write(concat(u32be(mdatSize), 'mdat'), 0, 8, ftyp.end);
      await handle.write(bytes.subarray(moov.start, moov.end), 0, moov.end - moov.start, ftyp.end + mdatSize);
    } finally {
      await handle.close();
    }
    const started = performance.now();
    expect(await probeMp4File(path)).toEqual({ width: 320, height: 180, durationSeconds: 2, frameRate: 24 });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('rejects a moov box claiming an absurd 64-bit size without reading it', async () => {
    const path = join(dir, 'huge-moov.mp4');
    const largesize = [0, 0, 0x01, 0, 0, 0, 0, 0]; // 2^40 bytes
    await writeFile(path, concat(u32be(16), 'ftypisom', u32be(0), u32be(1), 'moov', largesize, new Uint8Array(64)));
    expect(await probeMp4File(path)).toBeNull();
  });
});
