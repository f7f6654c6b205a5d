// The live tray: every unfinished job, and the jobs that finished while you watched until you dismiss them.
// It is read again after a reload or a lost connection, so the cards come back with their current state.
import { html } from '../lib/html.js';
import { isTerminal, plural } from '../lib/format.js';
import { JobCard } from './job-card.js';

/**
 * @param {{ studio: import('../lib/studio.js').Studio }} props
 */
export function LiveTray({ studio }) {
  const { trayIds, trayLoaded } = studio.state;
  const jobs = trayIds.map((id) => studio.cache.get(id)).filter((job) => job !== undefined);
  const running = jobs.filter((job) => !isTerminal(job.status)).length;
  const finished = jobs.length - running;
  return html`<section class="tray" aria-labelledby="tray-title" data-testid="tray">
    <header class="section-head">
      <h2 id="tray-title">Live jobs</h2>
      <span class="section-head__count" aria-live="polite">
        ${running > 0 ? `${running} running` : ''}${running > 0 && finished > 0 ? ' · ' : ''}${finished > 0 ? `${finished} finished` : ''}
      </span>
      <span class="spacer"></span>
      ${finished > 0
        ? html`<button type="button" class="btn btn--ghost btn--small" onClick=${() => studio.clearFinished()}>Clear finished</button>`
        : ''}
    </header>
    ${jobs.length === 0
      ? html`<p class="tray__empty">
          ${trayLoaded ? 'Nothing is running. Jobs you start appear here and update live, and stay after they finish until you clear them.' : 'Loading…'}
        </p>`
      : html`<div class="row-grid" aria-label=${plural(jobs.length, 'job')}>
          ${jobs.map(
            (job) => html`<${JobCard} key=${job.id} job=${job} layout="row" onDismiss=${(/** @type {string} */ id) => studio.dismiss(id)} />`,
          )}
        </div>`}
  </section>`;
}
