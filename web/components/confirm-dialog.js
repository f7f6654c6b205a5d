// A modal question with two answers; Escape and "Keep" answer no. Focus starts on the safe answer.
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../lib/html.js';

/**
 * @param {{ title: string, children?: any, confirmLabel: string, busy?: boolean, onConfirm: () => void, onCancel: () => void }} props
 */
export function ConfirmDialog({ title, children, confirmLabel, busy = false, onConfirm, onCancel }) {
  const dialog = useRef(/** @type {HTMLDialogElement | null} */ (null));
  const keep = useRef(/** @type {HTMLButtonElement | null} */ (null));
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    keep.current?.focus();
  }, []);
  return html`<dialog
    class="confirm"
    ref=${dialog}
    aria-labelledby="confirm-title"
    aria-describedby="confirm-body"
    onCancel=${(/** @type {Event} */ e) => {
      e.preventDefault();
      onCancel();
    }}
  >
    <h2 id="confirm-title">${title}</h2>
    <div id="confirm-body" class="confirm__body">${children}</div>
    <div class="confirm__actions">
      <button type="button" class="btn" ref=${keep} onClick=${onCancel} disabled=${busy}>Keep it</button>
      <button type="button" class="btn btn--danger" onClick=${onConfirm} disabled=${busy} data-testid="confirm-delete">
        ${busy ? html`<span class="spinner" aria-hidden="true"></span> ` : ''}${confirmLabel}
      </button>
    </div>
  </dialog>`;
}
