// Entry point. First of all, the token of a startup link (/?token=…) leaves the address bar.
import { render } from 'preact';
import { html } from './lib/html.js';
import { storedToken, takeTokenFromUrl } from './lib/session.js';
import { App } from './components/app.js';

const fromLink = takeTokenFromUrl();
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(html`<${App} initialToken=${fromLink ?? storedToken()} fromLink=${fromLink !== null} />`, root);
}
