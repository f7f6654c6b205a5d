// Short notices at the bottom of the screen (fixed: they never move the page), announced to screen readers.
import { html } from '../lib/html.js';
import { jobHref, noteInAppNavigation } from '../lib/hooks.js';
import { IconClose } from './icons.js';

/**
 * @param {{ studio: import('../lib/studio.js').Studio }} props
 */
export function Toasts({ studio }) {
  const { toasts } = studio.state;
  return html`<div class="toasts" role="status" aria-live="polite" aria-relevant="additions">
    ${toasts.map(
      (toast) => html`<div key=${toast.id} class=${`toast toast--${toast.tone}`} data-testid="toast">
        <span class="toast__text">${toast.text}</span>
        ${toast.jobId
          ? html`<a class="toast__link" href=${jobHref(toast.jobId)} onClick=${() => {
              noteInAppNavigation();
              studio.closeToast(toast.id);
            }}>View</a>`
          : ''}
        <button type="button" class="icon-btn icon-btn--small" onClick=${() => studio.closeToast(toast.id)} aria-label="Dismiss">
          <${IconClose} />
        </button>
      </div>`,
    )}
  </div>`;
}
