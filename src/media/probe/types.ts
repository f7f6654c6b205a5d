export type AudioFormat = 'mp3' | 'wav' | 'ogg' | 'm4a';

export interface AudioProbe {
  format: AudioFormat;
  mimeType: string;
  /**
   * Duration of the audio in seconds, or null when the header was recognised but the duration could not be
   * established — typically because the input is truncated (its structure runs past the end of the bytes).
   */
  durationSeconds: number | null;
}

export interface VideoProbe {
  /** Display width and height in pixels (from the video track's `tkhd`). */
  width: number;
  height: number;
  durationSeconds: number;
  /** Average frame rate (samples per second of the video track), rounded to 3 decimals; null if unknown. */
  frameRate: number | null;
}

export const AUDIO_MIME_TYPES: Record<AudioFormat, string> = {
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  m4a: 'audio/mp4',
};
