/**
 * The dashboard page's script, as the browser runs it (plain ES2020, no framework, no build
 * step). It reads the server-sent events with fetch, so a token can travel in a header rather
 * than in a URL; it builds the DOM with textContent only, so nothing a lock's owner says can
 * become markup. Kept free of backticks and dollar-brace so it can live in a template string.
 */
export const PAGE_SCRIPT = String.raw`
'use strict';
const state = { locks: new Map(), rates: [], events: [], allowRelease: false, maxLeft: new Map() };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    else if (key === 'style') node.style.cssText = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The token comes in the URL's fragment (never sent to a server, nor logged), then lives in this tab.
(function takeToken() {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem('holdfast-token', decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname);
  }
})();

function headers(extra) {
  const token = sessionStorage.getItem('holdfast-token');
  return Object.assign({}, extra, token ? { Authorization: 'Bearer ' + token } : {});
}

function seconds(ms) {
  if (ms >= 60000) return Math.floor(ms / 60000) + ' min ' + Math.floor((ms % 60000) / 1000) + ' s';
  return (ms / 1000).toFixed(1) + ' s';
}

function clock(at) {
  return new Date(at).toLocaleTimeString([], { hour12: false }) + '.' + String(at % 1000).padStart(3, '0');
}

function setStatus(ok, text) {
  const pill = $('status');
  pill.textContent = text;
  pill.className = 'pill ' + (ok ? 'ok' : 'bad');
}

function notice(text) {
  const box = $('notice');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

function holderRow(lock, holder) {
  const key = lock.name + '#' + holder.fence;
  const expiresAt = performance.now() + holder.expiresIn;
  state.maxLeft.set(key, Math.max(state.maxLeft.get(key) || 0, holder.expiresIn));
  return el('li', { class: 'holder', 'data-fence': holder.fence, 'data-expires-at': expiresAt, 'data-key': key },
    el('span', { class: 'fence', title: 'fence' }, '#' + holder.fence),
    holder.permits > 1 || lock.kind === 'semaphore' ? el('span', { class: 'permits' }, holder.permits + ' permit' + (holder.permits === 1 ? '' : 's')) : null,
    el('span', { class: 'left' }, el('span', { class: 'bar' }, el('span', { class: 'fill' })), el('span', { class: 'secs' }, '')),
    el('span', { class: 'owner' }, holder.owner === null ? 'no owner' : holder.owner));
}

function lockRow(lock) {
  const releasable = state.allowRelease && lock.holders.length > 0;
  return el('tr', { 'data-lock': lock.name },
    el('td', { class: 'name' }, lock.name),
    el('td', {}, el('span', { class: 'kind kind-' + (lock.kind || 'unknown') }, lock.kind || '?'),
      lock.kind === 'semaphore' && lock.limit !== null ? el('span', { class: 'limit' }, ' of ' + lock.limit) : null),
    el('td', {}, lock.holders.length === 0 ? el('span', { class: 'muted' }, 'free') : el('ul', { class: 'holders' }, lock.holders.map((h) => holderRow(lock, h)))),
    el('td', {}, lock.waiters.length === 0 ? el('span', { class: 'muted' }, 'none') : el('ol', { class: 'waiters' },
      lock.waiters.map((w) => el('li', { class: 'waiter' }, (w.owner === null ? 'no owner' : w.owner) + (w.permits > 1 ? ' (' + w.permits + ' permits)' : ''))))),
    el('td', { class: 'actions' }, releasable ? el('button', { class: 'danger', 'data-release': lock.name, onclick: () => askRelease(lock) }, 'Force-release…') : null));
}

function renderLocks() {
  const locks = [...state.locks.values()].sort((a, b) => a.name.localeCompare(b.name));
  $('locks').replaceChildren(...locks.map(lockRow));
  $('locks-empty').hidden = locks.length > 0;
  $('lock-count').textContent = String(locks.length);
  tick();
}

function renderRates() {
  $('rates').replaceChildren(...state.rates.map((rate) => {
    const most = Math.max(1, ...rate.refusals);
    return el('tr', { 'data-rate': rate.name },
      el('td', { class: 'name' }, rate.name),
      el('td', {}, el('span', { class: 'queue' }, String(rate.waiting)), rate.waiting === 1 ? ' waiter' : ' waiters'),
      el('td', {}, el('span', { class: 'spark', title: 'refusals per 5 s, last minute' },
        rate.refusals.map((n) => el('span', { class: 'spike', style: 'height:' + Math.round((n / most) * 100) + '%', title: n + ' refused' })))),
      el('td', { class: 'muted' }, rate.refusals.reduce((a, b) => a + b, 0) + ' refused in 60 s'),
      el('td', { class: 'muted' }, clock(rate.lastAt)));
  }));
  $('rates-empty').hidden = state.rates.length > 0;
}

function eventRow(event) {
  return el('li', { class: 'event type-' + event.type },
    el('span', { class: 'at' }, clock(event.at)),
    el('span', { class: 'type' }, event.type),
    el('span', { class: 'name' }, event.name),
    el('span', { class: 'muted' }, event.kind),
    event.fence === null ? null : el('span', { class: 'fence' }, '#' + event.fence),
    event.owner === null ? null : el('span', { class: 'owner' }, event.owner));
}

function addEvent(event) {
  state.events.push(event);
  if (state.events.length > 200) state.events.shift();
  const list = $('events');
  list.prepend(eventRow(event));
  while (list.children.length > 200) list.lastChild.remove();
}

function tick() {
  const now = performance.now();
  for (const item of document.querySelectorAll('li.holder')) {
    const left = Math.max(0, Number(item.dataset.expiresAt) - now);
    const most = state.maxLeft.get(item.dataset.key) || left || 1;
    item.querySelector('.secs').textContent = seconds(left) + ' left';
    item.querySelector('.fill').style.width = Math.round(Math.min(1, left / most) * 100) + '%';
    item.classList.toggle('expiring', left < 2000);
  }
}

function handle(message) {
  switch (message.type) {
    case 'hello':
      state.allowRelease = message.allowRelease;
      $('mode').textContent = message.allowRelease ? 'force-release enabled' : 'read-only';
      $('mode').className = 'pill ' + (message.allowRelease ? 'warn' : 'quiet');
      break;
    case 'locks':
      state.locks = new Map(message.locks.map((lock) => [lock.name, lock]));
      renderLocks();
      break;
    case 'lock':
      state.locks.set(message.lock.name, message.lock);
      renderLocks();
      break;
    case 'gone':
      state.locks.delete(message.name);
      renderLocks();
      break;
    case 'rates':
      state.rates = message.rates;
      renderRates();
      break;
    case 'events':
      $('events').replaceChildren();
      state.events = [];
      message.events.forEach(addEvent);
      break;
    case 'event':
      addEvent(message.event);
      break;
    case 'status':
      setStatus(message.ok, message.message);
      break;
    case 'notice':
      notice(message.message);
      break;
  }
}

async function follow() {
  for (;;) {
    try {
      const res = await fetch('api/events', { headers: headers(), cache: 'no-store' });
      if (res.status === 401) {
        setStatus(false, 'token required');
        $('token-form').hidden = false;
        return;
      }
      if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = buffer.slice(0, end).split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          buffer = buffer.slice(end + 2);
          if (data) handle(JSON.parse(data));
        }
      }
      setStatus(false, 'disconnected: reconnecting');
    } catch (error) {
      setStatus(false, 'dashboard unreachable: reconnecting');
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

let pending = null;

function askRelease(lock) {
  pending = lock;
  $('release-name').textContent = lock.name;
  $('release-holders').textContent = lock.holders.map((h) => '#' + h.fence + (h.owner === null ? '' : ' ' + h.owner)).join(', ');
  $('release-reason').value = '';
  $('release-error').textContent = '';
  $('release-dialog').showModal();
  $('release-reason').focus();
}

async function confirmRelease(event) {
  event.preventDefault();
  const reason = $('release-reason').value.trim();
  if (!pending) return;
  if (!reason) {
    $('release-error').textContent = 'Say why: the reason is logged with the release.';
    return;
  }
  const body = JSON.stringify({ name: pending.name, reason, fences: pending.holders.map((h) => h.fence) });
  try {
    const res = await fetch('api/release', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body });
    const answer = await res.json();
    if (!res.ok) {
      $('release-error').textContent = answer.error || 'HTTP ' + res.status;
      return;
    }
    $('release-dialog').close();
    pending = null;
  } catch (error) {
    $('release-error').textContent = String(error);
  }
}

$('release-form').addEventListener('submit', confirmRelease);
$('release-cancel').addEventListener('click', () => { $('release-dialog').close(); pending = null; });
$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem('holdfast-token', $('token-input').value);
  $('token-form').hidden = true;
  follow();
});
setInterval(tick, 250);
follow();
`;
