// The detail view of one job (a modal dialog at #/jobs/<id>, so a reload or a shared tab opens it again): the video
// from its gateway URL (seeking uses Range requests), parameters, the event timeline (live, over jobUpdated), cost,
// download, "generate again with this seed", cancel and delete.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { closeJob, useNow } from '../lib/hooks.js';
import {
  SIZES,
  STATUS,
  elapsedSeconds,
  etaLeft,
  formatBytes,
  formatClock,
  formatCost,
  formatDateTime,
  formatSeconds,
  formatSpan,
  formatTime,
  isTerminal,
} from '../lib/format.js';
import { messageOf } from '../lib/studio.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { JobMedia, StatusPill, statusLine } from './job-card.js';
import { IconAlert, IconClose, IconCopy, IconDownload, IconRepeat, IconStop, IconTrash } from './icons.js';

/** @typedef {import('../lib/jobs.js').Job} Job */

/** @param {unknown} error */
function isNotFound(error) {
  const list = Array.isArray(error) ? error : [error];
  return list.some((e) => typeof e === 'object' && e !== null && /** @type {any} */ (e).extensions?.code === 'NOT_FOUND');
}

/**
 * @param {{ label: string, children?: any, testid?: string }} props
 */
const Row = ({ label, children, testid }) => html`<div class="dl__row"><dt>${label}</dt><dd data-testid=${testid}>${children}</dd></div>`;

/**
 * @param {{ studio: import('../lib/studio.js').Studio, jobId: string }} props
 */
