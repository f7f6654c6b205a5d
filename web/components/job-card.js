// One job as a card: its thumbnail (or a placeholder of its aspect), status, upstream status, progress, queue
// position, ETA and elapsed time. Every row keeps its height whatever the state, so live updates never move the layout.
import { html } from '../lib/html.js';
import { useNow, jobHref, noteInAppNavigation } from '../lib/hooks.js';
import { STATUS, SIZES, elapsedSeconds, etaLeft, formatAgo, formatClock, formatSpan, isTerminal, sizeShort } from '../lib/format.js';
import { IconBan, IconClock, IconClose, IconMusic, IconX } from './icons.js';

/** @typedef {import('../lib/jobs.js').Job} Job */

/** @param {{ status: string }} props */
export function StatusPill({ status }) {
  const info = STATUS[status] ?? { label: status, tone: 'muted' };
  return html`<span class=${`pill pill--${info.tone}`} data-status=${status}>
    <span class="pill__dot" aria-hidden="true"></span>${info.label}
  </span>`;
}

/**
 * The line under the progress bar: what is happening now, in words.
 * @param {Job} job
 * @param {number} now
 */
export function statusLine(job, now) {
  if (job.status === 'PENDING') {
    return job.queuePosition ? `In the gateway queue · #${job.queuePosition}` : 'Waiting to be sent';
  }
  if (job.status === 'QUEUED') return job.upstreamStatus ? `Queued upstream · ${job.upstreamStatus}` : 'Queued upstream';
  if (job.status === 'IN_PROGRESS') {
    const pct = `${Math.round(job.progress * 100)} %`;
    return job.upstreamStatus === 'success' ? `Storing the video · ${pct}` : `${job.upstreamStatus ?? 'running'} · ${pct}`;
  }
  if (job.status === 'SUCCEEDED') return `Took ${formatSpan(elapsedSeconds(job, now))}`;
  if (job.status === 'FAILED') return job.error?.message ?? 'Failed';
  return 'Canceled';
}

/**
 * @param {{ job: Job }} props
 */
export function JobMedia({ job }) {
  const video = job.videos?.[0];
  const portrait = SIZES[job.size]?.portrait ?? false;
  if (job.status === 'SUCCEEDED' && video?.thumbnailUrl) {
    return html`<img class="media__img" src=${video.thumbnailUrl} alt="" loading="lazy" decoding="async" width=${job.width} height=${job.height} />`;
  }
  const symbol =
    job.status === 'FAILED' ? html`<${IconX} />` : job.status === 'CANCELED' ? html`<${IconBan} />` : job.status === 'PENDING' ? html`<${IconClock} />` : null;
  return html`<div class=${`media__placeholder ${isTerminal(job.status) ? '' : 'is-active'}`}>
    <span class=${`media__frame ${portrait ? 'is-portrait' : ''}`} aria-hidden="true">
      ${symbol ?? html`<span class="media__pct">${Math.round(job.progress * 100)}<small>%</small></span>`}
    </span>
  </div>`;
}

/**
 * @param {{ job: Job, onDismiss?: (id: string) => void, layout?: 'tile' | 'row' }} props
 */
export function JobCard({ job, onDismiss, layout = 'tile' }) {
  const active = !isTerminal(job.status);
  const now = useNow(1000, active);
  const tone = STATUS[job.status]?.tone ?? 'muted';
  const eta = active ? etaLeft(job, now) : null;
  const elapsed = elapsedSeconds(job, now);
  const progress = job.status === 'SUCCEEDED' ? 1 : Math.max(0, Math.min(1, job.progress));
  const label = `${STATUS[job.status]?.label ?? job.status}: ${job.prompt}`;
  return html`<article class=${`job-card job-card--${layout} tone-${tone}`} data-job-id=${job.id} data-status=${job.status}>
    <a class="job-card__link" href=${jobHref(job.id)} onClick=${noteInAppNavigation} aria-label=${label}>
      <div class="job-card__media media">
        <${JobMedia} job=${job} />
        <span class="job-card__pill"><${StatusPill} status=${job.status} /></span>
        <span class="job-card__badge">${job.durationSeconds} s</span>
      </div>
      <div class="job-card__body">
        <p class="job-card__prompt" title=${job.prompt}>${job.prompt}</p>
        <div
          class="progress"
          role="progressbar"
          aria-label="Progress"
          aria-valuemin="0"
          aria-valuemax="100"
          aria-valuenow=${Math.round(progress * 100)}
        >
          <span class="progress__bar" style=${{ transform: `scaleX(${progress})` }}></span>
        </div>
        <p class="job-card__status">
          <span class="job-card__what" data-testid="status-line">${statusLine(job, now)}</span>
          <span class="job-card__time">
            ${active
              ? html`${eta != null ? html`<span data-testid="eta">~${formatSpan(eta)} left</span> · ` : ''}<span data-testid="elapsed">${formatClock(elapsed)}</span>`
              : formatAgo(job.completedAt ?? job.updatedAt, Date.now())}
          </span>
        </p>
        <p class="job-card__meta">
          <span>${sizeShort(job.size)}</span>
          <span>seed ${job.seed ?? '—'}</span>
          ${job.audio ? html`<span class="job-card__audio" title=${job.audio.fileName}><${IconMusic} /> audio</span>` : ''}
        </p>
      </div>
    </a>
    ${onDismiss && !active
      ? html`<button type="button" class="job-card__dismiss icon-btn" onClick=${() => onDismiss(job.id)} aria-label="Remove from this list">
          <${IconClose} />
        </button>`
      : ''}
  </article>`;
}
