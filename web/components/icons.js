// Inline SVG icons (24×24 strokes), decorative: every button that has one also has a text label.
import { html } from '../lib/html.js';

/**
 * @param {string} paths SVG children
 * @param {string} [className]
 */
const icon = (paths, className = '') => html`<svg
  class=${`icon ${className}`}
  viewBox="0 0 24 24"
  width="18"
  height="18"
  fill="none"
  stroke="currentColor"
  stroke-width="2"
  stroke-linecap="round"
  stroke-linejoin="round"
  aria-hidden="true"
  focusable="false"
  dangerouslySetInnerHTML=${{ __html: paths }}
></svg>`;

export const LogoMark = () => html`<svg class="logo-mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
  <defs>
    <linearGradient id="logo-g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#a78bfa" />
      <stop offset="1" stop-color="#22d3ee" />
    </linearGradient>
  </defs>
  <rect x="2" y="6" width="22" height="20" rx="5" fill="url(#logo-g)" />
  <path d="M24 13l6-3.5v13L24 19z" fill="url(#logo-g)" opacity="0.85" />
  <path d="M11 12.5v7l6-3.5z" fill="#0b0c10" />
</svg>`;

export const IconDownload = () => icon('<path d="M12 3v12"/><path d="M7 10l5 5 5-5"/><path d="M4 20h16"/>');
export const IconRepeat = () => icon('<path d="M17 2l4 4-4 4"/><path d="M3 11v-1a4 4 0 0 1 4-4h14"/><path d="M7 22l-4-4 4-4"/><path d="M21 13v1a4 4 0 0 1-4 4H3"/>');
export const IconStop = () => icon('<circle cx="12" cy="12" r="9"/><rect x="9" y="9" width="6" height="6" rx="1"/>');
export const IconTrash = () => icon('<path d="M3 6h18"/><path d="M8 6V4h8v2"/><path d="M19 6l-1 14H6L5 6"/><path d="M10 11v6M14 11v6"/>');
export const IconClose = () => icon('<path d="M18 6L6 18M6 6l12 12"/>');
export const IconMusic = () => icon('<path d="M9 18V5l12-2v13"/><circle cx="6" cy="18" r="3"/><circle cx="18" cy="16" r="3"/>');
export const IconSearch = () => icon('<circle cx="11" cy="11" r="7"/><path d="M21 21l-4.3-4.3"/>');
export const IconSpark = () => icon('<path d="M12 3l1.9 5.1L19 10l-5.1 1.9L12 17l-1.9-5.1L5 10l5.1-1.9z"/><path d="M19 17l.8 2.2L22 20l-2.2.8L19 23l-.8-2.2L16 20l2.2-.8z"/>');
export const IconAlert = () => icon('<path d="M12 9v4"/><path d="M12 17h.01"/><path d="M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z"/>');
export const IconClock = () => icon('<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>');
export const IconCheck = () => icon('<path d="M20 6L9 17l-5-5"/>');
export const IconX = () => icon('<circle cx="12" cy="12" r="9"/><path d="M15 9l-6 6M9 9l6 6"/>');
export const IconBan = () => icon('<circle cx="12" cy="12" r="9"/><path d="M5.6 5.6l12.8 12.8"/>');
export const IconFilm = () => icon('<rect x="3" y="4" width="18" height="16" rx="2"/><path d="M7 4v16M17 4v16M3 9h4M3 15h4M17 9h4M17 15h4"/>');
export const IconUpload = () => icon('<path d="M12 16V4"/><path d="M7 9l5-5 5 5"/><path d="M4 20h16"/>');
export const IconLogout = () => icon('<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><path d="M16 17l5-5-5-5"/><path d="M21 12H9"/>');
export const IconFilter = () => icon('<path d="M3 5h18l-7 8v6l-4 2v-8z"/>');
export const IconCopy = () => icon('<rect x="9" y="9" width="12" height="12" rx="2"/><path d="M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1"/>');
