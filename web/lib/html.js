// htm bound to Preact's h: JSX-like templates that run in the browser as they are, with no build step.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
