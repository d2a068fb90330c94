/**
 * The dashboard end to end, in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core): the CLI serves the page against a spawned Redis; locks taken here and in
 * other processes appear and disappear; a force-release from the page frees a lock held by a
 * process that never releases. Fails (never skips) without /usr/bin/chromium: .ci/run installs it.
 *
 * Every wait is on the page's DOM or a process's message, with generous timeouts: nothing here
 * depends on the machine being idle. The screenshot goes to test-results/dashboard.png (not
 * committed); with HOLDFAST_UPDATE_SCREENSHOT=1 also to docs/dashboard.png, which the README shows.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { connect, type Holdfast } from '../src/index.js';
import { type Child, spawnChild } from './helpers/child.js';
import { type DashboardProcess, startDashboardCli } from './helpers/dashboard.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';
import { withTimeout } from './helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const PREFIX = 'dash:';
const DOM_WAIT = 30_000;
const ROOT = new URL('../', import.meta.url);

let redis: RedisProcess;
let dashboard: DashboardProcess;
let hf: Holdfast;
let browser: Browser;
let page: Page;
const children: Child[] = [];

const row = (name: string): string => `tr[data-lock="${name}"]`;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium`);
  redis = await startRedis();
  hf = await connect(redis.url, { prefix: PREFIX });
  dashboard = await startDashboardCli([redis.url, '--prefix', PREFIX, '--allow-release']);
  browser = await chromium.launch({ executablePath: CHROMIUM, timeout: 60_000 });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(DOM_WAIT);
  await page.goto(dashboard.url);
  await page.waitForSelector('#status.ok');
});

after(async () => {
  await browser?.close();
  await Promise.allSettled(children.map((child) => child.kill()));
  await dashboard?.stop();
  await hf?.close();
  await redis?.stop();
});

it('shows a lock taken by a client, with its fence and owner, and drops it on release', async () => {
  const lease = await hf.mutex('report:daily', { ttl: 30_000, owner: { host: 'web-1' } }).acquire();
  await page.waitForSelector(row('report:daily'));
  const fence = await page.textContent(`${row('report:daily')} .fence`);
  assert.equal(fence, `#${lease.fence}`);
  assert.equal(await page.textContent(`${row('report:daily')} .owner`), '{"host":"web-1"}');
  assert.match((await page.textContent(`${row('report:daily')} .secs`)) ?? '', /\d+\.\d s left/);
  await lease.release();
  await page.waitForSelector(row('report:daily'), { state: 'detached' });
});

it('force-releases, from the page, a lock whose holder never lets go; the next waiter gets it', async () => {
  const holder = await spawnChild(new URL('./dashboard/stuck-holder.ts', import.meta.url), [
    redis.url,
    PREFIX,
    'nightly-sync',
  ]);
  children.push(holder);
  const { fence } = await holder.next<{ type: string; fence: string }>('acquired', 60_000);
  const waiting = hf.mutex('nightly-sync', { ttl: 30_000, owner: { host: 'web-2' } }).acquire({ wait: 120_000 });
  await page.waitForSelector(`${row('nightly-sync')} li.holder[data-fence="${fence}"]`);
  await page.waitForSelector(`${row('nightly-sync')} ol.waiters li`);
  assert.equal(await page.textContent(`${row('nightly-sync')} ol.waiters li`), '{"host":"web-2"}');

  await page.click(`button[data-release="nightly-sync"]`);
  await page.waitForSelector('#release-dialog[open]');
  // Without a reason the page refuses to send it.
  await page.click('#release-confirm');
  await page.waitForSelector('#release-error:has-text("reason")');
  await page.fill('#release-reason', 'batch-7 hung since 03:12 (test)');
  await page.click('#release-confirm');
  await page.waitForSelector('#release-dialog', { state: 'hidden' });

  const lease = await withTimeout(waiting, 60_000, 'the waiter to get the released lock');
  const lost = await holder.next<{ type: string; code: string }>('lost', 60_000);
  assert.equal(lost.code, 'LEASE_LOST');
  await page.waitForSelector(`${row('nightly-sync')} li.holder[data-fence="${lease.fence}"]`);
  await page.waitForSelector('#notice:has-text("force-released")');
  assert.match(
    dashboard.stderr(),
    /force-released "nightly-sync" \(1 holder\(s\)\) for 127\.0\.0\.1: batch-7 hung since 03:12 \(test\)/,
  );
  await lease.release();
  await page.waitForSelector(row('nightly-sync'), { state: 'detached' });
});

it('shows semaphores, waiters in order, rate limiters and the event stream (screenshot)', async () => {
  const others = await Promise.all([connect(redis.url, { prefix: PREFIX }), connect(redis.url, { prefix: PREFIX })]);
  const [a, b] = others as [Holdfast, Holdfast];
  try {
    const job = await hf.mutex('invoice:2026-11', { ttl: 60_000, owner: { host: 'worker-3', pid: 4121 } }).acquire();
    const queued = [
      a.mutex('invoice:2026-11', { owner: { host: 'worker-5' } }).acquire({ wait: 120_000 }),
      b.mutex('invoice:2026-11', { owner: { host: 'worker-8' } }).acquire({ wait: 120_000 }),
    ];
    const agent = hf.semaphore('agent:7', { permits: 3, ttl: 45_000 });
    const permits = [
      await agent.acquire({ owner: { call: 'c-1881' } }),
      await agent.acquire({ owner: { call: 'c-1882' } }),
    ];
    const catalog = await a.rwlock('catalog', { ttl: 20_000 }).read.acquire({ owner: { reader: 'search' } });
    const limiter = hf.rateLimiter('partner-api', { limit: 2, window: 60_000, localRefusals: false });
    for (let i = 0; i < 6; i++) await limiter.tryTake();
    const giveUp = new AbortController();
    const slot = b.rateLimiter('partner-api', { limit: 2, window: 60_000 }).take(1, { signal: giveUp.signal });
    const slotDone = slot.then(
      () => 'admitted',
      () => 'gave up',
    );

    await page.waitForSelector(`${row('invoice:2026-11')} ol.waiters li:nth-child(2)`);
    const order = await page.$$eval(`${row('invoice:2026-11')} ol.waiters li`, (items) =>
      items.map((i) => i.textContent),
    );
    assert.deepEqual(order, ['{"host":"worker-5"}', '{"host":"worker-8"}']);
    await page.waitForSelector(`${row('agent:7')} li.holder:nth-child(2)`);
    await page.waitForSelector(row('catalog'));
    await page.waitForSelector('tr[data-rate="partner-api"] .queue:text-is("1")');
    await page.waitForSelector('#events li.type-rate-limited');

    const results = fileURLToPath(new URL('test-results/', ROOT));
    await mkdir(results, { recursive: true });
    const shot = `${results}dashboard.png`;
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok((await stat(shot)).size > 10_000, 'a screenshot with something in it');
    if (process.env.HOLDFAST_UPDATE_SCREENSHOT === '1') {
      await copyFile(shot, fileURLToPath(new URL('docs/dashboard.png', ROOT)));
    }

    giveUp.abort();
    assert.equal(await slotDone, 'gave up');
    await Promise.all([job.release(), catalog.release(), ...permits.map((p) => p.release())]);
    for (const next of queued) await (await next).release();
  } finally {
    await Promise.all(others.map((client) => client.close()));
  }
});
