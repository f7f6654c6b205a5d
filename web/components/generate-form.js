// The generate form: every parameter of generateVideo. The gateway checks the input (ValidationError) and its
// field errors are shown next to their fields; the page only catches what GraphQL cannot carry (a seed that is not
// a 32-bit integer). Each submission has an idempotency key, reused when the same request is sent again after a
// network failure, so a retry never starts (and bills) a second job.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { SIZES, formatBytes, formatSeconds } from '../lib/format.js';
import { messageOf } from '../lib/studio.js';
import { ApiError } from '../lib/graphql.js';
import { IconClose, IconMusic, IconSpark, IconUpload } from './icons.js';

const MAX_SEED = 2_147_483_647;
const MAX_AUDIO_BYTES = 15 * 1024 * 1024;
const AUDIO_ACCEPT = '.mp3,.wav,.ogg,.oga,.opus,.m4a,audio/mpeg,audio/wav,audio/x-wav,audio/ogg,audio/mp4,audio/x-m4a';

/** Which form field an input path names (`["input", "durationSeconds"]` → duration). */
const FIELD_OF_PATH = /** @type {Record<string, string>} */ ({
  prompt: 'prompt',
  negativePrompt: 'negativePrompt',
  size: 'size',
  durationSeconds: 'duration',
  seed: 'seed',
  enablePromptExpansion: 'expand',
  audioId: 'audio',
  file: 'audio',
});

/** Field order, for focusing the first one with an error. */
const FIELD_ORDER = ['prompt', 'negativePrompt', 'size', 'duration', 'seed', 'expand', 'audio'];

/** On one-column screens the live jobs are below the form: bring them into view once a job has started. */
function revealTray() {
  const tray = document.getElementById('tray-title');
  if (!tray || !window.matchMedia('(max-width: 900px)').matches) return;
  if (tray.getBoundingClientRect().top > window.innerHeight * 0.6) tray.scrollIntoView({ block: 'start', behavior: 'smooth' });
}

export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // Pages served over plain http from another host are not a secure context: no randomUUID there.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * @param {{ id: string, message?: string | null, children?: any }} props
 */
function FieldError({ id, message }) {
  return message ? html`<p class="field__error" id=${id} role="alert" data-testid=${id}>${message}</p>` : null;
}

/**
 * @param {{ value: number, max: number, id: string }} props
 */
function Counter({ value, max, id }) {
  const over = value - max;
  return html`<span class=${`counter ${over > 0 ? 'is-over' : value > max * 0.9 ? 'is-near' : ''}`} id=${id} data-testid=${id}>
    ${value} / ${max}${over > 0 ? html` · <strong>${over} over</strong>` : ''}
  </span>`;
}

/**
 * @param {{ studio: import('../lib/studio.js').Studio }} props
 */
