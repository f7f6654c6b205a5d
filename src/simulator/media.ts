// The committed clips and thumbnails (media/README.md says how they were made) and what ffprobe said about them
// (media/manifest.json). Loaded once into memory (about 190 KB): the simulator serves them as job outputs.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const MEDIA_DIR = fileURLToPath(new URL('./media/', import.meta.url));

const ManifestSchema = z.object({
  clips: z.array(
    z.object({
      file: z.string(),
      thumbnail: z.string(),
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      duration: z.number().positive(),
      frameRate: z.number().positive(),
      nbFrames: z.number().int().positive(),
      codecName: z.string(),
    }),
  ),
});

export interface MediaFile {
  file: string;
  bytes: Buffer;
  sha256: string;
  mimeType: string;
}

export interface Clip extends MediaFile {
  width: number;
  height: number;
  duration: number;
  frameRate: number;
  nbFrames: number;
  codecName: string;
  thumbnail: MediaFile & { width: number; height: number };
}

export interface MediaLibrary {
  clips: Clip[];
  /** The clip of a Wan `size` (`1280*720`) and `duration` (5 | 10); null when there is none. */
  clipFor(size: string, duration: number): Clip | null;
}

function loadFile(file: string, mimeType: string): MediaFile {
  const bytes = readFileSync(MEDIA_DIR + file);
  return { file, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), mimeType };
}

/** Thumbnails are 480 px on their long side (see the README's scale filter). */
function thumbnailSize(width: number, height: number) {
  const scale = 480 / Math.max(width, height);
  const even = (n: number) => 2 * Math.round((n * scale) / 2);
  return { width: even(width), height: even(height) };
}

export function loadMediaLibrary(): MediaLibrary {
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(MEDIA_DIR + 'manifest.json', 'utf8')));
  const thumbnails = new Map<string, MediaFile>();
  const clips = manifest.clips.map((entry): Clip => {
    const thumbnail = thumbnails.get(entry.thumbnail) ?? loadFile(entry.thumbnail, 'image/jpeg');
    thumbnails.set(entry.thumbnail, thumbnail);
    return {
      ...entry,
      ...loadFile(entry.file, 'video/mp4'),
      thumbnail: { ...thumbnail, ...thumbnailSize(entry.width, entry.height) },
    };
  });
  return {
    clips,
    clipFor: (size, duration) =>
      clips.find((clip) => `${clip.width}*${clip.height}` === size && clip.duration === duration) ?? null,
  };
}
