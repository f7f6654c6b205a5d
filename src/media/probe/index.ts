export { AUDIO_MIME_TYPES, probeAudio, type AudioFormat, type AudioProbe } from './audio.ts';
export { probeMp4, probeMp4File, type VideoProbe } from './mp4.ts';