export function GenerateForm({ studio }) {
  const { model, viewer, formPreset } = studio.state;
  const sizes = /** @type {Array<{ size: string, width: number, height: number }>} */ (model.sizes);
  const durations = /** @type {number[]} */ (model.durationsSeconds);
  const [prompt, setPrompt] = useState('');
  const [negativePrompt, setNegativePrompt] = useState('');
  const [size, setSize] = useState(sizes[0]?.size ?? 'LANDSCAPE_720P');
  const [duration, setDuration] = useState(durations[0] ?? 5);
  const [seed, setSeed] = useState('');
  const [expand, setExpand] = useState(true);
  /** @type {[any, (value: any) => void]} */
  const [audio, setAudio] = useState(null);
  const [uploading, setUploading] = useState(/** @type {string | null} */ (null));
  /** @type {[Record<string, string>, (value: Record<string, string>) => void]} */
  const [errors, setErrors] = useState({});
  const [submitting, setSubmitting] = useState(false);
  const lastAttempt = useRef(/** @type {{ fingerprint: string, key: string } | null} */ (null));
  const form = useRef(/** @type {HTMLFormElement | null} */ (null));
  const promptField = useRef(/** @type {HTMLTextAreaElement | null} */ (null));

  // "Generate again with this seed": the detail view hands over a job's parameters.
  useEffect(() => {
    if (!formPreset) return;
    const v = formPreset.values;
    if (v.prompt !== undefined) setPrompt(v.prompt);
    if (v.negativePrompt !== undefined) setNegativePrompt(v.negativePrompt ?? '');
    if (v.size) setSize(v.size);
    if (v.durationSeconds) setDuration(v.durationSeconds);
    if (v.seed !== undefined) setSeed(v.seed);
    if (v.enablePromptExpansion !== undefined) setExpand(v.enablePromptExpansion);
    if (v.audio !== undefined) setAudio(v.audio);
    setErrors({});
    form.current?.scrollIntoView({ block: 'start', behavior: 'smooth' });
    promptField.current?.focus({ preventScroll: true });
  }, [formPreset?.nonce]);

  /** An edited field's error goes away; the gateway checks it again at the next submit. @param {string} field */
  const edited = (field) => {
    if (errors[field] || errors.form) setErrors({ ...errors, [field]: '', form: '' });
  };

  /** @param {Record<string, string>} next */
  const showErrors = (next) => {
    setErrors(next);
    const first = FIELD_ORDER.find((field) => next[field]);
    if (!first) return;
    /** @type {HTMLElement | null | undefined} */
    const control = form.current?.querySelector(`[data-field="${first}"]`)?.querySelector('input, textarea, button');
    control?.focus();
  };

  /** @param {File | undefined | null} file */
  async function upload(file) {
    if (!file) return;
    setErrors({ ...errors, audio: '' });
    if (file.size > MAX_AUDIO_BYTES) {
      setErrors({ ...errors, audio: `The file is ${formatBytes(file.size)}; at most 15 MB is accepted.` });
      return;
    }
    setUploading(file.name);
    try {
      const result = await studio.uploadAudio(file);
      if (result.__typename === 'UploadAudioSuccess') {
        setAudio(result.audio);
      } else {
        const detail = result.fieldErrors?.map((/** @type {any} */ e) => e.message).join('; ');
        setErrors({ ...errors, audio: detail ? `${detail}` : result.message });
      }
    } catch (error) {
      setErrors({ ...errors, audio: messageOf(error) });
    } finally {
      setUploading(null);
    }
  }

  /** @param {Event} [event] */
  async function submit(event) {
    event?.preventDefault();
    if (submitting) return;
    /** @type {Record<string, string>} */
    const problems = {};
    let seedValue = null;
    const seedText = seed.trim();
    if (seedText !== '') {
      if (!/^-?\d+$/.test(seedText)) problems.seed = 'must be a whole number (or empty for a random seed)';
      else if (Math.abs(Number(seedText)) > MAX_SEED) problems.seed = `must be an integer from 0 to ${MAX_SEED}`;
      else seedValue = Number(seedText);
    }
    if (Object.keys(problems).length > 0) return showErrors(problems);

    const input = {
      prompt,
      negativePrompt: negativePrompt.trim() ? negativePrompt : null,
      size,
      durationSeconds: duration,
      enablePromptExpansion: expand,
      seed: seedValue,
      audioId: audio?.id ?? null,
    };
    const fingerprint = JSON.stringify(input);
    const key = lastAttempt.current?.fingerprint === fingerprint ? lastAttempt.current.key : newIdempotencyKey();
    lastAttempt.current = { fingerprint, key };
    setSubmitting(true);
    setErrors({});
    try {
      const result = await studio.generate({ ...input, idempotencyKey: key });
      // Answered: a new request (even with the same parameters) is a new job from now on.
      lastAttempt.current = null;
      switch (result.__typename) {
        case 'GenerateVideoSuccess':
          studio.toast(result.deduplicated ? 'That request was already accepted: showing its job.' : 'Started: follow it live in “Live jobs”.', 'info', result.job.id);
          revealTray();
          break;
        case 'ValidationError': {
          /** @type {Record<string, string>} */
          const found = {};
          for (const fieldError of result.fieldErrors) {
            const field = FIELD_OF_PATH[fieldError.path[fieldError.path.length - 1]] ?? 'form';
            // A field the form does not show is named in the message under the form.
            const message = field === 'form' ? `${fieldError.path.slice(1).join('.')} ${fieldError.message}` : fieldError.message;
            found[field] = found[field] ? `${found[field]}; ${message}` : message;
          }
          showErrors(found);
          break;
        }
        case 'QuotaExceededError':
          showErrors({
            form: `You have ${result.limit} unfinished jobs, the most allowed at once. ${
              result.quotaRetryAfterSeconds ? `Try again in about ${result.quotaRetryAfterSeconds} s.` : 'Wait for one to finish, or cancel one that is waiting.'
            }`,
          });
          break;
        case 'RateLimitedError':
          showErrors({ form: `Too many jobs started in the last minute. Try again in ${result.retryAfterSeconds} s.` });
          break;
        case 'NotFoundError':
          setAudio(null);
          showErrors({ audio: 'That audio file is no longer available. Upload it again.' });
          break;
        default:
          showErrors({ form: result.message });
      }
    } catch (error) {
      // Not answered (network, server error): the same request may be sent again with the same key.
      if (error instanceof ApiError && error.kind === 'unauthenticated') lastAttempt.current = null;
      showErrors({ form: messageOf(error) });
    } finally {
      setSubmitting(false);
      void studio.refreshViewer();
    }
  }

  /** @param {KeyboardEvent} event */
  const onKeyDown = (event) => {
    if (event.key === 'Enter' && (event.metaKey || event.ctrlKey)) void submit(event);
  };

  const active = studio.activeCount();
  const atLimit = active >= viewer.maxActiveJobs;

  return html`<form class="panel compose" ref=${form} onSubmit=${submit} onKeyDown=${onKeyDown} novalidate aria-labelledby="compose-title">
    <h2 id="compose-title" class="compose__title"><${IconSpark} /> Create a video</h2>

    <div class="field" data-field="prompt">
      <label for="prompt" class="field__label">Prompt</label>
      <textarea
        id="prompt"
        name="prompt"
        ref=${promptField}
        rows="5"
        placeholder="A red fox running through fresh snow at dawn, cinematic, shallow depth of field"
        value=${prompt}
        onInput=${(/** @type {any} */ e) => {
          setPrompt(e.currentTarget.value);
          edited('prompt');
        }}
        aria-invalid=${errors.prompt ? 'true' : undefined}
        aria-describedby=${`prompt-count${errors.prompt ? ' prompt-error' : ''}`}
      ></textarea>
      <div class="field__foot">
        <${FieldError} id="prompt-error" message=${errors.prompt} />
        <${Counter} id="prompt-count" value=${prompt.length} max=${model.maxPromptLength} />
      </div>
    </div>

    <div class="field" data-field="negativePrompt">
      <label for="negative-prompt" class="field__label">Negative prompt <span class="optional">optional</span></label>
      <textarea
        id="negative-prompt"
        name="negativePrompt"
        rows="2"
        placeholder="What to avoid: blur, text, watermark"
        value=${negativePrompt}
        onInput=${(/** @type {any} */ e) => {
          setNegativePrompt(e.currentTarget.value);
          edited('negativePrompt');
        }}
        aria-invalid=${errors.negativePrompt ? 'true' : undefined}
        aria-describedby=${`negative-count${errors.negativePrompt ? ' negativePrompt-error' : ''}`}
      ></textarea>
      <div class="field__foot">
        <${FieldError} id="negativePrompt-error" message=${errors.negativePrompt} />
        <${Counter} id="negative-count" value=${negativePrompt.length} max=${model.maxNegativePromptLength} />
      </div>
    </div>

    <fieldset class="field" data-field="size" aria-describedby=${errors.size ? 'size-error' : undefined}>
      <legend class="field__label">Size</legend>
      <div class="size-grid">
        ${sizes.map((option) => {
          const info = SIZES[option.size] ?? { aspect: '', quality: option.size, portrait: option.height > option.width };
          return html`<label class="size-tile" key=${option.size} title=${`${option.width}×${option.height}`}>
            <input
              type="radio"
              class="visually-hidden"
              name="size"
              value=${option.size}
              checked=${size === option.size}
              onChange=${() => {
                setSize(option.size);
                edited('size');
              }}
              aria-label=${`${info.aspect || ''} ${info.quality} (${option.width}×${option.height})`}
            />
            <span class="size-tile__frame" aria-hidden="true">
              <span class=${`size-tile__shape ${info.portrait ? 'is-portrait' : ''}`}></span>
            </span>
            <span class="size-tile__label" aria-hidden="true">${info.aspect}</span>
            <span class="size-tile__sub" aria-hidden="true">${info.quality}</span>
          </label>`;
        })}
      </div>
      <${FieldError} id="size-error" message=${errors.size} />
    </fieldset>

    <div class="field-row">
      <fieldset class="field" data-field="duration" aria-describedby=${errors.duration ? 'duration-error' : undefined}>
        <legend class="field__label">Duration</legend>
        <div class="segmented">
          ${durations.map(
            (d) => html`<label key=${d} class="segmented__option">
              <input type="radio" class="visually-hidden" name="duration" value=${d} checked=${duration === d} onChange=${() => {
                setDuration(d);
                edited('duration');
              }} />
              <span>${d} s</span>
            </label>`,
          )}
        </div>
        <${FieldError} id="duration-error" message=${errors.duration} />
      </fieldset>

      <div class="field" data-field="seed">
        <label for="seed" class="field__label">Seed</label>
        <input
          id="seed"
          name="seed"
          type="text"
          inputmode="numeric"
          autocomplete="off"
          placeholder="Random"
          value=${seed}
          onInput=${(/** @type {any} */ e) => {
            setSeed(e.currentTarget.value);
            edited('seed');
          }}
          aria-invalid=${errors.seed ? 'true' : undefined}
          aria-describedby=${errors.seed ? 'seed-error seed-help' : 'seed-help'}
        />
        <p class="field__help" id="seed-help">Empty for a random one.</p>
        <${FieldError} id="seed-error" message=${errors.seed} />
      </div>
    </div>

    <div class="field field--switch" data-field="expand">
      <label class="switch">
        <input
          type="checkbox"
          role="switch"
          name="enablePromptExpansion"
          checked=${expand}
          onChange=${(/** @type {any} */ e) => setExpand(e.currentTarget.checked)}
          aria-describedby="expand-help"
        />
        <span class="switch__track" aria-hidden="true"><span class="switch__thumb"></span></span>
        <span class="field__label">Prompt expansion</span>
      </label>
      <p class="field__help" id="expand-help">The model rewrites a short prompt into a richer one before generating.</p>
      <${FieldError} id="expand-error" message=${errors.expand} />
    </div>

    <div class="field" data-field="audio">
      <span class="field__label" id="audio-label">Audio <span class="optional">optional</span></span>
      ${audio
        ? html`<div class="audio-chip" data-testid="audio-chip">
            <${IconMusic} />
            <span class="audio-chip__name" title=${audio.fileName}>${audio.fileName}</span>
            <span class="audio-chip__meta" data-testid="audio-duration">${formatSeconds(audio.durationSeconds) || 'length unknown'}${audio.byteSize ? ` · ${formatBytes(audio.byteSize)}` : ''}</span>
            ${audio.url ? html`<audio class="audio-chip__player" controls preload="none" src=${audio.url}></audio>` : ''}
            <button type="button" class="icon-btn" onClick=${() => setAudio(null)} aria-label="Remove the audio">
              <${IconClose} />
            </button>
          </div>`
        : html`<div class=${`dropzone ${uploading ? 'is-busy' : ''}`}>
            <input
              type="file"
              name="audio"
              accept=${AUDIO_ACCEPT}
              aria-labelledby="audio-label"
              aria-describedby=${errors.audio ? 'audio-error audio-help' : 'audio-help'}
              disabled=${Boolean(uploading)}
              onChange=${(/** @type {any} */ e) => {
                const file = e.currentTarget.files?.[0];
                e.currentTarget.value = '';
                void upload(file);
              }}
            />
            <${IconUpload} />
            <span id="audio-help">${uploading ? `Uploading ${uploading}…` : html`Drop a file or <u>choose one</u><br /><small>mp3, wav, ogg or m4a · 3 to 30 s · up to 15 MB</small>`}</span>
          </div>`}
      <${FieldError} id="audio-error" message=${errors.audio} />
    </div>

    ${errors.form ? html`<p class="form-error" role="alert" data-testid="form-error">${errors.form}</p>` : ''}

    <div class="compose__submit">
      <button type="submit" class="btn btn--primary btn--large" disabled=${submitting || Boolean(uploading)} aria-describedby="quota-line">
        ${submitting ? html`<span class="spinner" aria-hidden="true"></span> Starting…` : 'Generate video'}
      </button>
      <p class="compose__quota" id="quota-line" aria-live="polite">
        <span class=${atLimit ? 'is-warn' : ''}>${active} of ${viewer.maxActiveJobs} unfinished jobs</span>
        <kbd>Ctrl</kbd>+<kbd>Enter</kbd>
      </p>
    </div>
  </form>`;
}