export function JobDetail({ studio, jobId }) {
  const dialog = useRef(/** @type {HTMLDialogElement | null} */ (null));
  const [missing, setMissing] = useState(false);
  const [streamError, setStreamError] = useState(/** @type {string | null} */ (null));
  const [cancelBusy, setCancelBusy] = useState(false);
  const [refusal, setRefusal] = useState(/** @type {string | null} */ (null));
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [actionError, setActionError] = useState(/** @type {string | null} */ (null));
  const [copied, setCopied] = useState(false);
  const job = studio.cache.get(jobId);
  const active = job ? !isTerminal(job.status) : false;
  const now = useNow(1000, active);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);

  // jobUpdated: the job as it is now, then each change (with its events) until it ends.
  useEffect(() => {
    setMissing(false);
    setStreamError(null);
    setRefusal(null);
    return studio.watchJob(jobId, (error) => {
      if (isNotFound(error)) setMissing(true);
      else setStreamError(messageOf(Array.isArray(error) ? error[0] : error));
    });
  }, [jobId, studio]);

  const close = () => dialog.current?.close();

  async function cancel() {
    setCancelBusy(true);
    setRefusal(null);
    setActionError(null);
    try {
      const outcome = await studio.cancel(jobId);
      if (outcome.ok) studio.toast('Job canceled: nothing was sent upstream, nothing is billed.', 'info');
      else setRefusal(outcome.message);
    } catch (error) {
      setActionError(messageOf(error));
    } finally {
      setCancelBusy(false);
    }
  }

  async function remove() {
    setDeleting(true);
    setActionError(null);
    try {
      const outcome = await studio.deleteJob(jobId);
      if (outcome.ok) {
        setConfirming(false);
        studio.toast('Deleted, with its stored files.', 'info');
        close();
      } else {
        setConfirming(false);
        setActionError(outcome.message);
      }
    } catch (error) {
      setConfirming(false);
      setActionError(messageOf(error));
    } finally {
      setDeleting(false);
    }
  }

  function generateAgain() {
    if (!job) return;
    studio.fillForm({
      prompt: job.prompt,
      negativePrompt: job.negativePrompt ?? '',
      size: job.size,
      durationSeconds: job.durationSeconds,
      seed: job.seed == null ? '' : String(job.seed),
      enablePromptExpansion: job.enablePromptExpansion,
      audio: job.audio ? { ...job.audio } : null,
    });
    studio.toast(`The form has this job’s parameters and seed ${job.seed ?? ''}. Change anything, then Generate.`, 'info');
    close();
  }

  async function copySeed() {
    if (job?.seed == null) return;
    try {
      await navigator.clipboard.writeText(String(job.seed));
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // no clipboard permission: the seed is on screen to copy by hand
    }
  }

  const video = job?.videos?.[0];
  const size = job ? SIZES[job.size] : undefined;
  const eta = job && active ? etaLeft(job, now) : null;
  const events = [...(job?.events ?? [])].sort((a, b) => b.seq - a.seq);

  return html`<dialog
    class="detail"
    ref=${dialog}
    aria-labelledby="detail-title"
    data-testid="detail"
    onClose=${() => closeJob()}
    onClick=${(/** @type {MouseEvent} */ e) => {
      if (e.target === dialog.current) close();
    }}
  >
    <div class="detail__inner">
      <header class="detail__head">
        ${job ? html`<${StatusPill} status=${job.status} />` : ''}
        <h2 id="detail-title" class="detail__title">${job ? job.prompt : missing ? 'Job not found' : 'Loading…'}</h2>
        <button type="button" class="icon-btn" onClick=${close} aria-label="Close"><${IconClose} /></button>
      </header>

      ${missing && !job
        ? html`<div class="state state--error" role="alert">
            <${IconAlert} />
            <p>This job does not exist, or it was deleted.</p>
            <button type="button" class="btn" onClick=${close}>Back to the studio</button>
          </div>`
        : !job
          ? html`<div class="detail__loading"><span class="spinner" aria-hidden="true"></span> Loading the job…</div>`
          : html`<div class="detail__grid">
              <div class="detail__media">
                <div class=${`player ${size?.portrait ? 'is-portrait' : ''}`}>
                  ${job.status === 'SUCCEEDED' && video
                    ? html`<video
                        key=${video.id}
                        class="player__video"
                        controls
                        playsinline
                        preload="metadata"
                        poster=${video.thumbnailUrl ?? undefined}
                        src=${video.url}
                        data-testid="player"
                      ></video>`
                    : html`<div class="media player__placeholder"><${JobMedia} job=${job} /></div>`}
                </div>
                ${active
                  ? html`<div class="detail__live">
                      <div class="progress progress--large" role="progressbar" aria-label="Progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(job.progress * 100)}>
                        <span class="progress__bar" style=${{ transform: `scaleX(${job.progress})` }}></span>
                      </div>
                      <p class="detail__live-line">
                        <span>${statusLine(job, now)}</span>
                        <span>${eta != null ? `~${formatSpan(eta)} left · ` : ''}${formatClock(elapsedSeconds(job, now))} elapsed</span>
                      </p>
                    </div>`
                  : ''}
                <div class="detail__actions">
                  ${job.status === 'SUCCEEDED' && video
                    ? html`<a class="btn btn--primary" href=${video.url} download=${`video-${job.seed ?? job.id}.mp4`} data-testid="download">
                        <${IconDownload} /> Download
                      </a>`
                    : ''}
                  <button type="button" class="btn" onClick=${generateAgain} data-testid="generate-again">
                    <${IconRepeat} /> Generate again with this seed
                  </button>
                  ${active
                    ? html`<button type="button" class="btn btn--warn" onClick=${cancel} disabled=${cancelBusy} data-testid="cancel">
                        ${cancelBusy ? html`<span class="spinner" aria-hidden="true"></span>` : html`<${IconStop} />`} Cancel job
                      </button>`
                    : html`<button type="button" class="btn btn--danger-ghost" onClick=${() => setConfirming(true)} data-testid="delete">
                        <${IconTrash} /> Delete
                      </button>`}
                </div>
                ${refusal
                  ? html`<div class="notice notice--warn" role="alert" data-testid="cancel-refused">
                      <${IconAlert} />
                      <div>
                        <p><strong>This job cannot be canceled.</strong> ${refusal}</p>
                        <p class="muted">
                          Wan jobs can be canceled only while they wait in the gateway’s own queue (“Waiting”), before
                          anything is sent. Once Scenario has the job it runs to the end, and its cost is charged.
                        </p>
                      </div>
                    </div>`
                  : ''}
                ${actionError ? html`<p class="form-error" role="alert">${actionError}</p>` : ''}
                ${streamError ? html`<p class="muted small" role="status">Live updates paused: ${streamError}</p>` : ''}
                ${job.error
                  ? html`<div class="notice notice--bad" data-testid="job-error">
                      <${IconAlert} />
                      <div>
                        <p><strong>${job.error.message}</strong> <code>${job.error.code}</code></p>
                        ${job.error.hint ? html`<p>${job.error.hint}</p>` : ''}
                        <p class="muted">
                          ${job.error.retryable
                            ? 'Sending the same request again may work.'
                            : 'Sending the same request again will probably fail the same way.'}
                        </p>
                      </div>
                    </div>`
                  : ''}
              </div>

              <div class="detail__info">
                <section aria-labelledby="params-title">
                  <h3 id="params-title">Parameters</h3>
                  <dl class="dl">
                    <${Row} label="Prompt"><span class="prewrap">${job.prompt}</span><//>
                    ${job.negativePrompt ? html`<${Row} label="Negative"><span class="prewrap">${job.negativePrompt}</span><//>` : ''}
                    <${Row} label="Size">${size?.label ?? job.size} · ${job.width}×${job.height}<//>
                    <${Row} label="Duration">${job.durationSeconds} s<//>
                    <${Row} label="Seed" testid="seed">
                      <span class="mono">${job.seed ?? '—'}</span>
                      ${job.seed != null
                        ? html`<button type="button" class="icon-btn icon-btn--small" onClick=${copySeed} aria-label="Copy the seed">
                            ${copied ? html`<span class="small">Copied</span>` : html`<${IconCopy} />`}
                          </button>`
                        : ''}
                    <//>
                    <${Row} label="Prompt expansion">${job.enablePromptExpansion ? 'On' : 'Off'}<//>
                    <${Row} label="Audio">${job.audio ? `${job.audio.fileName} · ${formatSeconds(job.audio.durationSeconds)}` : 'None'}<//>
                  </dl>
                </section>

                <section aria-labelledby="run-title">
                  <h3 id="run-title">Run</h3>
                  <dl class="dl">
                    <${Row} label="Status" testid="detail-status">${STATUS[job.status]?.label ?? job.status}${job.upstreamStatus ? html` · <span class="mono">${job.upstreamStatus}</span>` : ''}<//>
                    ${job.queuePosition ? html`<${Row} label="Queue position">#${job.queuePosition}<//>` : ''}
                    <${Row} label="Cost" testid="cost">${formatCost(job.creativeUnitsCost)}<//>
                    <${Row} label="Created">${formatDateTime(job.createdAt)}<//>
                    ${job.submittedAt ? html`<${Row} label="Sent upstream">${formatDateTime(job.submittedAt)}<//>` : ''}
                    ${job.completedAt ? html`<${Row} label="Finished">${formatDateTime(job.completedAt)} · took ${formatSpan(elapsedSeconds(job, now))}<//>` : ''}
                    ${video
                      ? html`<${Row} label="Video">
                          ${video.width ?? job.width}×${video.height ?? job.height}${video.frameRate ? ` · ${Math.round(video.frameRate * 100) / 100} fps` : ''}${video.durationSeconds ? ` · ${formatSeconds(video.durationSeconds)}` : ''}${video.byteSize ? ` · ${formatBytes(video.byteSize)}` : ''}
                        <//>`
                      : ''}
                    ${job.upstreamJobId ? html`<${Row} label="Upstream job"><span class="mono small">${job.upstreamJobId}</span><//>` : ''}
                  </dl>
                </section>

                <section aria-labelledby="timeline-title">
                  <h3 id="timeline-title">Timeline</h3>
                  ${events.length === 0
                    ? html`<p class="muted small">Loading events…</p>`
                    : html`<ol class="timeline" data-testid="timeline">
                        ${events.map(
                          (event) => html`<li key=${event.seq} class=${`timeline__item tone-${STATUS[event.status]?.tone ?? 'muted'}`}>
                            <time datetime=${event.at}>${formatTime(event.at)}</time>
                            <span class="timeline__what">
                              ${STATUS[event.status]?.label ?? event.status}${event.upstreamStatus ? html` · <span class="mono">${event.upstreamStatus}</span>` : ''}
                              <span class="muted"> · ${Math.round(event.progress * 100)} %</span>
                            </span>
                            ${event.message ? html`<span class="timeline__msg">${event.message}</span>` : ''}
                          </li>`,
                        )}
                      </ol>`}
                </section>
              </div>
            </div>`}
    </div>
    ${confirming && job
      ? html`<${ConfirmDialog}
          title="Delete this video?"
          confirmLabel="Delete"
          busy=${deleting}
          onConfirm=${remove}
          onCancel=${() => setConfirming(false)}
        >
          <p>“${job.prompt.length > 80 ? `${job.prompt.slice(0, 79)}…` : job.prompt}” and its stored files will be removed from the gateway. This cannot be undone.</p>
        <//>`
      : ''}
  </dialog>`;
}
