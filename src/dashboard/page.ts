/**
 * The dashboard page: one HTML document with its style and script inline, held in memory (no
 * files to find next to the build, no build step for the user). Its Content-Security-Policy
 * allows exactly that style and that script (by hash), requests to this origin only, and no
 * framing (a force-release button must not be clickable from someone else's page).
 */
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

const BODY = `
<header>
  <h1><span>holdfast</span> dashboard</h1>
  <span id="status" class="pill quiet">connecting…</span>
  <span id="mode" class="pill quiet"></span>
</header>
<form id="token-form" hidden>
  <input id="token-input" type="password" placeholder="dashboard token" autocomplete="off">
  <button type="submit">Connect</button>
</form>
<p id="notice" hidden></p>
<section>
  <h2>Locks <small><span id="lock-count">0</span> held or waited for</small></h2>
  <table>
    <thead><tr><th>name</th><th>kind</th><th>holders (fence · time left · owner)</th><th>waiters, in order</th><th></th></tr></thead>
    <tbody id="locks"></tbody>
  </table>
  <p id="locks-empty" class="empty">Nothing is held or waited for.</p>
</section>
<section>
  <h2>Rate limiters <small>as seen in the event stream: a limiter shows up once it refuses or queues someone</small></h2>
  <table>
    <thead><tr><th>name</th><th>queue</th><th>refusals (last minute)</th><th></th><th>last activity</th></tr></thead>
    <tbody id="rates"></tbody>
  </table>
  <p id="rates-empty" class="empty">No rate limiter has refused or queued anyone since the dashboard started.</p>
</section>
<section>
  <h2>Events <small>newest first</small></h2>
  <ul id="events"></ul>
</section>
<dialog id="release-dialog">
  <form id="release-form" method="dialog">
    <h3>Force-release <span id="release-name" class="name"></span>?</h3>
    <p>Its holders (<span id="release-holders" class="fence"></span>) lose their lease at their next
      renewal, and the next waiter gets it. Only do this to a holder that is stuck.</p>
    <label for="release-reason">Reason (logged with the release)</label>
    <textarea id="release-reason" maxlength="500" placeholder="e.g. worker 7 hung since 03:12, ticket OPS-42"></textarea>
    <p id="release-error" class="error"></p>
    <div class="buttons">
      <button type="button" id="release-cancel">Cancel</button>
      <button type="submit" id="release-confirm" class="primary-danger">Force-release</button>
    </div>
  </form>
</dialog>
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export interface Page {
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
}

export function page(): Page {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>holdfast dashboard</title>
<style>${PAGE_STYLE}</style>
</head>
<body>${BODY}<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
  const policy = [
    "default-src 'none'",
    `style-src ${sha256(PAGE_STYLE)}`,
    `script-src ${sha256(PAGE_SCRIPT)}`,
    "connect-src 'self'",
    "img-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return {
    html,
    headers: {
      'Content-Security-Policy': policy,
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    },
  };
}
