/**
 * `schedule` on any backend: three instances on a per-second cron, one run per fire time. The
 * "late instance" cases call `runTick` — the handler the scheduler's timer calls at a fire time
 * — directly, as an instance whose clock or event loop runs behind would call it: a second
 * `schedule` started late could not fire a tick that is already past.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import { type Holdfast, ValidationError } from '../../src/index.js';
import { type ScheduledJob, type SkipReason, schedule, tickLockName } from '../../src/recipes/index.js';
import { runTick, type Tick } from '../../src/recipes/schedule.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import { deferred, type RecipeWorld, type RecipeWorldFactory } from './world.js';

interface Outcome {
  readonly instance: number;
  readonly ran: boolean;
  readonly reason?: SkipReason;
}

/** One instance's tick handler; `runTick` reports its outcome, errors land in `errors`. */
function tick(hf: Holdfast, fn: Tick['fn'], skipped: SkipReason[] = [], errors: unknown[] = []): Tick {
  return {
    hf,
    name: 'late-sync',
    ttl: 10_000,
    fn,
    onRun: () => {},
    onSkip: (_, reason) => void skipped.push(reason),
    onError: (error) => void errors.push(error),
  };
}

/** The last whole second: a fire time of a per-second cron. */
function lastSecond(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

export function scheduleSuite(factory: RecipeWorldFactory): void {
  let world: RecipeWorld;
  beforeEach(async () => {
    world = await factory();
  });
  afterEach(async () => {
    await world.close();
  });

  it('3 instances on a per-second cron: exactly one runs each tick, the other two skip', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => world.connect()));
    const byTick = new Map<string, Outcome[]>();
    const errors: unknown[] = [];
    const lockNames: string[] = [];
    const threeTicks = deferred();
    const full = (): Outcome[][] => [...byTick.values()].filter((outcomes) => outcomes.length === 3);
    const record = (fireTime: Date, outcome: Outcome): void => {
      const key = fireTime.toISOString();
      byTick.set(key, [...(byTick.get(key) ?? []), outcome]);
      if (full().length >= 3) threeTicks.resolve();
    };
    const jobs: ScheduledJob[] = clients.map((hf, instance) =>
      schedule(
        hf,
        'sync',
        '* * * * * *',
        (lease, fireTime) => {
          lockNames.push(lease.name);
          record(fireTime, { instance, ran: true });
        },
        {
          ttl: 10_000,
          onSkip: (fireTime, reason) => record(fireTime, { instance, ran: false, reason }),
          onError: (error) => void errors.push(error),
        },
      ),
    );
    try {
      await withTimeout(threeTicks.promise, 10_000, 'three ticks handled by all three instances');
    } finally {
      await Promise.all(jobs.map((job) => job.stop()));
    }
    assert.deepEqual(errors, []);
    for (const [fireTime, outcomes] of byTick) {
      assert.match(fireTime, /:\d\d\.000Z$/);
      assert.ok(outcomes.filter((o) => o.ran).length <= 1, `${fireTime} ran more than once`);
    }
    for (const outcomes of full()) {
      assert.equal(outcomes.filter((o) => o.ran).length, 1);
      assert.deepEqual(
        outcomes.filter((o) => !o.ran).map((o) => o.reason),
        ['taken', 'taken'],
      );
    }
    const [first] = clients as [Holdfast];
    for (const fireTime of byTick.keys()) {
      assert.ok(lockNames.includes(tickLockName('sync', new Date(fireTime))));
      // Detached, not released: each tick stays taken until its TTL.
      assert.equal((await first.inspect(`sync@${fireTime}`))?.holders.length, 1);
    }
  });

  it('an instance that fires a tick after the winner finished still skips it', async () => {
    const [a, b] = (await Promise.all([world.connect(), world.connect()])) as [Holdfast, Holdfast];
    const fireTime = lastSecond();
    const ran: string[] = [];
    const skipped: SkipReason[] = [];
    const winner = tick(a, () => void ran.push('a'), skipped);
    const laggard = tick(b, () => void ran.push('b'), skipped);
    assert.equal(await runTick(winner, fireTime), 'ran');
    assert.equal((await a.inspect(tickLockName('late-sync', fireTime)))?.holders.length, 1);
    // b's timer fires the same tick now, after a's run is over: the lock is still taken.
    assert.equal(await runTick(laggard, fireTime), 'skipped');
    assert.deepEqual(ran, ['a']);
    assert.deepEqual(skipped, ['taken']);
  });

  it('an instance more than ttl late skips without trying, as it could no longer tell', async () => {
    const hf = await world.connect();
    const fireTime = lastSecond();
    const skipped: SkipReason[] = [];
    const late = tick(hf, () => assert.fail('must not run'), skipped);
    assert.equal(await runTick(late, fireTime, fireTime.getTime() + late.ttl), 'skipped');
    assert.deepEqual(skipped, ['late']);
    assert.equal(await hf.inspect(tickLockName('late-sync', fireTime)), null);
  });

  it('errors of the job and of hooks go to onError; the tick stays taken', async () => {
    const hf = await world.connect();
    const failed = deferred<{ error: unknown; fireTime: Date }>();
    const job = schedule(
      hf,
      'failing',
      '* * * * * *',
      () => {
        throw new Error('job failed');
      },
      { ttl: 5000, onError: (error, fireTime) => failed.resolve({ error, fireTime }) },
    );
    try {
      const { error, fireTime } = await withTimeout(failed.promise, 5000, 'onError');
      assert.equal((error as Error).message, 'job failed');
      assert.equal((await hf.inspect(tickLockName('failing', fireTime)))?.holders.length, 1);
    } finally {
      await job.stop();
    }
    const errors: unknown[] = [];
    const hooked: Tick = {
      ...tick(hf, () => {}),
      onRun: () => {
        throw new Error('hook failed');
      },
      onError: (e) => void errors.push(e),
    };
    assert.equal(await runTick(hooked, lastSecond()), 'ran', 'a throwing hook does not stop the run');
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['hook failed'],
    );
  });

  it('nextRun() is the next fire time; stop() and closing the client end the job', async () => {
    const [hf, other] = (await Promise.all([world.connect(), world.connect()])) as [Holdfast, Holdfast];
    const job = schedule(hf, 'idle', '* * * * * *', () => {}, { ttl: 5000 });
    const next = job.nextRun();
    assert.ok(next !== null && next.getMilliseconds() === 0);
    assert.ok(next.getTime() > Date.now() - 1000 && next.getTime() <= Date.now() + 1000);
    await hf.close();
    await waitFor(() => job.nextRun() === null, { timeout: 3000, what: 'the job to stop with its client' });
    const stopped = schedule(other, 'idle', '0 3 * * *', () => {});
    assert.ok(stopped.nextRun());
    await stopped.stop();
    assert.equal(stopped.nextRun(), null);
  });

  it('refuses bad input with ValidationError, synchronously', async () => {
    const hf = await world.connect();
    const noop = (): void => {};
    const bad: Array<[string, () => unknown]> = [
      ['not a cron pattern', () => schedule(hf, 'j', 'every day', noop)],
      ['minute out of range', () => schedule(hf, 'j', '61 * * * *', noop)],
      ['a date, not a pattern', () => schedule(hf, 'j', '2030-01-01T00:00:00', noop)],
      ['empty pattern', () => schedule(hf, 'j', ' ', noop)],
      ['a pattern that never fires', () => schedule(hf, 'j', '0 0 30 2 *', noop)],
      ['unknown time zone', () => schedule(hf, 'j', '0 3 * * *', noop, { timezone: 'Mars/Olympus' })],
      ['ttl 0', () => schedule(hf, 'j', '0 3 * * *', noop, { ttl: 0 })],
      ['empty name', () => schedule(hf, '', '0 3 * * *', noop)],
      ['name too long with the fire time', () => schedule(hf, 'j'.repeat(500), '0 3 * * *', noop)],
      ['fn not a function', () => schedule(hf, 'j', '0 3 * * *', 5 as never)],
      ['onSkip not a function', () => schedule(hf, 'j', '0 3 * * *', noop, { onSkip: 'x' as never })],
      ['unknown option', () => schedule(hf, 'j', '0 3 * * *', noop, { protect: true } as never)],
    ];
    for (const [what, call] of bad) {
      assert.throws(call, (error) => error instanceof ValidationError, what);
    }
  });
}
